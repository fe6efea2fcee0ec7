package afi

import (
	"context"
	"errors"
	"sort"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Limit is a client-side token bucket: Rate requests per second sustained,
// Burst at once.
type Limit struct {
	Rate  float64
	Burst int
}

// DefaultLimits pace each action per region a little below EC2's own
// per-account, per-region, per-action token buckets (see
// docs/aws-afi-api.md §6), so that a large sync is paced rather than
// throttled. Each is 96% of EC2's refill rate and bucket size: close enough
// that a sync of 500 AFIs × 8 regions runs within 5% of the throttle-bound
// ideal, with a margin of 4% (and two bucket tokens) for the account's other
// callers and for the client's and EC2's clocks starting their buckets at
// slightly different times (docs/performance.md). Actions not listed are
// not paced.
var DefaultLimits = map[string]Limit{
	// EC2 non-mutating bucket: 100 capacity, 20/s refill.
	"DescribeFpgaImages":         {Rate: 19.2, Burst: 96},
	"DescribeFpgaImageAttribute": {Rate: 19.2, Burst: 96},
	// EC2 mutating bucket: 50 capacity, 5/s refill.
	"CopyFpgaImage":            {Rate: 4.8, Burst: 48},
	"DeleteFpgaImage":          {Rate: 4.8, Burst: 48},
	"ModifyFpgaImageAttribute": {Rate: 4.8, Burst: 48},
	"ResetFpgaImageAttribute":  {Rate: 4.8, Burst: 48},
	// CreateTags and DeleteTags have their own buckets: 100 capacity, 10/s.
	"CreateTags": {Rate: 9.6, Burst: 96},
	"DeleteTags": {Rate: 9.6, Burst: 96},
}

// middleware returns the stack additions every client of this Client gets:
// a per-attempt pacer and a per-attempt counter.
func (c *Client) middleware(region string) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{
		func(s *middleware.Stack) error {
			// After Retry and before Signing: every attempt, retries
			// included, waits for its token, and is signed after the wait.
			return s.Finalize.Insert(middleware.FinalizeMiddlewareFunc("afisync.Pace",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if l := c.limiterFor(region, awsmiddleware.GetOperationName(ctx)); l != nil {
						if err := l.Wait(ctx); err != nil {
							return middleware.FinalizeOutput{}, middleware.Metadata{}, err
						}
					}
					return next.HandleFinalize(ctx, in)
				}), "Retry", middleware.After)
		},
		func(s *middleware.Stack) error {
			// Outermost in the deserialize step, so it sees each attempt's
			// parsed error.
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("afisync.Count",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					c.stats.record(region, awsmiddleware.GetOperationName(ctx), err)
					return out, md, err
				}), middleware.Before)
		},
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
	mu sync.Mutex
	m  map[CallKey]*CallCount
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

func newStats() *Stats { return &Stats{m: map[CallKey]*CallCount{}} }

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
