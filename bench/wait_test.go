package bench

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestWaitFloor(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		copies map[string]int
		copy   time.Duration
		jitter float64
		ready  []time.Duration
		scale  float64
		want   time.Duration
	}{
		// Issue 13's examples: (C − 50)/5 + copy time × 1.2.
		{map[string]int{"a": 300, "b": 300, "c": 300, "d": 300}, 30 * s, 0.2, nil, 1, 86 * s},
		{map[string]int{"a": 300, "b": 300}, 10 * s, 0.2, nil, 1, 62 * s},
		{map[string]int{"a": 120, "b": 120}, 10 * s, 0.2, nil, 1, 26 * s},
		{map[string]int{"a": 300}, 30 * s, 0.2, nil, 10, 8600 * time.Millisecond},  // scaled
		{map[string]int{"a": 40}, 30 * s, 0, nil, 1, 30 * s},                       // within the bucket: the copy time
		{map[string]int{"a": 60, "b": 100}, 10 * s, 0, nil, 1, 20 * s},             // regions in parallel
		{map[string]int{"a": 10}, 30 * s, 0.2, []time.Duration{20 * s}, 1, 56 * s}, // a source ready at 20 s
		{map[string]int{"a": 0}, 30 * s, 0.2, nil, 1, 0},                           // nothing to copy
	} {
		if got := WaitFloor(tc.copies, tc.copy, tc.jitter, tc.ready, tc.scale); got != tc.want {
			t.Errorf("WaitFloor(%v, %s, %g, %v, %g) = %s, want %s", tc.copies, tc.copy, tc.jitter, tc.ready, tc.scale, got, tc.want)
		}
	}
}

// TestWaitSmall is the sync --wait rows at CI size, at EC2's real rates on
// a synctest fake clock (in-process simulator: the copy times, latency,
// buckets, pacing and polling all run on the bubble's clock): 60 AFIs × 2
// regions shared with one account, copies 30 s ± 20%, then an in-sync
// rerun. Every copy must end available, shared and tagged, with exactly
// the minimum of calls besides polling, polling within its 5% of the
// describe bucket, and the rerun must cost O(regions).
func TestWaitSmall(t *testing.T) { synctest.Test(t, testWaitSmall) }

func testWaitSmall(t *testing.T) {
	c := WaitCase{AFIs: 60, Regions: 2, Scale: 1, Latency: 50 * time.Millisecond, CopyTime: 30 * time.Second, Jitter: 0.2, Share: true, Rerun: true, Seed: 3, InMemory: true}
	r, err := RunWait(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wall %s, floor %s, calls %d (%v), polls %d (%.1f%% of the describe bucket), min %d", r.Wall, r.Floor, r.Calls.Total, r.Calls.ByAction, r.Polls, 100*r.PollShare, r.MinCalls)
	assertInvariants(t, "sync --wait", r.Inv)
	if r.Inv.Available != r.Targets || r.Shared != r.Targets || r.Failed != 0 {
		t.Errorf("%d/%d copies available, %d shared, %d targets failed (%s); want all available and shared, none failed", r.Inv.Available, r.Targets, r.Shared, r.Failed, r.Why)
	}
	if r.Calls.Throttled != 0 || r.Calls.Errors != 0 {
		t.Errorf("%d throttled, %d errors; pacing should keep below EC2's buckets", r.Calls.Throttled, r.Calls.Errors)
	}
	if got := r.Calls.Total - r.Polls; got < r.MinCalls || got > r.MinCalls+r.Polls {
		t.Errorf("%d calls besides %d polls, want the minimum %d (STS, inventory, copy + tag + share per copy, a digest CreateTags per region) plus at most one digest CreateTags a poll: %v", got, r.Polls, r.MinCalls, r.Calls.ByAction)
	}
	if r.Polls == 0 || r.PollShare > 0.05 {
		t.Errorf("%d polls, %.1f%% of the describe bucket; want some, within 5%%", r.Polls, 100*r.PollShare)
	}
	// On the fake clock, the last copy is available by the floor (its
	// earliest start, paced at the bucket less one token, plus the
	// longest copy time) and a refill interval, seen within a poll
	// interval (5 s + 20%) and shared two calls later: issue 22's
	// 1.05 × floor + 5 s holds (40.4 s against 44.9 s), and a sync that
	// shared in bulk after polling rounds would not.
	if lim := time.Duration(1.05*float64(r.Floor)) + 5*time.Second; r.Wall > lim {
		t.Errorf("sync --wait took %s on the fake clock, over 1.05 × floor (%s) + 5 s = %s", r.Wall, r.Floor, lim)
	}
	assertRerun(t, r)
}

// assertRerun checks an in-sync rerun: every target in sync, at most 2
// describes per region + 2, no DescribeFpgaImageAttribute, nothing but
// describes and STS.
func assertRerun(t *testing.T, r WaitResult) {
	t.Helper()
	x := r.Rerun
	if x == nil {
		t.Fatal("no rerun")
	}
	t.Logf("rerun: %d calls (%v)", x.Calls.Total, x.Calls.ByAction)
	if x.InSync != r.Targets || x.Changed != 0 || x.Bad != 0 {
		t.Errorf("rerun: %d/%d in sync, %d changed, %d bad; want all in sync", x.InSync, r.Targets, x.Changed, x.Bad)
	}
	if x.Describes() > x.Limit {
		t.Errorf("rerun: %d DescribeFpgaImages, over 2 per region + 2 = %d", x.Describes(), x.Limit)
	}
	if n := x.Calls.ByAction["DescribeFpgaImageAttribute"]; n != 0 {
		t.Errorf("rerun: %d DescribeFpgaImageAttribute calls; the afisync:sharing digest should spare them", n)
	}
	if want := x.Describes() + x.Calls.ByAction["GetCallerIdentity"]; x.Calls.Total != want {
		t.Errorf("rerun: %d calls (%v), want only describes and STS", x.Calls.Total, x.Calls.ByAction)
	}
	if r.Shared != r.Targets {
		t.Errorf("%d/%d copies shared after the rerun", r.Shared, r.Targets)
	}
}

// TestRerunOnlySmall is the in-sync rerun with sharing of a plan synced
// before (the 1000×10 row at CI size): 50 AFIs × 3 regions.
func TestRerunOnlySmall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := RunWait(context.Background(), WaitCase{AFIs: 50, Regions: 3, Scale: 1, Latency: 50 * time.Millisecond, Share: true, RerunOnly: true, Seed: 5, InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		assertInvariants(t, "setup", r.Inv)
		assertRerun(t, r)
	})
}

// TestPendingSourcesSmall: with --wait, a source still being built is
// polled and copied in the same run once it is available (20 s after the
// start); one that ends failed fails its targets with AWS's State.Message;
// every other target converges as usual.
func TestPendingSourcesSmall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const msg = "DCP_CORRUPT: the design checkpoint (DCP) is corrupt"
		c := WaitCase{AFIs: 10, Regions: 2, Scale: 1, Latency: 50 * time.Millisecond, CopyTime: 30 * time.Second, Jitter: 0.2, Share: true, Seed: 4, InMemory: true,
			Pending: []PendingSource{{After: 20 * time.Second}, {After: 20 * time.Second, Message: msg}}}
		r, err := RunWait(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wall %s, floor %s, calls %d (%v), failed: %s", r.Wall, r.Floor, r.Calls.Total, r.Calls.ByAction, r.FailedMessage)
		if r.PendingTargets != 2 || r.PendingCopied != r.PendingTargets {
			t.Errorf("source available at 20 s: %d/%d targets copied in this run, want 2/2", r.PendingCopied, r.PendingTargets)
		}
		if r.FailedTargets != 2 || r.FailedReported != r.FailedTargets || !strings.Contains(r.FailedMessage, msg) {
			t.Errorf("failed source: %d/%d targets reported failed with its message (%q), want 2/2 with %q", r.FailedReported, r.FailedTargets, r.FailedMessage, msg)
		}
		if r.Failed != 2 {
			t.Errorf("%d targets bad (first: %s), want the failed source's 2", r.Failed, r.Why)
		}
		inv := r.Inv
		if inv.Converged != inv.Targets-2 || inv.Available != inv.Converged || inv.Failed != 2 || inv.Duplicates != 0 || inv.Lost != 0 {
			t.Errorf("%+v; want all but the failed source's 2 targets converged and available, 2 failed, 0 duplicates, 0 lost", inv)
		}
		if r.Shared != inv.Converged {
			t.Errorf("%d copies shared, want %d", r.Shared, inv.Converged)
		}
		if got := r.Calls.Total - r.Polls; got < r.MinCalls || got > r.MinCalls+r.Polls {
			t.Errorf("%d calls besides %d polls, want the minimum %d plus at most one digest CreateTags a poll: %v", got, r.Polls, r.MinCalls, r.Calls.ByAction)
		}
		// The source's copies cannot start before 20 s: a run that
		// ended sooner did not wait for it.
		if r.Wall < 20*time.Second {
			t.Errorf("run took %s on the fake clock, before the source was available", r.Wall)
		}
	})
}
