package bench

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Outage is a stretch of a run in which the endpoint stops working, the way
// a hung endpoint, proxy or firewall (Stall) or a dead one (down) does.
type Outage struct {
	// Stall makes the endpoint accept each request and never answer it:
	// the client must give the attempt up (afi.Config.AttemptTimeout).
	// Otherwise the endpoint is down: it refuses connections and drops the
	// ones open, as when its process dies.
	Stall bool
	// After is the number of API calls the endpoint answers before the
	// outage begins (0: none).
	After int
	// For is how long the outage lasts, on the real clock (a synctest
	// bubble's in tests); 0: until the run ends. Fault cases give it
	// unscaled.
	For time.Duration
}

// On reports whether the outage is configured.
func (o Outage) On() bool { return o.Stall || o.After > 0 || o.For > 0 }

// outageState counts API calls and says, for each, whether the outage
// holds it. down and up take an endpoint served on a socket down and back
// up (nil for an in-process one).
type outageState struct {
	o        Outage
	mu       sync.Mutex
	calls    int
	begun    bool
	over     bool
	hits     int
	down, up func()
	quit     chan struct{} // closed by Env.Close
}

// enter counts one API call and reports whether it falls in the outage; the
// call that reaches After+1 begins it.
func (s *outageState) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if !s.begun && s.calls > s.o.After {
		s.begun = true
		if !s.o.Stall && s.down != nil {
			s.down()
		}
		if s.o.For > 0 {
			time.AfterFunc(s.o.For, s.end)
		}
	}
	in := s.begun && !s.over
	if in {
		s.hits++
	}
	return in
}

func (s *outageState) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.over = true
	if !s.o.Stall && s.up != nil {
		s.up()
	}
}

// clear ends the outage at once, for a rerun.
func (s *outageState) clear() {
	s.mu.Lock()
	done := s.over
	s.mu.Unlock()
	if !done {
		s.end()
	}
}

// Hits is the number of API calls that met the outage.
func (s *outageState) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// errDown, panicked by the outage handler, makes the in-process transport
// answer as a client does when the connection is refused.
var errDown = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

// outageHandler puts s in front of h.
type outageHandler struct {
	h        http.Handler
	s        *outageState
	inMemory bool
}

func (o outageHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") || !o.s.enter() {
		o.h.ServeHTTP(w, r)
		return
	}
	switch {
	case o.s.o.Stall:
		// Accept the request and never answer it. Reading the body lets
		// the server notice when the client hangs up; closing the
		// Env ends the wait too.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-o.s.quit:
		}
	case o.inMemory:
		panic(errDown)
	default:
		// The server went down with this request (enter closed the
		// listener and every connection): no answer.
		panic(http.ErrAbortHandler)
	}
}

// kill takes a socket-served endpoint down: no new connection is accepted
// and the open ones are closed.
func (e *Env) kill() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.srv.Listener.Close()
	for _, ln := range e.extra {
		ln.Close()
	}
	e.srv.CloseClientConnections()
}

// revive serves a killed endpoint again on the same address.
func (e *Env) revive() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	ln, err := net.Listen("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		return // the port was taken meanwhile: the endpoint stays down
	}
	e.extra = append(e.extra, ln)
	go e.srv.Config.Serve(ln)
}
