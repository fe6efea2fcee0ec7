package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
)

// ConcurrentCase is Procs syncs at once in one account, each of its own
// plan over AFIs sources of its own into Regions regions, as separate
// afisync processes (each with its own pacer) would run them, against EC2's
// buckets sped up Scale times, with Latency per call (divided by Scale).
// Each is a plain sync (no --wait, copies finish at once), as in the
// throttled scenarios: together they ask for Procs times what one pacer
// allows, and afisync must slow down, not fail.
type ConcurrentCase struct {
	Procs, AFIs, Regions int
	Scale                float64       // 0: DefaultScale
	Latency              time.Duration // unscaled; 0: DefaultLatency; negative: none
	Seed                 int64
	InMemory             bool
}

// Name is "P × N×R".
func (c ConcurrentCase) Name() string {
	return fmt.Sprintf("%d × %d×%d", c.Procs, c.AFIs, c.Regions)
}

// ConcurrentResult is the outcome of a ConcurrentCase.
type ConcurrentResult struct {
	Name    string
	Procs   int
	Targets int
	// Failed counts bad targets in the reports; must be 0.
	Failed int
	Why    string
	Inv    ClaimInvariants
	Calls  CallCounts
	// MinCalls is the fewest calls the syncs can make together: each its
	// STS call and inventory pages, and one copy and one tag call per
	// target.
	MinCalls int
	// Wall is from the first sync's start to the last one's end; Ideal
	// is the throttle-bound floor of all the copies in the account's
	// buckets (both scaled).
	Wall, Ideal time.Duration
}

// Ratio is Wall / Ideal (0 when the ideal is 0).
func (r ConcurrentResult) Ratio() float64 {
	if r.Ideal <= 0 {
		return 0
	}
	return float64(r.Wall) / float64(r.Ideal)
}

// RunConcurrent runs a ConcurrentCase.
func RunConcurrent(ctx context.Context, c ConcurrentCase) (ConcurrentResult, error) {
	if c.Scale <= 0 {
		c.Scale = DefaultScale
	}
	if c.Latency == 0 {
		c.Latency = DefaultLatency
	}
	so := ec2sim.Options{Throttle: true, ThrottleScale: c.Scale, Seed: c.Seed, CopyTime: ec2sim.NoDelay}
	if c.Latency > 0 {
		so.Latency = time.Duration(float64(c.Latency) / c.Scale)
	}
	e, err := NewEnv(EnvOptions{AFIs: c.Procs * c.AFIs, Regions: c.Regions, Sim: so, InMemory: c.InMemory})
	if err != nil {
		return ConcurrentResult{}, err
	}
	defer e.Close()
	s := scaled{e: e, scale: c.Scale}
	plans := make([]*plan.Plan, c.Procs)
	for i := range plans {
		if plans[i], err = e.NamedPlan(fmt.Sprintf("proc-%d", i), e.Sources[i*c.AFIs:(i+1)*c.AFIs], nil); err != nil {
			return ConcurrentResult{}, err
		}
	}
	// Each process: STS, and one inventory page per 1000 owned AFIs in
	// each region it involves; copies and tags are counted once.
	one := e.MinCalls() - 2*e.Targets()
	res := ConcurrentResult{
		Name:     c.Name(),
		Procs:    c.Procs,
		Targets:  e.Targets(),
		MinCalls: c.Procs*one + 2*e.Targets(),
		Ideal:    Ideal(e.MissingPerRegion(), c.Scale),
	}
	start := time.Now()
	reps, err := s.syncAll(ctx, plans, same(c.Procs, executor.Options{}))
	res.Wall = time.Since(start)
	if err != nil {
		return res, err
	}
	for _, r := range reps {
		res.Failed += badTargets(r)
		if res.Why == "" {
			res.Why = why(r)
		}
	}
	res.Calls = e.Calls()
	res.Inv = e.checkClaims(plans, nil, nil, nil, reps...)
	return res, nil
}

// ThrottledShare is throttled responses per call.
func (r ConcurrentResult) ThrottledShare() float64 {
	if r.Calls.Total == 0 {
		return 0
	}
	return float64(r.Calls.Throttled) / float64(r.Calls.Total)
}
