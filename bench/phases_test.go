package bench

import (
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
)

func TestPhasesOf(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	copies := func(region string, n int, from, step int) []ec2sim.Call {
		var cs []ec2sim.Call
		for i := range n {
			cs = append(cs, ec2sim.Call{Time: at(from + i*step), Action: "CopyFpgaImage", Region: region, Outcome: "ok"})
		}
		return cs
	}
	// Region a: 60 copies, the burst's 50 at 100 ms, then 10 more 200 ms
	// apart; region b: 10 copies ending later; one throttled copy.
	a := append(copies("a", 50, 100, 0), copies("a", 10, 300, 200)...)
	b := copies("b", 10, 150, 300)
	log := append(append([]ec2sim.Call{{Time: at(50), Action: "GetCallerIdentity", Outcome: "ok"},
		{Time: at(90), Action: "CopyFpgaImage", Region: "a", Outcome: "RequestLimitExceeded"}}, a...), b...)
	for _, tc := range []struct {
		name       string
		log        []ec2sim.Call
		end        int
		want       Phases
		wantCopies bool
	}{
		{name: "two regions", log: log, end: 3000, wantCopies: true, want: Phases{
			Inventory: 50 * time.Millisecond, FirstCopy: 90 * time.Millisecond, Copying: 2750 * time.Millisecond, Tail: 150 * time.Millisecond,
			Region: "b", RegionCopies: 10, Refill: 5, CopyThrottled: 1}},
		{name: "one region past its burst", log: a, end: 2200, wantCopies: true, want: Phases{
			FirstCopy: 100 * time.Millisecond, Copying: 2000 * time.Millisecond, Tail: 100 * time.Millisecond,
			Region: "a", RegionCopies: 60, RegionRate: 5, Refill: 5}},
		{name: "no copies", log: log[:1], end: 100},
	} {
		got, ok := phasesOf(tc.log, t0, at(tc.end), 1)
		if ok != tc.wantCopies || got != tc.want {
			t.Errorf("%s: phasesOf = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.wantCopies)
		}
	}
}
