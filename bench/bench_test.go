package bench

import (
	"context"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
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
// baseline.
func TestScenarioSmall(t *testing.T) {
	ctx := context.Background()
	for _, s := range []Scenario{
		{AFIs: 10, Regions: 3},
		// 60 copies a region empty the 50-token bucket: 10 copies wait
		// for refill, at 100 times EC2's rate.
		{AFIs: 60, Regions: 3, Scale: 100},
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
	s := Scenario{AFIs: 10, Regions: 3}
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
// regions' buckets must refill in parallel.
func TestSelectorSpreadsRegions(t *testing.T) {
	res, err := RunAfisync(context.Background(), Scenario{AFIs: 100, Regions: 3, Scale: 20, Selector: true})
	if err != nil {
		t.Fatal(err)
	}
	assertInvariants(t, "selector", res.Inv)
	// Region by region would take about 3 × the ideal (0.5 s each).
	t.Logf("wall %s, ideal %s", res.Wall, res.Ideal)
	if res.Wall > 2*res.Ideal {
		t.Errorf("selector plan: wall %s over twice the ideal %s: regions are not paced in parallel", res.Wall, res.Ideal)
	}
}

// TestFaultMatrixSmall runs the fault matrix at CI size. Cases on a manual
// clock take no real time.
func TestFaultMatrixSmall(t *testing.T) {
	cases := []FaultCase{
		{Name: "20% random 5xx", AFIs: 20, Regions: 3, Manual: true, Sim: ec2sim.Options{ErrorRate: 0.2, Seed: 1}},
		{Name: "10% of copies fail transiently", AFIs: 20, Regions: 3, Manual: true, Sim: ec2sim.Options{FailRate: 0.1, Seed: 2}},
		{Name: "throttled, SDK retries only", AFIs: 70, Regions: 2, Manual: true, Sim: ec2sim.Options{Throttle: true, Seed: 3}},
		{Name: "4 concurrent syncs", AFIs: 20, Regions: 3, Manual: true, Concurrent: 4, Sim: ec2sim.Options{Seed: 4}},
		{Name: "latency spikes", AFIs: 20, Regions: 3, Scale: 20, Latency: DefaultLatency,
			Spike: Spike{Fraction: 0.1, Extra: 100 * time.Millisecond}, Sim: ec2sim.Options{Throttle: true, Seed: 5}},
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			res, err := RunFault(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("calls %d (clean %d), throttled %d, errors %d, wall %s", res.Calls.Total, res.CleanCalls, res.Calls.Throttled, res.Calls.Errors, res.Wall)
			assertInvariants(t, c.Name, res.Inv)
			if res.Inv.Available != res.Inv.Targets {
				t.Errorf("%d/%d copies available after --wait", res.Inv.Available, res.Inv.Targets)
			}
			if res.Failed != 0 {
				t.Errorf("%d targets reported failed", res.Failed)
			}
			if res.Calls.Total < res.CleanCalls {
				t.Errorf("%d calls, fewer than a clean run's %d: the counters are wrong", res.Calls.Total, res.CleanCalls)
			}
		})
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
