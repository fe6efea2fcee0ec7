package reconcile

import (
	"strings"
	"testing"

	"github.com/afisync/afisync/plan"
)

func TestStale(t *testing.T) {
	base := func() []Decision {
		return []Decision{
			{SourceRegion: "us-east-1", SourceAFI: "afi-1", Region: "us-west-2", Action: ActionCopy, Attempt: 1,
				Basis: Basis{SourceState: StateAvailable, SourceAGFI: "agfi-1"}},
			{SourceRegion: "us-east-1", SourceAFI: "afi-1", Region: "eu-west-1", Action: ActionNone,
				Basis: Basis{SourceState: StateAvailable, CopyAFI: "afi-9", CopyState: StateAvailable, CopyTags: map[string]string{"team": "fpga"}}},
		}
	}
	cases := []struct {
		name   string
		change func([]Decision) []Decision
		want   string // "" = not stale
	}{
		{"same", func(d []Decision) []Decision { return d }, ""},
		{"action", func(d []Decision) []Decision { d[0].Action = ActionWait; return d }, "was copy, now wait"},
		{"attempt", func(d []Decision) []Decision { d[0].Attempt = 2; return d }, "attempt 1, now 2"},
		{"copy tags", func(d []Decision) []Decision { d[1].Basis.CopyTags = map[string]string{"team": "asic"}; return d }, "copy tags team=fpga, now team=asic"},
		{"source gone", func(d []Decision) []Decision { d[0].Basis.SourceState, d[0].Action = "", ActionSkip; return d }, "source available, now none"},
		{"new target", func(d []Decision) []Decision {
			return append(d, Decision{SourceRegion: "us-east-1", SourceAFI: "afi-2", Region: "us-west-2", Action: ActionCopy})
		}, "us-east-1/afi-2→us-west-2: new since the plan was saved"},
		{"target dropped", func(d []Decision) []Decision { return d[:1] }, "no longer planned (was none)"},
		{"updates", func(d []Decision) []Decision { d[1].Updates = []string{"+ tag x=y"}; return d }, `updates "", now "+ tag x=y"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(Stale(base(), tc.change(base())), "\n")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("Stale = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecisionsAreSortedAndCarryTheBasis(t *testing.T) {
	src := "afi-0123456789abcdef0"
	inv := &Inventory{Account: "111122223333", Owned: map[string][]Image{
		"us-east-1": {{ID: src, OwnerID: "111122223333", State: StateAvailable, AGFI: "agfi-1"}},
		"us-west-2": {{ID: "afi-9", State: StatePending, Tags: map[string]string{plan.TagSource: "us-east-1/" + src, plan.ClaimKey("p"): "p"}}},
		"eu-west-1": nil,
	}}
	targets := []plan.Target{
		{SourceRegion: "us-east-1", SourceAFI: src, Region: "us-west-2"},
		{SourceRegion: "us-east-1", SourceAFI: src, Region: "eu-west-1"},
	}
	ds := Decisions(Diff(targets, inv, DiffOptions{PlanName: "p"}))
	if len(ds) != 2 || ds[0].Region != "eu-west-1" || ds[1].Region != "us-west-2" {
		t.Fatalf("decisions %+v, want eu-west-1 then us-west-2", ds)
	}
	if ds[1].Action != ActionWait || ds[1].Basis.CopyAFI != "afi-9" || ds[1].Basis.CopyState != StatePending || ds[0].Basis.SourceAGFI != "agfi-1" {
		t.Errorf("decisions lack their basis: %+v", ds)
	}
}
