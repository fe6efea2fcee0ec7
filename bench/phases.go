package bench

import (
	"fmt"
	"io"
	"time"

	"github.com/afisync/afisync/ec2sim"
)

// Phases splits a plain sync's wall time at its CopyFpgaImage calls, read
// from the simulator's call log (times the simulator handled each call):
// what it spent before the first copy, while copying, and after the last.
// Times are scaled, like Result.Wall.
type Phases struct {
	// Inventory is from the run's start to the last call the simulator
	// handled before the first CopyFpgaImage: STS and the inventory.
	Inventory time.Duration
	// FirstCopy is from the run's start to the first CopyFpgaImage the
	// simulator handled (the inventory, planning and one latency).
	FirstCopy time.Duration
	// Copying is from the first CopyFpgaImage accepted to the last, in
	// any region.
	Copying time.Duration
	// Tail is from the last CopyFpgaImage accepted to the run's end (the
	// last copy's answer and its tag call).
	Tail time.Duration
	// Region is the region whose last copy came last; RegionCopies its
	// accepted copies, and RegionRate their rate after its bucket's
	// burst: (RegionCopies − burst) / (its last − its first accepted
	// copy), in copies per scaled second (0 with no more than the burst).
	Region       string
	RegionCopies int
	RegionRate   float64
	// Refill is the CopyFpgaImage bucket's refill rate, scaled: the most
	// RegionRate can be once the burst is spent.
	Refill float64
	// CopyThrottled counts CopyFpgaImage answers that were throttled.
	CopyThrottled int
}

// phasesOf reads Phases from a call log of a run that went from start to
// end on the simulator's clock. ok reports whether the log had a copy.
func phasesOf(log []ec2sim.Call, start, end time.Time, scale float64) (p Phases, ok bool) {
	type span struct {
		first, last time.Time
		n           int
	}
	regions := map[string]*span{}
	var first, last time.Time
	for _, c := range log {
		if c.Action != "CopyFpgaImage" {
			continue
		}
		if c.Outcome == "RequestLimitExceeded" {
			p.CopyThrottled++
		}
		if c.Outcome != "ok" {
			continue
		}
		s := regions[c.Region]
		if s == nil {
			s = &span{first: c.Time}
			regions[c.Region] = s
		}
		s.last = c.Time
		s.n++
		if first.IsZero() || c.Time.Before(first) {
			first = c.Time
		}
		if c.Time.After(last) {
			last, p.Region = c.Time, c.Region
		}
	}
	if first.IsZero() {
		return p, false
	}
	for _, c := range log {
		if c.Action == "CopyFpgaImage" {
			p.FirstCopy = c.Time.Sub(start)
			break
		}
		p.Inventory = c.Time.Sub(start)
	}
	b := ec2sim.Buckets["CopyFpgaImage"]
	p.Refill = b.Refill * scale
	p.Copying, p.Tail = last.Sub(first), end.Sub(last)
	s := regions[p.Region]
	p.RegionCopies = s.n
	if d := s.last.Sub(s.first); float64(s.n) > b.Capacity && d > 0 {
		p.RegionRate = (float64(s.n) - b.Capacity) / d.Seconds()
	}
	return p, true
}

// WritePhasesTable writes where each afisync row's wall time went: before
// the first copy, copying, after the last copy, and the copy rate after the
// burst in the region that finished last against its bucket's refill.
func WritePhasesTable(w io.Writer, rs []Result) {
	fmt.Fprintln(w, "| Scenario | Wall (s) | Ideal (s) | Ratio | STS and inventory (s) | To first copy (s) | Copying (s) | Last copy to exit (s) | Last region: copies | Copies/s after the burst | Refill (/s) | Rate ÷ refill | Copy calls throttled |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		if r.Tool != "afisync" || r.Phases == nil {
			continue
		}
		p := r.Phases
		ratio, rate, share := "—", "—", "—"
		if r.Ratio() > 0 {
			ratio = fmt.Sprintf("%.3f", r.Ratio())
		}
		if p.RegionRate > 0 {
			rate, share = fmt.Sprintf("%.3f", p.RegionRate), fmt.Sprintf("%.3f", p.RegionRate/p.Refill)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.3f | %.3f | %s | %.3f | %d | %s | %g | %s | %d |\n",
			r.Scenario, secs(r.Wall), secs(r.Ideal), ratio, p.Inventory.Seconds(), p.FirstCopy.Seconds(), secs(p.Copying), p.Tail.Seconds(),
			p.RegionCopies, rate, p.Refill, share, p.CopyThrottled)
	}
}
