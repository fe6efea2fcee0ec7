package executor

import (
	"sort"
	"time"

	"github.com/afisync/afisync/report"
)

// Phases a run goes through, as reported in Progress.
const (
	PhaseInventory = "inventory" // listing AFIs in every region
	PhaseCopying   = "copying"   // starting copies
	PhaseWaiting   = "waiting"   // polling pending copies (--wait)
	PhaseDone      = "done"      // the report is ready
)

// Progress is a snapshot of a run. Options.Progress receives one whenever
// the picture changes: after the inventory, after each copy starts, after
// each polling round, and at the end.
type Progress struct {
	Phase    string
	Started  time.Time
	Now      time.Time
	Deadline time.Time // when --wait gives up; zero without --wait
	Regions  []RegionProgress
}

// RegionProgress counts one destination region's targets by where they
// stand.
type RegionProgress struct {
	Region    string
	Pending   int // copies pending in AWS
	Available int // in sync, copied, updated or adopted
	Failed    int // failed, timed out or skipped
	Other     int // not yet started, or a dry run's would-* changes
}

// Total is the number of targets in the region.
func (r RegionProgress) Total() int { return r.Pending + r.Available + r.Failed + r.Other }

// add counts a target of status s whose copy is pending in AWS or not.
func (r *RegionProgress) add(s report.Status, pending bool) {
	switch {
	case pending:
		r.Pending++
	case s.Available():
		r.Available++
	case s.Bad():
		r.Failed++
	default:
		r.Other++
	}
}

// progress sends a snapshot to Options.Progress, if set.
func (r *run) progress(phase string) {
	if r.o.Progress == nil {
		return
	}
	r.mu.Lock()
	by := map[string]*RegionProgress{}
	for _, res := range r.results {
		reg := res.ch.Target.Region
		rp := by[reg]
		if rp == nil {
			rp = &RegionProgress{Region: reg}
			by[reg] = rp
		}
		rp.add(res.status, res.pending)
	}
	r.mu.Unlock()
	p := Progress{Phase: phase, Started: r.started, Now: r.o.Clock.Now(), Deadline: r.deadline}
	for _, rp := range by {
		p.Regions = append(p.Regions, *rp)
	}
	sort.Slice(p.Regions, func(i, j int) bool { return p.Regions[i].Region < p.Regions[j].Region })
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	r.o.Progress(p)
}
