package ec2sim

import (
	"sync"
	"time"
)

// Clock tells the simulator the time. AFI states, token buckets and
// timestamps all derive from it.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to. It is safe for
// concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a ManualClock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backwards if d is negative).
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// OffsetClock is real time plus an offset that Advance increases. afisync sim
// uses it so that a client (or a test) can skip ahead through
// POST /_sim/clock/advance without waiting for copies to finish. It is safe
// for concurrent use.
type OffsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

// NewOffsetClock returns an OffsetClock that starts at real time.
func NewOffsetClock() *OffsetClock { return &OffsetClock{} }

// Now returns real time plus the accumulated offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance adds d to the offset.
func (c *OffsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// advancer is implemented by clocks that /_sim/clock/advance can move.
type advancer interface{ Advance(time.Duration) }
