package afi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/time/rate"
)

// plainStream hides the WriteTo method of a request's body. smithy-go
// wraps the body in a reader whose WriteTo answers io.EOF once the SDK has
// closed it; net/http reads a body once more after its Content-Length, and
// when the response beats that read (as it often does with a cancellable
// context), the transport takes the io.EOF for a write error, closes the
// connection under the response, and the SDK retries a call that had
// succeeded. A plain Read after Close returns (0, io.EOF), which net/http
// handles. Seek stays, for rewinding on retries.
func plainStream(req *smithyhttp.Request) *smithyhttp.Request {
	s := req.GetStream()
	rs, seekable := s.(io.ReadSeeker)
	if _, writerTo := s.(io.WriterTo); !seekable || !writerTo {
		return req
	}
	if r, err := req.SetStream(struct{ io.ReadSeeker }{rs}); err == nil {
		return r
	}
	return req
}

// AttemptTimeoutError is an HTTP attempt that had no complete answer within
// Config.AttemptTimeout. The SDK retries it like a connection error.
type AttemptTimeoutError struct {
	Action, Region string
	Endpoint       string // scheme://host
	After          time.Duration
}

func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("%s in %s: no answer from %s within %s", e.Action, e.Region, e.Endpoint, e.After)
}

// RetryableError tells the SDK's retryer to try again.
func (e *AttemptTimeoutError) RetryableError() bool { return true }

// Timeout marks the error as a timeout.
func (e *AttemptTimeoutError) Timeout() bool { return true }

// Limit is a client-side token bucket: Rate requests per second sustained,
// Burst at once.
type Limit struct {
	Rate  float64
	Burst int
}

// DefaultLimits pace each action per region at EC2's own per-account,
// per-region, per-action token buckets (see docs/aws-afi-api.md §6): the
// bucket's refill rate exactly, and a burst of its size less one token.
// That one token is the only margin: it lets a call reach EC2 up to one
// refill interval (200 ms for CopyFpgaImage) earlier, relative to the
// others, than the client sent it (latency and scheduling jitter), so a
// process that has the account's buckets to itself is never throttled,
// and it costs one refill interval a region (docs/performance.md). The
// rest is learned from EC2's answers rather than assumed (Client.adapt):
// a throttled answer means the account's bucket is empty, because other
// callers share it or it was not full when the run began. Actions not
// listed are not paced.
var DefaultLimits = map[string]Limit{
	// EC2 non-mutating bucket: 100 capacity, 20/s refill.
	"DescribeFpgaImages":         {Rate: 20, Burst: 99},
	"DescribeFpgaImageAttribute": {Rate: 20, Burst: 99},
	// EC2 mutating bucket: 50 capacity, 5/s refill.
	"CopyFpgaImage":            {Rate: 5, Burst: 49},
	"CreateFpgaImage":          {Rate: 5, Burst: 49},
	"DeleteFpgaImage":          {Rate: 5, Burst: 49},
	"ModifyFpgaImageAttribute": {Rate: 5, Burst: 49},
	"ResetFpgaImageAttribute":  {Rate: 5, Burst: 49},
	// CreateTags and DeleteTags have their own buckets: 100 capacity, 10/s.
	"CreateTags": {Rate: 10, Burst: 99},
	"DeleteTags": {Rate: 10, Burst: 99},
}

// middleware returns the stack additions every client of this Client gets:
// throttled calls retried until the context ends, a per-attempt pacer and
// a per-attempt counter.
func (c *Client) middleware(region string) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{
		func(s *middleware.Stack) error {
			// Before Retry: when every attempt the SDK made was
			// throttled, wait and let it try again. Throttling is EC2
			// saying "slower" (other processes share the account's
			// buckets), never "no": only the run's deadline ends it.
			return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("afisync.RetryThrottled",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					for round := 1; ; round++ {
						if req, ok := in.Request.(*smithyhttp.Request); ok && round > 1 {
							// The SDK rewinds the body between its own
							// attempts, not before its first.
							if err := req.RewindStream(); err != nil {
								return middleware.FinalizeOutput{}, middleware.Metadata{}, err
							}
						}
						out, md, err := next.HandleFinalize(ctx, in)
						if err == nil || !isThrottle(err) || ctx.Err() != nil {
							return out, md, err
						}
						if werr := sleepCtx(ctx, c.throttleBackoff(round, err)); werr != nil {
							return out, md, err
						}
					}
				}), "Retry", middleware.Before)
		},
		func(s *middleware.Stack) error {
			// After Retry and before Signing: every attempt, retries
			// included, waits for its token, and is signed after the wait.
			return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("afisync.Pace",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					action := awsmiddleware.GetOperationName(ctx)
					if l := c.limiterFor(region, action); l != nil {
						if err := l.Wait(ctx); err != nil {
							return middleware.FinalizeOutput{}, middleware.Metadata{}, err
						}
					}
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						in.Request = plainStream(req)
					}
					// Each attempt, the response body included, has its own
					// deadline: a stalled attempt is abandoned and retried.
					actx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
					_ = cancel
					out, md, err := next.HandleFinalize(actx, in)
					if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
						te := &AttemptTimeoutError{Action: action, Region: region, After: c.attemptTimeout}
						if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
							te.Endpoint = req.URL.Scheme + "://" + req.URL.Host
						}
						err = te
					}
					return out, md, err
				}), "Retry", middleware.After)
		},
		func(s *middleware.Stack) error {
			// Outermost in the deserialize step, so it sees each attempt's
			// parsed error.
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("afisync.Count",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					call := InFlight{Region: region, Action: awsmiddleware.GetOperationName(ctx), Since: time.Now()}
					if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
						call.Endpoint = req.URL.Scheme + "://" + req.URL.Host
					}
					done := c.stats.start(call)
					out, md, err := next.HandleDeserialize(ctx, in)
					done()
					c.stats.record(region, call.Action, err)
					c.adapt(region, call.Action, isThrottle(err))
					if err != nil {
						c.stats.mu.Lock()
						c.stats.last = &FailedAttempt{call, err}
						c.stats.mu.Unlock()
					}
					return out, md, err
				}), middleware.Before)
		},
	}
}

// isThrottle reports whether err is EC2 (or the SDK) saying "slower".
func isThrottle(err error) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	return throttles.IsErrorThrottle(err).Bool() || (errors.As(err, &ae) && ae.ErrorCode() == "RequestLimitExceeded")
}

// throttleBackoff is the wait before another round of attempts after a
// round that was throttled throughout: Config.Backoff when set, else
// 1 s doubling to DefaultMaxBackoff, with jitter.
func (c *Client) throttleBackoff(round int, err error) time.Duration {
	if c.backoff != nil {
		return c.backoff(round, err)
	}
	d := min(time.Second<<min(round-1, 5), DefaultMaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// adapt moves a region and action's pacing after each attempt, learning
// the account's bucket from EC2's answers:
//
//   - A throttled answer means EC2's bucket is empty now, so the pacer's
//     is emptied too: tokens it still holds (a burst the account's bucket
//     no longer has, because other callers spent it or an earlier run had
//     not let it refill) are not thrown at an empty bucket.
//   - It also cuts the rate by a fifth (at most once a second, and never
//     below a quarter of the configured rate); each answer that is not
//     throttled gives back a twentieth of it. Several processes, or other
//     tools, sharing an account's buckets thus settle near them together
//     instead of each assuming it has them to itself.
func (c *Client) adapt(region, action string, throttled bool) {
	l := c.limiterFor(region, action)
	if l == nil {
		return
	}
	base := rate.Limit(c.limits[action].Rate * c.scale)
	cur := l.Limit()
	switch {
	case throttled:
		now := time.Now()
		drain(l, now)
		key := region + "/" + action
		c.mu.Lock()
		last := c.lastCut[key]
		if now.Sub(last) >= time.Second {
			c.lastCut[key] = now
		}
		c.mu.Unlock()
		if now.Sub(last) >= time.Second {
			l.SetLimit(max(cur*0.8, base/4))
		}
	case cur < base:
		l.SetLimit(min(cur+base/20, base))
	}
}

// drain takes every whole token l holds at now, so that its next call waits
// for the refill: what the account's bucket has after a throttled answer.
func drain(l *rate.Limiter, now time.Time) {
	if n := int(l.TokensAt(now)); n > 0 {
		l.ReserveN(now, n)
	}
}

func (c *Client) limiterFor(region, action string) *rate.Limiter {
	lim, ok := c.limits[action]
	if !ok || lim.Rate <= 0 {
		return nil
	}
	key := region + "/" + action
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.limiter[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(lim.Rate*c.scale), max(lim.Burst, 1))
		c.limiter[key] = l
	}
	return l
}

// Stats counts the HTTP attempts a Client made.
type Stats struct {
	mu       sync.Mutex
	m        map[CallKey]*CallCount
	next     uint64
	inflight map[uint64]InFlight
	last     *FailedAttempt
}

// FailedAttempt is an HTTP attempt that ended in an error.
type FailedAttempt struct {
	InFlight
	Err error
}

// LastFailure returns the most recent attempt that failed (nil if none):
// with InFlight, what a run that hit its deadline can say it was stuck on.
func (c *Client) LastFailure() *FailedAttempt {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	return c.stats.last
}

// InFlight is an HTTP attempt that has not been answered yet.
type InFlight struct {
	Region, Action string
	Endpoint       string    // scheme://host the attempt went to
	Since          time.Time // when the attempt was sent
}

func (s *Stats) start(call InFlight) (done func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := s.next
	s.inflight[id] = call
	return func() {
		s.mu.Lock()
		delete(s.inflight, id)
		s.mu.Unlock()
	}
}

// InFlight returns the attempts still waiting for an answer, oldest first:
// what a run that hit its deadline was waiting for.
func (c *Client) InFlight() []InFlight {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	out := make([]InFlight, 0, len(c.stats.inflight))
	for _, v := range c.stats.inflight {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

// CallKey identifies a counter: one action in one region.
type CallKey struct {
	Region, Action string
}

// CallCount is what was counted for one CallKey. Attempts counts every HTTP
// attempt (retries included); Throttled the attempts answered with a
// throttling error; Errors every other failed attempt.
type CallCount struct {
	Attempts, Throttled, Errors int
}

func newStats() *Stats {
	return &Stats{m: map[CallKey]*CallCount{}, inflight: map[uint64]InFlight{}}
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

func (s *Stats) record(region, action string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := CallKey{region, action}
	cc := s.m[k]
	if cc == nil {
		cc = &CallCount{}
		s.m[k] = cc
	}
	cc.Attempts++
	if err == nil {
		return
	}
	var ae smithy.APIError
	if throttles.IsErrorThrottle(err).Bool() || (errors.As(err, &ae) && ae.ErrorCode() == "RequestLimitExceeded") {
		cc.Throttled++
	} else {
		cc.Errors++
	}
}

// CallStat is one row of Client.Calls.
type CallStat struct {
	CallKey
	CallCount
}

// Calls returns what the client has counted, sorted by region and action.
func (c *Client) Calls() []CallStat {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	out := make([]CallStat, 0, len(c.stats.m))
	for k, v := range c.stats.m {
		out = append(out, CallStat{k, *v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Action < out[j].Action
	})
	return out
}
