package bench

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// ShareAccount is the account a WaitCase with Share shares its copies with.
const ShareAccount = "444455556666"

// WaitCase is one `sync --wait` row (issue 13): AFIs sources copied into
// Regions regions against EC2's buckets sped up Scale times, with copies
// that stay pending CopyTime ± Jitter, optionally shared with one account
// (share_with), optionally with sources still being built when the run
// starts, and optionally followed by an in-sync rerun (a plain sync of the
// same plan, as the next cron run makes).
type WaitCase struct {
	Name          string
	AFIs, Regions int
	Scale         float64       // 0: DefaultScale
	Latency       time.Duration // unscaled; 0: DefaultLatency; negative: none
	// CopyTime is how long a copy stays pending, unscaled (0: 30 s); each
	// copy's is drawn from CopyTime × (1 ± Jitter).
	CopyTime time.Duration
	Jitter   float64
	// Share gives every entry `share_with: [ShareAccount]`.
	Share bool
	// Pending are sources still being built when the run starts, listed
	// in the plan after the AFIs ready ones.
	Pending []PendingSource
	// Rerun runs a plain sync of the plan again once the first has
	// finished, and measures it alone (Result.Rerun).
	Rerun bool
	// RerunOnly makes the copies in an unmeasured first sync (throttling
	// off, copies finish at once, pacing out of the way) and measures only
	// the rerun: what an in-sync nightly run costs, at sizes whose first
	// sync would take long.
	RerunOnly bool
	Seed      int64
	// InMemory serves the simulator in-process (EnvOptions.InMemory), for
	// tests in a testing/synctest bubble.
	InMemory bool
}

// PendingSource is a source AFI that CreateFpgaImage started just before
// the run: pending until After (unscaled, from the run's start), then
// available, or failed with Message when Message is set.
type PendingSource struct {
	After   time.Duration
	Message string
}

func (c WaitCase) fill() WaitCase {
	if c.Scale <= 0 {
		c.Scale = DefaultScale
	}
	if c.Latency == 0 {
		c.Latency = DefaultLatency
	}
	if c.CopyTime <= 0 {
		c.CopyTime = 30 * time.Second
	}
	return c
}

// WaitResult is the outcome of a WaitCase. Times are scaled.
type WaitResult struct {
	Name    string
	Targets int
	// Wall is the sync --wait's; Floor is WaitFloor's for the case.
	Wall, Floor time.Duration
	Calls       CallCounts
	// Polls counts DescribeFpgaImages calls that name AFIs (the pollers'
	// rounds); the other describes are the inventory's.
	Polls int
	// PollShare is the polls' rate per polled region as a share of the
	// region's DescribeFpgaImages refill rate (20/s × scale), over Wall.
	PollShare float64
	// MinCalls is the fewest calls other than polls the sync can make:
	// STS, one inventory page per region, a copy and a tag call per copy,
	// and, with Share, one ModifyFpgaImageAttribute and one CreateTags
	// (the afisync:sharing digest) per copy.
	MinCalls int
	Inv      Invariants
	// Shared counts live copies whose load permissions include
	// ShareAccount (Share only).
	Shared int
	// Failed counts bad targets in the report (the failed sources' among
	// them); Why quotes the first.
	Failed int
	Why    string
	// PendingTargets are the targets of the sources that end available;
	// PendingCopied those of them copied in this run, available and
	// converged.
	PendingTargets, PendingCopied int
	// FailedTargets are the targets of the sources that end failed;
	// FailedReported those reported failed with the source's
	// State.Message, FailedMessage one such report's message.
	FailedTargets, FailedReported int
	FailedMessage                 string
	Rerun                         *RerunResult
}

// Ratio is Wall / Floor (0 when the floor is 0).
func (r WaitResult) Ratio() float64 {
	if r.Floor <= 0 {
		return 0
	}
	return float64(r.Wall) / float64(r.Floor)
}

// RerunResult is an in-sync rerun: its wall time (scaled), its calls
// alone, and what its report says.
type RerunResult struct {
	Wall  time.Duration
	Calls CallCounts
	// Limit is issue 13's bound on its describes: 2 per destination
	// region + 2.
	Limit int
	// Changed counts targets the rerun changed; Bad those it reported
	// bad; InSync those it reported in sync.
	Changed, Bad, InSync int
}

// Describes is the rerun's DescribeFpgaImages calls.
func (r RerunResult) Describes() int { return r.Calls.ByAction["DescribeFpgaImages"] }

// WaitFloor is the shortest time a `sync --wait` can take: in each region,
// the last of copies[r] copies cannot start before the CopyFpgaImage bucket
// (50 tokens, 5/s) allows, max(0, C − 50)/5 s, and is not available before
// its copy time, at most copyTime × (1 + jitter), has passed; a source
// pending until ready cannot be copied before then. Regions run in
// parallel. Divided by scale. The CreateTags bucket (100, 10/s) allows the
// tag call and the sharing digest of each copy at the same pace, and
// sharing's ModifyFpgaImageAttribute (50, 5/s) follows the copies, so
// neither moves the floor.
func WaitFloor(copies map[string]int, copyTime time.Duration, jitter float64, ready []time.Duration, scale float64) time.Duration {
	if scale <= 0 {
		scale = 1
	}
	cb := ec2sim.Buckets["CopyFpgaImage"]
	ct := copyTime.Seconds() * (1 + jitter)
	var worst float64
	for _, c := range copies {
		if c > 0 {
			worst = max(worst, max(0, float64(c)-cb.Capacity)/cb.Refill+ct)
		}
	}
	for _, d := range ready {
		worst = max(worst, d.Seconds()+ct)
	}
	return time.Duration(worst / scale * float64(time.Second))
}

// RunWait runs a WaitCase.
func RunWait(ctx context.Context, c WaitCase) (WaitResult, error) {
	c = c.fill()
	so := ec2sim.Options{Throttle: true, ThrottleScale: c.Scale, Seed: c.Seed, Jitter: c.Jitter}
	so.CopyTime = time.Duration(float64(c.CopyTime) / c.Scale)
	if c.RerunOnly {
		so.CopyTime, so.Throttle = ec2sim.NoDelay, false
	}
	if c.Latency > 0 {
		so.Latency = time.Duration(float64(c.Latency) / c.Scale)
	}
	e, err := NewEnv(EnvOptions{AFIs: c.AFIs, Regions: c.Regions, Sim: so, InMemory: c.InMemory})
	if err != nil {
		return WaitResult{}, err
	}
	defer e.Close()
	s := scaled{e: e, scale: c.Scale}
	// The sources being built, and the plan with every source.
	type building struct {
		id  string
		msg string
	}
	var built []building
	var ready []time.Duration
	for i, ps := range c.Pending {
		st := ""
		if ps.Message != "" {
			st = ec2sim.StateFailed
		}
		im, err := e.Sim.AddImage(ec2sim.Image{
			Region:  SourceRegion,
			Name:    fmt.Sprintf("bench-building-%02d", i),
			State:   st,
			Message: ps.Message,
			ReadyAt: e.Sim.Now().Add(time.Duration(float64(ps.After) / c.Scale)),
		})
		if err != nil {
			return WaitResult{}, err
		}
		e.Sources = append(e.Sources, im.ID)
		e.AGFIs = append(e.AGFIs, im.AGFI)
		built = append(built, building{im.ID, ps.Message})
		if ps.Message == "" {
			ready = append(ready, ps.After)
		}
	}
	var entry func(string) string
	if c.Share {
		entry = func(string) string { return "    share_with: [\"" + ShareAccount + "\"]\n" }
	}
	if e.Plan, err = e.NamedPlan(PlanName, e.Sources, entry); err != nil {
		return WaitResult{}, err
	}
	var polls atomic.Int64
	e.OnCall(func(action string, params url.Values) {
		if action == "DescribeFpgaImages" && params.Has("FpgaImageId.1") {
			polls.Add(1)
		}
	})
	res := WaitResult{Name: c.Name, Targets: e.Targets()}
	// The copies the sources that end available need.
	copies := map[string]int{}
	for _, r := range e.Dests {
		copies[r] = len(e.Sources) - len(built)
	}
	res.Floor = WaitFloor(copies, c.CopyTime, c.Jitter, ready, c.Scale)
	// Every source is copied but those that end failed.
	failing := len(built) - len(ready)
	res.MinCalls = e.MinCalls() - 2*failing*len(e.Dests)
	if c.Share {
		// One ModifyFpgaImageAttribute per copy; the sharing digests go
		// in one CreateTags per region and polling round, so at least
		// one per region (RunWait's callers allow one more per poll).
		res.MinCalls += (len(e.Sources)-failing)*len(e.Dests) + len(e.Dests)
	}
	if c.RerunOnly {
		// The first sync, unmeasured: nothing throttles, copies finish
		// at once, pacing is out of the way.
		cl, err := e.Client(ctx, afi.Config{RateScale: 1000})
		if err != nil {
			return res, err
		}
		o := executor.Resolve(e.Plan, executor.Overrides{}, executor.Options{Wait: true, PollInterval: 10 * time.Millisecond, RateScale: 1000})
		rep, err := executor.Run(ctx, cl, e.Plan, o)
		if err != nil {
			return res, fmt.Errorf("setup sync: %w", err)
		}
		if n := badTargets(rep); n > 0 {
			return res, fmt.Errorf("setup sync: %d targets bad: %s", n, why(rep))
		}
		e.Sim.SetThrottle(true)
	} else {
		start := time.Now()
		rep, err := s.sync(ctx, e.Plan, executor.Options{Wait: true})
		res.Wall = time.Since(start)
		if err != nil {
			return res, err
		}
		res.Calls = e.Calls()
		res.Polls = int(polls.Load())
		pollRegions := len(e.Dests)
		if len(built) > 0 {
			pollRegions++
		}
		if res.Wall > 0 {
			res.PollShare = float64(res.Polls) / float64(pollRegions) / res.Wall.Seconds() / (ec2sim.Buckets["DescribeFpgaImages"].Refill * c.Scale)
		}
		res.Inv = e.Check(rep)
		res.Failed = badTargets(rep)
		res.Why = why(rep)
		res.Shared = e.shared()
		for _, b := range built {
			for _, t := range rep.Targets {
				if t.SourceAFI != b.id {
					continue
				}
				if b.msg == "" {
					res.PendingTargets++
					if t.Status == report.StatusCopied && e.convergedAvailable(b.id, t.Region) {
						res.PendingCopied++
					}
					continue
				}
				res.FailedTargets++
				if t.Status == report.StatusFailed && strings.Contains(t.Message, b.msg) {
					res.FailedReported++
					res.FailedMessage = t.Message
				}
			}
		}
	}
	if !c.Rerun && !c.RerunOnly {
		return res, nil
	}
	e.Sim.ResetStats()
	start := time.Now()
	rep, err := s.sync(ctx, e.Plan, executor.Options{})
	rr := &RerunResult{Wall: time.Since(start), Calls: e.Calls(), Limit: 2*len(e.Dests) + 2}
	res.Rerun = rr
	if err != nil {
		return res, err
	}
	if c.RerunOnly {
		res.Inv = e.Check(rep)
		res.Shared = e.shared()
	}
	rr.Changed = changed(rep)
	rr.Bad = badTargets(rep)
	for _, t := range rep.Targets {
		if t.Status == report.StatusInSync {
			rr.InSync++
		}
	}
	return res, nil
}

// shared counts live copies of the Env's sources shared with ShareAccount.
func (e *Env) shared() int {
	want := map[string]bool{}
	for _, s := range e.Sources {
		want[s] = true
	}
	n := 0
	for _, r := range e.Dests {
		for _, im := range e.Sim.Images(ec2sim.DefaultAccount, r) {
			if want[im.SourceID] && (im.State == ec2sim.StatePending || im.State == ec2sim.StateAvailable) && slices.Contains(im.LoadPermissions, ShareAccount) {
				n++
			}
		}
	}
	return n
}

// convergedAvailable reports whether source src has exactly one live copy
// in region, available and carrying afisync's management tags.
func (e *Env) convergedAvailable(src, region string) bool {
	var live []ec2sim.Image
	for _, im := range e.Sim.Images(ec2sim.DefaultAccount, region) {
		if im.SourceID == src && (im.State == ec2sim.StatePending || im.State == ec2sim.StateAvailable) {
			live = append(live, im)
		}
	}
	return len(live) == 1 && live[0].State == ec2sim.StateAvailable &&
		live[0].Tags[plan.TagSource] == plan.SourceKey(SourceRegion, src) && plan.HasClaim(live[0].Tags, PlanName)
}

// ThrottledShare is throttled responses per call.
func (r WaitResult) ThrottledShare() float64 {
	if r.Calls.Total == 0 {
		return 0
	}
	return float64(r.Calls.Throttled) / float64(r.Calls.Total)
}

// OverMin is calls other than polls over MinCalls, as a fraction of it.
func (r WaitResult) OverMin() float64 {
	if r.MinCalls == 0 {
		return 0
	}
	return float64(r.Calls.Total-r.Polls-r.MinCalls) / float64(r.MinCalls)
}
