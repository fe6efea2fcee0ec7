package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
)

func TestIdeal(t *testing.T) {
	for _, tc := range []struct {
		copies map[string]int
		scale  float64
		want   time.Duration
	}{
		{map[string]int{"a": 50}, 1, 0},                          // within the copy bucket
		{map[string]int{"a": 100}, 1, 10 * time.Second},          // (100-50)/5
		{map[string]int{"a": 300}, 1, 50 * time.Second},          // copies (250/5) beat tags (200/10)
		{map[string]int{"a": 300}, 10, 5 * time.Second},          // scaled
		{map[string]int{"a": 60, "b": 100}, 1, 10 * time.Second}, // regions in parallel
		{map[string]int{}, 1, 0},
	} {
		if got := Ideal(tc.copies, tc.scale); got != tc.want {
			t.Errorf("Ideal(%v, %g) = %s, want %s", tc.copies, tc.scale, got, tc.want)
		}
	}
}

// assertInvariants checks what every run must leave: every target
// converged, no duplicate, none lost.
func assertInvariants(t *testing.T, what string, inv Invariants) {
	t.Helper()
	if inv.Duplicates != 0 || inv.Lost != 0 || inv.Converged != inv.Targets {
		t.Errorf("%s: %d/%d targets converged, %d duplicates, %d lost; want all converged, 0, 0", what, inv.Converged, inv.Targets, inv.Duplicates, inv.Lost)
	}
}

// TestScenarioSmall is the harness at CI size: a throttled sync of 10 AFIs
// × 3 regions and one whose copy bucket empties (60 × 3), against the naive
// baseline. It runs in a synctest bubble with the simulator in-process, so
// wall times are on the bubble's fake clock and do not depend on the
// machine's load.
func TestScenarioSmall(t *testing.T) { synctest.Test(t, testScenarioSmall) }

func testScenarioSmall(t *testing.T) {
	ctx := context.Background()
	for _, s := range []Scenario{
		{AFIs: 10, Regions: 3, InMemory: true},
		// 60 copies a region empty the 50-token bucket: 10 copies wait
		// for refill, at 100 times EC2's rate.
		{AFIs: 60, Regions: 3, Scale: 100, InMemory: true},
	} {
		res, err := RunAfisync(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
		t.Logf("%s: wall %s, ideal %s, calls %d (min %d), throttled %d", s.Name(), res.Wall, res.Ideal, res.Calls.Total, res.MinCalls, res.Calls.Throttled)
		assertInvariants(t, s.Name(), res.Inv)
		if res.Failed != 0 {
			t.Errorf("%s: %d targets failed", s.Name(), res.Failed)
		}
		if res.Calls.Throttled != 0 {
			t.Errorf("%s: %d throttled responses; pacing should keep below EC2's buckets", s.Name(), res.Calls.Throttled)
		}
		if res.CallOverhead() > 0.02 {
			t.Errorf("%s: %d calls, more than 2%% over the minimum %d", s.Name(), res.Calls.Total, res.MinCalls)
		}
		// Nothing beats the buckets: a wall time under the ideal means the
		// simulator did not throttle as EC2 would.
		if res.Wall < res.Ideal {
			t.Errorf("%s: wall %s under the throttle-bound ideal %s", s.Name(), res.Wall, res.Ideal)
		}
	}
	s := Scenario{AFIs: 10, Regions: 3, InMemory: true}
	naive, err := RunNaive(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("naive %s: wall %s, calls %d", s.Name(), naive.Wall, naive.Calls.Total)
	if naive.Failed != 0 || naive.Inv.Duplicates != 0 || naive.Inv.Lost != 0 {
		t.Errorf("naive %s: %d failed, %d duplicates, %d lost", s.Name(), naive.Failed, naive.Inv.Duplicates, naive.Inv.Lost)
	}
	if naive.Calls.Total != naive.MinCalls {
		t.Errorf("naive %s: %d calls, want %d", s.Name(), naive.Calls.Total, naive.MinCalls)
	}
}

// TestSelectorSpreadsRegions guards against a selector plan copying one
// region after another: with 100 AFIs × 3 regions through a selector, the
// regions' buckets must drain in parallel. It runs in a synctest bubble with
// the simulator in-process, so the simulator's latency and buckets and
// afisync's pacing all run on the bubble's fake clock, and it reads when
// each copy happened from the simulator's call log: nothing depends on how
// busy the machine is.
func TestSelectorSpreadsRegions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const afis, regions, scale = 100, 3, 20
		res, err := RunAfisync(context.Background(), Scenario{AFIs: afis, Regions: regions, Scale: scale, Selector: true, InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		assertInvariants(t, "selector", res.Inv)
		if res.Calls.Throttled != 0 {
			t.Errorf("%d throttled responses; pacing should keep below EC2's buckets", res.Calls.Throttled)
		}
		// Each region's pacer lets a burst through at once, then refills:
		// in parallel, every region's copies span about
		// (afis - burst) / rate; one region after another, the last
		// region finishes about three times later.
		lim := afi.DefaultLimits["CopyFpgaImage"]
		paced := time.Duration(float64(afis-lim.Burst) / (lim.Rate * scale) * float64(time.Second))
		spans := copySpans(res.Log)
		if len(spans) != regions {
			t.Fatalf("copies in %d regions, want %d: %v", len(spans), regions, spans)
		}
		var start time.Time
		for _, sp := range spans {
			if start.IsZero() || sp.first.Before(start) {
				start = sp.first
			}
		}
		for r, sp := range spans {
			if sp.n != afis {
				t.Errorf("%s: %d copies, want %d", r, sp.n, afis)
			}
			if !sp.first.Equal(start) {
				t.Errorf("%s: first copy %s after the first copy of the run: regions are not interleaved", r, sp.first.Sub(start))
			}
			if took := sp.last.Sub(start); took > paced*5/4 {
				t.Errorf("%s: last copy %s after the first, want at most 1.25 × the paced %s: regions are not paced in parallel", r, took, paced)
			}
		}
		t.Logf("simulated wall %s, ideal %s, paced %s; copies %v", res.Wall, res.Ideal, paced, spans)
	})
}

// span is when a region's copies happened, by the simulator's clock.
type span struct {
	first, last time.Time
	n           int
}

func (s span) String() string {
	return fmt.Sprintf("%d from %s to %s", s.n, s.first.Format("15:04:05.000"), s.last.Format("15:04:05.000"))
}

// copySpans gathers the successful CopyFpgaImage calls of a call log by
// region.
func copySpans(log []ec2sim.Call) map[string]span {
	out := map[string]span{}
	for _, c := range log {
		if c.Action != "CopyFpgaImage" || c.Outcome != "ok" {
			continue
		}
		sp, ok := out[c.Region]
		if !ok {
			sp.first = c.Time
		}
		sp.last = c.Time
		sp.n++
		out[c.Region] = sp
	}
	return out
}

// TestFaultMatrixSmall runs the fault matrix at CI size, each case in a
// synctest bubble with the simulator in-process: cases on a manual clock
// take no real time, and the real-time ones run on the bubble's fake clock.
func TestFaultMatrixSmall(t *testing.T) {
	cases := []FaultCase{
		{Name: "20% random 5xx", AFIs: 20, Regions: 3, Manual: true, Sim: ec2sim.Options{ErrorRate: 0.2, Seed: 1}},
		{Name: "10% of copies fail transiently", AFIs: 20, Regions: 3, Manual: true, Sim: ec2sim.Options{FailRate: 0.1, Seed: 2}},
		{Name: "throttled, SDK retries only", AFIs: 70, Regions: 2, Manual: true, Sim: ec2sim.Options{Throttle: true, Seed: 3}},
		{Name: "4 concurrent syncs", AFIs: 20, Regions: 3, Manual: true, Concurrent: 4, Sim: ec2sim.Options{Seed: 4}},
		{Name: "latency spikes", AFIs: 20, Regions: 3, Scale: 20, Latency: DefaultLatency,
			Spike: Spike{Fraction: 0.1, Extra: 100 * time.Millisecond}, Sim: ec2sim.Options{Throttle: true, Seed: 5}},
		// Outages: the endpoint stalls (accepts, never answers) or dies
		// (refuses connections) after 30 calls, for 20 s or for good.
		{Name: "endpoint stalls for 20 s", AFIs: 20, Regions: 3, Scale: 20, Latency: DefaultLatency,
			Outage: Outage{Stall: true, After: 30, For: 20 * time.Second}, Sim: ec2sim.Options{Throttle: true, Seed: 6}},
		{Name: "endpoint stalls for good", AFIs: 20, Regions: 3, Scale: 20, Latency: DefaultLatency, Deadline: 2 * time.Minute, Rerun: true,
			Outage: Outage{Stall: true, After: 30}, Sim: ec2sim.Options{Throttle: true, Seed: 7}},
		// The SDK's 8 attempts span about 3 s: calls that meet a longer
		// outage fail, and the rerun finishes them.
		{Name: "endpoint dies for 20 s", AFIs: 20, Regions: 3, Scale: 20, Latency: DefaultLatency, Rerun: true,
			Outage: Outage{After: 30, For: 20 * time.Second}, Sim: ec2sim.Options{Throttle: true, Seed: 8}},
		{Name: "endpoint dies for good", AFIs: 20, Regions: 3, Scale: 20, Latency: DefaultLatency, Deadline: 2 * time.Minute, Rerun: true,
			Outage: Outage{After: 30}, Sim: ec2sim.Options{Throttle: true, Seed: 9}},
	}
	for _, c := range cases {
		c.InMemory = true
		t.Run(c.Name, func(t *testing.T) { synctest.Test(t, func(t *testing.T) { testFault(t, c) }) })
	}
}

func testFault(t *testing.T, c FaultCase) {
	res, err := RunFault(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("runs %d, calls %d (clean %d), throttled %d, errors %d, outage hits %d, wall %s; %d bad: %s", res.Runs, res.Calls.Total, res.CleanCalls, res.Calls.Throttled, res.Calls.Errors, res.OutageHits, res.Wall, res.Failed, res.Why)
	if c.Outage.On() && res.OutageHits == 0 {
		t.Errorf("no call met the outage: the case proved nothing")
	}
	if c.Rerun {
		// The faulty run claims nothing it did not do, duplicates
		// nothing, ends by its deadline (plus the grace for calls in
		// flight and one attempt's timeout, on the bubble's clock) and
		// says why each unfinished target is unfinished, naming the
		// endpoint when the outage lasts; the rerun finishes the work.
		first := *res.First
		if first.Lost != 0 || first.Duplicates != 0 {
			t.Errorf("after the faulty run: %d lost, %d duplicates", first.Lost, first.Duplicates)
		}
		if bound := time.Duration(float64(c.Deadline+executor.DefaultStopGrace+afi.DefaultAttemptTimeout) / c.Scale); c.Deadline > 0 && res.Wall > bound {
			t.Errorf("the faulty run took %s (fake clock), over its deadline + grace + one attempt, %s", res.Wall, bound)
		}
		if res.Failed > 0 && res.Why == "" {
			t.Errorf("%d targets bad with no reason", res.Failed)
		}
		if c.Outage.For == 0 && (res.Failed == 0 || !strings.Contains(res.Why, inProcessURL)) {
			t.Errorf("an endpoint gone for good: %d targets bad, reason %q; want every unfinished target reported and the endpoint named", res.Failed, res.Why)
		}
		if res.RerunFailed != 0 {
			t.Errorf("%d targets failed in the rerun", res.RerunFailed)
		}
	} else if res.Failed != 0 || len(res.RunErrors) != 0 {
		t.Errorf("%d targets reported failed, run errors %q", res.Failed, res.RunErrors)
	}
	assertInvariants(t, c.Name, res.Inv)
	if res.Inv.Available != res.Inv.Targets {
		t.Errorf("%d/%d copies available after --wait", res.Inv.Available, res.Inv.Targets)
	}
	// The pollers' rounds are jittered, so the number of describes varies
	// by a call or two from run to run; every other call a clean run makes,
	// a faulty one makes too.
	if got, clean := res.Calls.Total-res.Calls.ByAction["DescribeFpgaImages"], res.Clean.Total-res.Clean.ByAction["DescribeFpgaImages"]; got < clean {
		t.Errorf("%d calls other than describes, fewer than a clean run's %d: the counters are wrong", got, clean)
	}
}

// TestKillAndRerun builds afisync, SIGKILLs `afisync sync` at random points
// and reruns it until it exits 0; no copy may be duplicated or lost.
func TestKillAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the afisync binary")
	}
	ctx := context.Background()
	bin, err := BuildAfisync(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunKill(ctx, bin, KillCase{AFIs: 30, Regions: 3, Latency: 50 * time.Millisecond,
		// Kill each run once a random number of its copies exist, so
		// that every kill lands while it copies.
		AtCopies: true, MaxRuns: 60, Seed: 1})
	t.Logf("runs %d, killed %d (%d while copying, %d copies left untagged), calls %d (clean %d), wall %s", res.Runs, res.Killed, res.MidCopy, res.Untagged, res.Calls.Total, res.CleanCalls, res.Wall)
	if err != nil {
		t.Fatal(err)
	}
	if res.MidCopy == 0 {
		t.Errorf("no run was killed while copying (%d kills): the case proved nothing", res.Killed)
	}
	assertInvariants(t, "after kills", res.Inv)
}
