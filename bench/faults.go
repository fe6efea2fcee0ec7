package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// FaultCase is one row of the fault matrix: a sync (with --wait) of a
// generated plan against a simulator with faults switched on.
type FaultCase struct {
	Name          string
	AFIs, Regions int
	// Manual runs on an ec2sim.ManualClock: the executor's polling sleeps
	// and the SDK's retry backoff advance simulated time, so nothing waits
	// in real time, and client-side pacing (which runs on real time) is off.
	// Otherwise the case runs in real time with EC2's buckets and afisync's
	// pacing scaled by Scale and the latency divided by it.
	Manual  bool
	Scale   float64       // real-time cases; 0: DefaultScale
	Latency time.Duration // real-time cases, unscaled; 0: none
	// Sim holds the faults: Throttle, ErrorRate, FailRate, Seed.
	Sim   ec2sim.Options
	Spike Spike
	// NoPacing turns afisync's client-side pacing off (real-time cases).
	NoPacing bool
	// Concurrent is the number of syncs of the plan run at once (0: 1).
	Concurrent int
	// CopyTime is how long a copy stays pending in real-time cases
	// (0: 10 s divided by Scale). Manual cases use 10 minutes.
	CopyTime time.Duration
	// InMemory serves the simulator in-process (EnvOptions.InMemory), so
	// that a test can run a real-time case in a testing/synctest bubble,
	// on its fake clock.
	InMemory bool
	// Outage stalls the endpoint or takes it down for a stretch of the run
	// (real-time cases; Outage.For is unscaled).
	Outage Outage
	// Deadline is the run's --timeout, unscaled in real-time cases (0:
	// executor's default).
	Deadline time.Duration
	// AttemptTimeout bounds each HTTP attempt, unscaled (0: afi's
	// default).
	AttemptTimeout time.Duration
	// Rerun runs the sync once more after the faulty run(s), with the
	// outage over, as the next cron run would; the invariants are taken
	// after it.
	Rerun bool
}

// FaultResult is the outcome of a FaultCase.
type FaultResult struct {
	Name  string
	Runs  int
	Inv   Invariants
	Calls CallCounts
	// CleanCalls is the call count of the same case without its faults
	// (one sync, no errors, no throttling); Calls.Total - CleanCalls is the
	// cost of the faults.
	CleanCalls int
	// Clean is the clean run's call counts, by action.
	Clean CallCounts
	// Failed counts bad targets in the reports (any run).
	Failed int
	// Wall is the time the faulty run(s) took (scaled time).
	Wall time.Duration
	// RunErrors are the reports' error fields (the faulty runs): why a
	// run could not finish, such as its deadline passing.
	RunErrors []string
	// OutageHits counts API calls that met the outage.
	OutageHits int
	// Why is, for faulty runs that left targets bad, the first run error
	// or else the first bad target's message.
	Why string
	// First holds the invariants after the faulty run(s), when Rerun is
	// set (Inv is then taken after the rerun).
	First *Invariants
	// RerunFailed counts bad targets in the rerun's report.
	RerunFailed int
}

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

// RunFault runs c, then the same case without faults for CleanCalls.
func RunFault(ctx context.Context, c FaultCase) (FaultResult, error) {
	res, err := runFault(ctx, c)
	if err != nil {
		return res, err
	}
	clean := c
	clean.Sim = ec2sim.Options{Seed: c.Sim.Seed}
	clean.Spike, clean.Concurrent, clean.NoPacing = Spike{}, 0, false
	clean.Outage, clean.Rerun = Outage{}, false
	cres, err := runFault(ctx, clean)
	if err != nil {
		return res, fmt.Errorf("clean run: %w", err)
	}
	res.CleanCalls = cres.Calls.Total
	res.Clean = cres.Calls
	return res, nil
}

func runFault(ctx context.Context, c FaultCase) (FaultResult, error) {
	if c.Scale <= 0 {
		c.Scale = DefaultScale
	}
	so := c.Sim
	var clock *ec2sim.ManualClock
	if c.Manual {
		clock = ec2sim.NewManualClock(t0)
		so.Clock = clock
		so.CopyTime = 10 * time.Minute
		so.Jitter = 0.3
	} else {
		so.CopyTime = c.CopyTime
		if so.CopyTime <= 0 {
			so.CopyTime = time.Duration(float64(10*time.Second) / c.Scale)
		}
		so.ThrottleScale = c.Scale
		if c.Latency > 0 {
			so.Latency = time.Duration(float64(c.Latency) / c.Scale)
		}
	}
	outage := c.Outage
	outage.For = time.Duration(float64(outage.For) / c.Scale)
	e, err := NewEnv(EnvOptions{AFIs: c.AFIs, Regions: c.Regions, Sim: so, Spike: c.Spike, InMemory: c.InMemory, Outage: outage})
	if err != nil {
		return FaultResult{}, err
	}
	defer e.Close()
	n := max(c.Concurrent, 1)
	res := FaultResult{Name: c.Name, Runs: n}
	reps := make([]*report.Report, n)
	errs := make([]error, n)
	var sleeps atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		cl, o, err := c.client(ctx, e, clock, &sleeps)
		if err != nil {
			return res, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = executor.Run(ctx, cl, e.Plan, o)
		}()
	}
	wg.Wait()
	res.Wall = time.Since(start)
	res.OutageHits = e.OutageHits()
	for i, r := range reps {
		if r == nil {
			continue
		}
		res.Failed += badTargets(r)
		if res.Why == "" {
			res.Why = why(r)
		}
		if r.Error != "" {
			res.RunErrors = append(res.RunErrors, r.Error)
			// An outage is allowed to stop a run: its report says so.
			if c.Outage.On() {
				errs[i] = nil
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	if c.Rerun {
		first := e.Check(reps...)
		res.First = &first
		e.EndOutage()
		cl, o, err := c.client(ctx, e, clock, &sleeps)
		if err != nil {
			return res, err
		}
		rep, err := executor.Run(ctx, cl, e.Plan, o)
		if err != nil {
			return res, fmt.Errorf("rerun: %w", err)
		}
		res.Runs++
		res.RerunFailed = badTargets(rep)
		reps = append(reps, rep)
	}
	res.Calls = e.Calls()
	res.Inv = e.Check(reps...)
	return res, nil
}

// why is r's error, or else its first bad target's message.
func why(r *report.Report) string {
	if r.Error != "" {
		return r.Error
	}
	for _, t := range r.Targets {
		if t.Status.Bad() {
			return string(t.Status) + ": " + t.Message
		}
	}
	return ""
}

// client returns a client of e and the options of one sync of c.
func (c FaultCase) client(ctx context.Context, e *Env, clock *ec2sim.ManualClock, sleeps *atomic.Int64) (*afi.Client, executor.Options, error) {
	cfg := afi.Config{RateScale: c.Scale}
	// As the CLI does: the plan's settings, else sync's defaults.
	o := executor.Resolve(e.Plan, executor.Overrides{}, executor.Options{Wait: true})
	if c.Deadline > 0 {
		o.Timeout = time.Duration(float64(c.Deadline) / c.Scale)
		if c.Manual {
			o.Timeout = c.Deadline
		}
	}
	if c.Manual {
		cfg.Limits = map[string]afi.Limit{}
		cfg.Backoff = func(attempt int, err error) time.Duration {
			clock.Advance(time.Duration(attempt) * 200 * time.Millisecond)
			return 0
		}
		o.Clock = manualSleeper{clock, sleeps}
		o.PollInterval = time.Minute
	} else {
		if c.NoPacing {
			cfg.Limits = map[string]afi.Limit{}
		}
		o.PollInterval = time.Duration(float64(executor.DefaultPollInterval) / c.Scale)
		o.RateScale = c.Scale
		o.StopGrace = time.Duration(float64(executor.DefaultStopGrace) / c.Scale)
		at := c.AttemptTimeout
		if at <= 0 {
			at = afi.DefaultAttemptTimeout
		}
		cfg.AttemptTimeout = time.Duration(float64(at) / c.Scale)
	}
	cl, err := e.Client(ctx, cfg)
	return cl, o, err
}

// manualSleeper is the executor's clock on a ManualClock: sleeping advances
// simulated time at once.
type manualSleeper struct {
	c *ec2sim.ManualClock
	n *atomic.Int64
}

func (s manualSleeper) Now() time.Time { return s.c.Now() }

// Instant marks manualSleeper as an executor.InstantClock.
func (manualSleeper) Instant() {}

func (s manualSleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.n.Add(1)
	s.c.Advance(d)
	return nil
}

// KillCase kills `afisync sync` (a built binary) with SIGKILL after a random
// delay, again and again, until a run exits 0 on its own.
type KillCase struct {
	AFIs, Regions int
	Latency       time.Duration // per call, real (not scaled)
	MinDelay      time.Duration // kill after uniform [MinDelay, MaxDelay)
	MaxDelay      time.Duration
	// AtCopies, instead of a delay, kills each run as soon as the number
	// of live copies reaches a random count between the run's starting
	// count and the number of targets: always while it copies.
	AtCopies bool
	MaxRuns  int // give up after this many runs
	Seed     uint64
}

// KillResult is the outcome of a KillCase.
type KillResult struct {
	Runs, Killed int
	// MidCopy counts kills that left copies made but work undone (targets
	// without a copy, or copies without tags); Untagged sums the live copies left without afisync's tags
	// (killed between CopyFpgaImage and CreateTags) after each kill.
	MidCopy, Untagged int
	Inv               Invariants
	Calls             CallCounts
	CleanCalls        int // MinCalls of the starting state
	Wall              time.Duration
}

// BuildAfisync builds the afisync binary into dir and returns its path.
func BuildAfisync(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "afisync")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/afisync/afisync/cmd/afisync")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/afisync: %v\n%s", err, out)
	}
	return bin, nil
}

// RunKill runs a KillCase with the binary bin against an in-process
// simulator (real clock; copies take 2 s, throttling at EC2's real rates).
// Each run is `afisync sync --plan FILE --endpoint-url URL` without --wait,
// so exit 0 means every copy was started and tagged.
func RunKill(ctx context.Context, bin string, c KillCase) (KillResult, error) {
	if c.MaxRuns <= 0 {
		c.MaxRuns = 50
	}
	e, err := NewEnv(EnvOptions{AFIs: c.AFIs, Regions: c.Regions, Sim: ec2sim.Options{
		Throttle: true, Latency: c.Latency, CopyTime: 2 * time.Second,
	}})
	if err != nil {
		return KillResult{}, err
	}
	defer e.Close()
	dir, err := os.MkdirTemp("", "afisync-kill-")
	if err != nil {
		return KillResult{}, err
	}
	defer os.RemoveAll(dir)
	planFile := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planFile, []byte(e.YAML), 0o644); err != nil {
		return KillResult{}, err
	}
	res := KillResult{CleanCalls: e.MinCalls()}
	rng := rand.New(rand.NewPCG(c.Seed, 1))
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID=AKIDBENCH", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION="+SourceRegion,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=", "AWS_SESSION_TOKEN=")
	start := time.Now()
	for res.Runs < c.MaxRuns {
		res.Runs++
		cmd := exec.CommandContext(ctx, bin, "sync", "--plan", planFile, "--endpoint-url", e.URL, "--log-level", "error")
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			return res, err
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		delay := c.MinDelay + time.Duration(rng.Int64N(int64(max(c.MaxDelay-c.MinDelay, 1))))
		var fire <-chan time.Time = time.After(delay)
		wctx, stopWatching := context.WithCancel(ctx)
		if c.AtCopies {
			live, _ := e.liveCopies()
			fire = e.whenCopies(wctx, live+1+rng.IntN(max(e.Targets()-live-1, 1)))
		}
		select {
		case err := <-done:
			stopWatching()
			if err == nil {
				res.Wall = time.Since(start)
				res.Calls = e.Calls()
				res.Inv = e.Check()
				return res, nil
			}
			// Exit 1 (a target failed) is allowed: rerun.
		case <-fire:
			stopWatching()
			_ = cmd.Process.Kill()
			if err := <-done; err == nil {
				// It finished just before the kill.
				res.Wall = time.Since(start)
				res.Calls = e.Calls()
				res.Inv = e.Check()
				return res, nil
			}
			res.Killed++
			// Requests the dead process had sent may still land (as they
			// may at AWS): let them, then look.
			time.Sleep(c.Latency + 50*time.Millisecond)
			live, untagged := e.liveCopies()
			if live > 0 && (live < e.Targets() || untagged > 0) {
				res.MidCopy++
			}
			res.Untagged += untagged
		}
	}
	res.Wall = time.Since(start)
	res.Calls = e.Calls()
	res.Inv = e.Check()
	return res, fmt.Errorf("sync did not exit 0 within %d runs", c.MaxRuns)
}

// liveCopies counts the live (pending or available) copies of the sources in
// the destinations, and those among them without the afisync:source tag.
func (e *Env) liveCopies() (live, untagged int) {
	want := map[string]bool{}
	for _, s := range e.Sources {
		want[s] = true
	}
	for _, r := range e.Dests {
		for _, im := range e.Sim.Images(ec2sim.DefaultAccount, r) {
			if !want[im.SourceID] || (im.State != ec2sim.StatePending && im.State != ec2sim.StateAvailable) {
				continue
			}
			live++
			if im.Tags[plan.TagSource] == "" {
				untagged++
			}
		}
	}
	return live, untagged
}

// whenCopies returns a channel that fires once n live copies exist; it stops
// watching when ctx is done.
func (e *Env) whenCopies(ctx context.Context, n int) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if live, _ := e.liveCopies(); live >= n {
				ch <- time.Now()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ch
}
