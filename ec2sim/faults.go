package ec2sim

import "time"

// Bucket is the size and refill rate of one of EC2's API token buckets.
type Bucket struct {
	Capacity float64 // tokens when full
	Refill   float64 // tokens added per second (before ThrottleScale)
}

// Buckets are EC2's documented request-rate buckets for the actions the
// simulator serves (ec2-api-throttling in the EC2 developer guide):
// non-mutating 100/20, mutating 50/5, CreateTags and DeleteTags 100/10.
// GetCallerIdentity is not throttled.
var Buckets = map[string]Bucket{
	"DescribeFpgaImages":         {100, 20},
	"DescribeFpgaImageAttribute": {100, 20},
	"DescribeRegions":            {100, 20},
	"DescribeTags":               {100, 20},
	"CopyFpgaImage":              {50, 5},
	"CreateFpgaImage":            {50, 5},
	"DeleteFpgaImage":            {50, 5},
	"ModifyFpgaImageAttribute":   {50, 5},
	"ResetFpgaImageAttribute":    {50, 5},
	"CreateTags":                 {100, 10},
	"DeleteTags":                 {100, 10},
}

type bucketKey struct{ account, region, action string }

type bucket struct {
	tokens float64
	last   time.Time
}

// take removes a token from the call's bucket, refilled lazily from the
// clock. It reports false when the bucket is empty. s.mu must be held.
func (s *Sim) take(c *call) bool {
	spec, ok := Buckets[c.action]
	if !ok {
		return true
	}
	k := bucketKey{c.account, c.region, c.action}
	b := s.buckets[k]
	if b == nil {
		b = &bucket{tokens: spec.Capacity, last: c.now}
		s.buckets[k] = b
	}
	if dt := c.now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(spec.Capacity, b.tokens+dt*spec.Refill*s.scale)
		b.last = c.now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

type fault struct {
	n      int
	code   string
	status int
}

// InjectFault makes the next n calls of action (in any account and Region)
// fail with code and HTTP status, before any state changes, throttling or
// other faults. Faults for the same action queue up in order. Well-known codes
// (RequestLimitExceeded, InternalError, Unavailable, UnauthorizedOperation,
// DryRunOperation, IdempotentParameterMismatch) get EC2's message.
func (s *Sim) InjectFault(action string, n int, code string, status int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.faults[action] = append(s.faults[action], fault{n: n, code: code, status: status})
	s.mu.Unlock()
}

// ClearFaults drops every pending injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	s.faults = map[string][]fault{}
	s.mu.Unlock()
}
