package executor_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/report"
)

// triggerClock is a simClock whose AfterFunc timers (the run's deadline and
// its grace after a stop) fire only when the test says time has run out,
// and at once after that: tests of stalled calls never wait for real time.
type triggerClock struct {
	simClock
	mu    sync.Mutex
	fired bool
	fs    []func()
}

func (c *triggerClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fired {
		go f()
		return func() bool { return false }
	}
	c.fs = append(c.fs, f)
	return func() bool { return true }
}

// fire makes every timer set so far, and every later one, go off.
func (c *triggerClock) fire() {
	c.mu.Lock()
	c.fired = true
	fs := c.fs
	c.fs = nil
	c.mu.Unlock()
	for _, f := range fs {
		go f()
	}
}

// stallingWorld serves the simulator, except that calls of one action never
// get an answer: each one is announced on arrived and held until the client
// gives up (or the test ends).
func stallingWorld(t *testing.T, action string) (*world, <-chan struct{}) {
	t.Helper()
	w := newWorld(t, ec2sim.Options{})
	arrived := make(chan struct{}, 100)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if strings.Contains(string(body), "Action="+action+"&") {
			arrived <- struct{}{}
			select {
			case <-req.Context().Done():
			case <-done:
			}
			return
		}
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		w.sim.ServeHTTP(rw, req)
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	w.srv = srv
	return w, arrived
}

func stallClient(t *testing.T, w *world) *afi.Client {
	t.Helper()
	c, err := afi.New(context.Background(), afi.Config{
		Region: "us-east-1", EndpointURL: w.srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Limits:      map[string]afi.Limit{},
		Backoff:     func(int, error) time.Duration { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runStalled runs a sync whose CopyFpgaImage calls never return, and calls
// stop once the first one has arrived.
func runStalled(t *testing.T, stop func(context.CancelFunc, *triggerClock)) (*report.Report, error) {
	t.Helper()
	w, arrived := stallingWorld(t, "CopyFpgaImage")
	srcs := w.seed("us-east-1", 3)
	clock := &triggerClock{simClock: simClock{w.clock, &w.sleeps}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-arrived
		stop(cancel, clock)
	}()
	type out struct {
		rep *report.Report
		err error
	}
	res := make(chan out, 1)
	go func() {
		rep, err := executor.Run(ctx, stallClient(t, w), mkPlan(t, srcs, []string{"us-west-2"}, ""),
			executor.Options{Wait: true, Concurrency: 1, Timeout: 10 * time.Second, Clock: clock})
		res <- out{rep, err}
	}()
	select {
	case o := <-res:
		return o.rep, o.err
	case <-time.After(time.Minute): // a hang detector, not a timing assertion
		t.Fatal("Run did not return after its deadline or an interrupt with a call stalled")
		return nil, nil
	}
}

func TestDeadlineStopsAStalledCall(t *testing.T) {
	rep, err := runStalled(t, func(_ context.CancelFunc, c *triggerClock) { c.fire() })
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.ExitCode(false) != 1 || rep.Interrupted {
		t.Errorf("exit %d, interrupted %v; want 1, false", rep.ExitCode(false), rep.Interrupted)
	}
	if rep.Summary[report.StatusTimedOut] != 3 || len(rep.Targets) != 3 {
		t.Errorf("want 3 timed-out targets:\n%s", text(rep))
	}
	for _, tg := range rep.Targets {
		if !strings.Contains(tg.Message, "--timeout of 10s passed") {
			t.Errorf("target %s: message %q does not say the deadline passed", tg.SourceAFI, tg.Message)
		}
	}
	for _, want := range []string{"--timeout of 10s passed", "CopyFpgaImage in us-west-2 at http://127.0.0.1:"} {
		if !strings.Contains(rep.Error, want) {
			t.Errorf("report error %q lacks %q", rep.Error, want)
		}
	}
}

func TestInterruptStopsAStalledCall(t *testing.T) {
	rep, err := runStalled(t, func(cancel context.CancelFunc, c *triggerClock) {
		c.fire() // the grace for calls in flight passes at once
		cancel()
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rep.Interrupted || rep.ExitCode(false) != 1 || rep.Error != "" {
		t.Errorf("interrupted %v, exit %d, error %q; want true, 1, none", rep.Interrupted, rep.ExitCode(false), rep.Error)
	}
	if rep.Summary[report.StatusFailed] != 3 {
		t.Errorf("want 3 failed (1 cut short, 2 not started):\n%s", text(rep))
	}
	var cut, notStarted int
	for _, tg := range rep.Targets {
		switch {
		case strings.Contains(tg.Message, "cut short: interrupted"):
			cut++
		case tg.Message == "not started: interrupted":
			notStarted++
		}
	}
	if cut != 1 || notStarted != 2 {
		t.Errorf("%d cut short, %d not started; want 1, 2:\n%s", cut, notStarted, text(rep))
	}
}

func TestDeadlineDuringInventory(t *testing.T) {
	w, arrived := stallingWorld(t, "DescribeFpgaImages")
	srcs := w.seed("us-east-1", 2)
	clock := &triggerClock{simClock: simClock{w.clock, &w.sleeps}}
	go func() {
		<-arrived
		clock.fire()
	}()
	rep, err := executor.Run(context.Background(), stallClient(t, w), mkPlan(t, srcs, []string{"us-west-2"}, ""),
		executor.Options{Timeout: time.Minute, Clock: clock})
	if err == nil || rep == nil {
		t.Fatalf("Run = %v, %v; want a report and an error", rep, err)
	}
	if len(rep.Targets) != 0 || rep.ExitCode(false) != 1 {
		t.Errorf("want no targets and exit 1:\n%s", text(rep))
	}
	if want := "DescribeFpgaImages in us-"; !strings.Contains(rep.Error, want) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q / report error %q should name %q", err, rep.Error, want)
	}
}

func TestAttemptTimeoutRetriesAStalledAttempt(t *testing.T) {
	// The first CopyFpgaImage attempt gets no answer; the SDK abandons it
	// after AttemptTimeout and the retry, with the same ClientToken,
	// makes exactly one copy.
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 1)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		stall := false
		if strings.Contains(string(body), "Action=CopyFpgaImage&") {
			once.Do(func() { stall = true })
		}
		if stall {
			w.sim.ServeHTTP(httptest.NewRecorder(), req) // made, then no answer
			<-req.Context().Done()
			return
		}
		w.sim.ServeHTTP(rw, req)
	}))
	t.Cleanup(srv.Close)
	w.srv = srv
	c := w.client(afi.Config{AttemptTimeout: time.Second}) // generous: only the stalled attempt may time out
	rep := w.runWith(context.Background(), c, mkPlan(t, srcs, []string{"us-west-2"}, ""), executor.Options{})
	if rep.Summary[report.StatusCopying] != 1 {
		t.Fatalf("want 1 copying:\n%s", text(rep))
	}
	if n := len(w.copies(srcs[0], "us-west-2")); n != 1 {
		t.Errorf("%d copies, want 1", n)
	}
}
