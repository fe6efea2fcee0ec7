package bench

import (
	"runtime"
	"testing"
	"time"

	"github.com/afisync/afisync/reconcile"
)

// The memory budget for planning 10,000 AFIs × 20 regions (its time
// budget, 1 s, is measured by BenchmarkDiff10kx20, not asserted).
const (
	scaleAFIs    = 10000
	scaleRegions = 20
	memBudget    = 256 << 20
)

// benchDiff runs reconcile.Diff over w's explicit targets (or its selector plan)
// and reports, besides ns/op and B/op (allocated per diff): input-MiB, the
// live heap of the inventory and targets before diffing, and result-MiB,
// what the diff's result keeps live after a GC. The peak heap of a diff is
// at most input-MiB plus B/op.
func benchDiff(b *testing.B, copied, selector bool) {
	w, err := NewScaleWorld(scaleAFIs, scaleRegions, copied)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	world := ms.HeapAlloc
	var d *reconcile.DiffResult
	b.ReportAllocs()
	for b.Loop() {
		targets := w.Targets
		if selector {
			targets = w.Selector.Targets()
		}
		d = reconcile.Diff(targets, w.Inv, reconcile.DiffOptions{Retries: 3, PlanName: PlanName})
	}
	b.StopTimer()
	if len(d.Changes) != scaleAFIs*scaleRegions {
		b.Fatalf("%d changes, want %d", len(d.Changes), scaleAFIs*scaleRegions)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(d)
	runtime.KeepAlive(w)
	b.ReportMetric(float64(world)/(1<<20), "input-MiB")
	b.ReportMetric(float64(ms.HeapAlloc-world)/(1<<20), "result-MiB")
}

// BenchmarkDiff10kx20 plans 10,000 AFIs × 20 regions from an in-memory
// inventory: go test -run '^$' -bench Diff10k -benchtime 5x ./bench
func BenchmarkDiff10kx20(b *testing.B) {
	b.Run("explicit/steady", func(b *testing.B) { benchDiff(b, true, false) })
	b.Run("explicit/empty", func(b *testing.B) { benchDiff(b, false, false) })
	b.Run("selector/steady", func(b *testing.B) { benchDiff(b, true, true) })
}

// TestDiffScale holds reconcile.Diff to the budget at 10,000 AFIs × 20 regions
// with every copy present (the largest inventory): at most 256 MiB allocated
// by the diff (allocation is deterministic; time is only logged). Under the
// race detector, which inflates allocation, it checks only the result.
func TestDiffScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 210,000-AFI inventory")
	}
	w, err := NewScaleWorld(scaleAFIs, scaleRegions, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, selector := range []bool{false, true} {
		t.Run(map[bool]string{false: "explicit", true: "selector"}[selector], func(t *testing.T) {
			targets := w.Targets
			if selector {
				targets = w.Selector.Targets()
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			d := reconcile.Diff(targets, w.Inv, reconcile.DiffOptions{Retries: 3, PlanName: PlanName})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if len(d.Changes) != scaleAFIs*scaleRegions {
				t.Fatalf("%d changes, want %d", len(d.Changes), scaleAFIs*scaleRegions)
			}
			for _, c := range d.Changes {
				if c.Action != reconcile.ActionNone {
					t.Fatalf("steady state: %s → %s is %s (%s), want none", c.Target.SourceAFI, c.Target.Region, c.Action, c.Reason)
				}
			}
			t.Logf("diff of %d targets: %s, %.1f MiB allocated", len(d.Changes), took, float64(alloc)/(1<<20))
			if raceEnabled {
				return // the race detector changes allocation
			}
			if alloc > memBudget {
				t.Errorf("diff allocated %.1f MiB, budget %d MiB", float64(alloc)/(1<<20), memBudget>>20)
			}
		})
	}
}
