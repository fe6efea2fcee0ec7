package bench

import (
	"context"
	"testing"
	"testing/synctest"
)

// assertClaims checks what several plans must leave together: nothing
// duplicated, lost or wrongly deleted, and every copy claimed by every plan
// that lists it.
func assertClaims(t *testing.T, what string, inv ClaimInvariants) {
	t.Helper()
	if inv.Duplicates != 0 || inv.Lost != 0 || inv.WrongDeletions != 0 || inv.MissingClaims != 0 || inv.StaleClaims != 0 || inv.Converged+inv.Failed != inv.Targets {
		t.Errorf("%s: %+v; want every target converged or reported failed, and 0 duplicates, lost, wrong deletions, missing or stale claims", what, inv)
	}
}

// TestMultiPlanSmall is the multi-plan row of the fault matrix at CI size:
// 3 plans sharing 4 AFIs, 2 of their own each, into 2 regions, in a
// synctest bubble (fake clock).
func TestMultiPlanSmall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := MultiPlanCase{Name: "multi-plan", Plans: 3, Shared: 4, Own: 2, Regions: 2, Scale: 20, Latency: DefaultLatency, Seed: 1, InMemory: true}
		res, err := RunMultiPlan(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", res)
		assertClaims(t, "run together", res.Together)
		assertClaims(t, "after the prune", res.Final)
		if res.Failed != 0 {
			t.Errorf("%d targets failed: %s", res.Failed, res.Why)
		}
		if res.ClaimedByAll != res.SharedCopies {
			t.Errorf("%d of %d shared copies claimed by every plan", res.ClaimedByAll, res.SharedCopies)
		}
		if res.Changes2 != 0 || res.DiffNotClean != 0 {
			t.Errorf("the second round of reruns changed %d targets, %d diffs not clean: flip-flop", res.Changes2, res.DiffNotClean)
		}
		if res.Conflicts == 0 {
			t.Errorf("no diff reported a setting left to another plan: the plans' settings did not conflict")
		}
		if want := c.Shared * c.Regions; res.Released != want || res.Pruned != 0 {
			t.Errorf("prune: %d released, %d pruned; want %d, 0", res.Released, res.Pruned, want)
		}
		if res.ReaddCopies != 0 || res.ReaddClaimed != res.SharedCopies {
			t.Errorf("re-add: %d copy calls, %d of %d shared copies claimed; want 0 and all", res.ReaddCopies, res.ReaddClaimed, res.SharedCopies)
		}
	})
}

// TestConcurrentThrottledSmall is the concurrent-throttled row at CI size:
// 4 and 16 syncs, each of its own plan, at once under EC2's buckets; each
// region's copy bucket (50) is asked for 80 copies, so the pacers, each
// allowing a burst of 48, meet throttling.
func TestConcurrentThrottledSmall(t *testing.T) {
	for _, c := range []ConcurrentCase{
		{Procs: 4, AFIs: 20, Regions: 2, Scale: 20, Seed: 1, InMemory: true},
		{Procs: 16, AFIs: 5, Regions: 2, Scale: 20, Seed: 2, InMemory: true},
	} {
		t.Run(c.Name(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				res, err := RunConcurrent(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("wall %s, ideal %s, calls %d (min %d), throttled %d, failed %d", res.Wall, res.Ideal, res.Calls.Total, res.MinCalls, res.Calls.Throttled, res.Failed)
				if res.Failed != 0 {
					t.Errorf("%d targets failed under throttling: %s", res.Failed, res.Why)
				}
				assertClaims(t, c.Name(), res.Inv)
				if res.Inv.Converged != res.Targets {
					t.Errorf("%d/%d targets converged", res.Inv.Converged, res.Targets)
				}
				if res.Calls.Throttled == 0 {
					t.Errorf("no call was throttled: the case proved nothing")
				}
				if res.Calls.Total < res.MinCalls || res.Wall < res.Ideal {
					t.Errorf("%d calls (min %d), wall %s (floor %s): the counters or the simulator's buckets are wrong", res.Calls.Total, res.MinCalls, res.Wall, res.Ideal)
				}
			})
		})
	}
}

// TestPruneRaceSmall is the prune-race row at CI size, without and with
// --prune-public.
func TestPruneRaceSmall(t *testing.T) {
	for _, pub := range []bool{false, true} {
		c := PruneRaceCase{Name: "prune race", AFIs: 6, Regions: 2, PrunePublic: pub, Scale: 20, Latency: DefaultLatency, Seed: 1, InMemory: true}
		name := "without --prune-public"
		if pub {
			name = "with --prune-public"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				res, err := RunPruneRace(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%+v", res)
				if res.Failed != 0 {
					t.Errorf("%d targets failed: %s", res.Failed, res.Why)
				}
				if res.Inv.WrongDeletions != 0 || res.Inv.Duplicates != 0 || res.Inv.Lost != 0 {
					t.Errorf("%+v: want 0 wrong deletions, duplicates, lost", res.Inv)
				}
				if res.ClaimKept != 1 || res.Released != 1 {
					t.Errorf("the copy another plan claimed: kept %d, released %d; want 1, 1", res.ClaimKept, res.Released)
				}
				if pub {
					if res.PublicDeleted != 2 || res.Pruned != res.Dropped-1 {
						t.Errorf("--prune-public: %d public copies deleted, %d pruned; want 2, %d", res.PublicDeleted, res.Pruned, res.Dropped-1)
					}
					return
				}
				if res.PublicDeleted != 0 || res.PublicRemoved != 0 || res.Resets != 0 {
					t.Errorf("public access removed without --prune-public: %d deleted, %d unshared, %d resets", res.PublicDeleted, res.PublicRemoved, res.Resets)
				}
				if res.Kept != 2 || res.Pruned != res.Dropped-3 || res.Deleted != res.Pruned {
					t.Errorf("%d kept, %d pruned, %d deleted; want 2, %d, %d", res.Kept, res.Pruned, res.Deleted, res.Dropped-3, res.Dropped-3)
				}
			})
		})
	}
}
