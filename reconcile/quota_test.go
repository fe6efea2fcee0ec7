package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/plan"
)

var now = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// held returns n AFIs in region that belong to no plan.
func held(region string, n int) []Image {
	out := make([]Image, n)
	for i := range out {
		out[i] = Image{ID: fmt.Sprintf("afi-0%016x", i+1000), Region: region, OwnerID: acct, State: StateAvailable}
	}
	return out
}

// shells returns n available sources in us-east-1 named shell-1… shell-n,
// shell-i created i days before now... reversed: shell-n is the newest.
func shells(n int) []Image {
	out := make([]Image, n)
	for i := range out {
		out[i] = Image{ID: fmt.Sprintf("afi-0%016x", i+1), AGFI: fmt.Sprintf("agfi-0%016x", i+1), Region: "us-east-1", OwnerID: acct,
			State: StateAvailable, Name: fmt.Sprintf("shell-%d", i+1), CreateTime: now.Add(-time.Duration(n-i) * 24 * time.Hour)}
	}
	return out
}

// copyOf is this plan's copy of source s in region.
func copyOf(s Image, region string, id int, claims ...string) Image {
	tags := map[string]string{plan.TagSource: "us-east-1/" + s.ID, plan.ClaimKey("p"): "p"}
	for _, c := range claims {
		tags[plan.ClaimKey(c)] = c
	}
	return Image{ID: fmt.Sprintf("afi-0%016x", id), AGFI: s.AGFI, Region: region, OwnerID: acct, State: StateAvailable, Name: s.Name, Tags: tags}
}

func limitOf(n int) func(string) Limit {
	return func(string) Limit { return Limit{AFIs: n, Source: LimitFromFlag} }
}

func selTargets(r *plan.Retain, regions ...string) []plan.Target {
	var ts []plan.Target
	for _, region := range regions {
		ts = append(ts, plan.Target{SourceRegion: "us-east-1", Region: region, Selector: &plan.Selector{Name: "shell-*"}, Retain: r})
	}
	return ts
}

func count(d *DiffResult, region string, a Action) int {
	n := 0
	for _, c := range d.Changes {
		if c.Target.Region == region && c.Action == a {
			n++
		}
	}
	return n
}

// TestQuotaRefusal is the scenario without retention: 18 AFIs held
// in us-west-2, limit 20, 5 to copy there: no copy in us-west-2, the
// message names the region and the counts, eu-west-1 goes on.
func TestQuotaRefusal(t *testing.T) {
	inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": shells(5), "us-west-2": held("us-west-2", 18), "eu-west-1": held("eu-west-1", 2)}}
	d := Diff(selTargets(nil, "us-west-2", "eu-west-1"), inv, DiffOptions{PlanName: "p", Now: now})
	hs := Headrooms(inv, d, limitOf(20), false)
	want := map[string][3]int{"eu-west-1": {2, 5, 7}, "us-east-1": {5, 0, 5}, "us-west-2": {18, 5, 23}}
	if len(hs) != len(want) {
		t.Fatalf("Headrooms = %+v", hs)
	}
	for _, h := range hs {
		w := want[h.Region]
		if h.Held != w[0] || h.Copies != w[1] || h.After() != w[2] || h.Room() != 20-w[2] {
			t.Errorf("%s: held %d copies %d after %d room %d; want %v", h.Region, h.Held, h.Copies, h.After(), h.Room(), w)
		}
	}
	if got := Refuse(d, hs); len(got) != 1 || got[0] != "us-west-2" {
		t.Errorf("Refuse = %v, want [us-west-2]", got)
	}
	if n := count(d, "us-west-2", ActionFail); n != 5 {
		t.Errorf("%d failed targets in us-west-2, want 5", n)
	}
	if n := count(d, "eu-west-1", ActionCopy); n != 5 {
		t.Errorf("%d copies to eu-west-1, want 5", n)
	}
	for _, c := range d.Changes {
		if c.Target.Region == "us-west-2" {
			for _, w := range []string{"us-west-2 holds 18", "limit is 20 (flag)", "create 5", "--afi-limit", "--prune", "retain:"} {
				if !strings.Contains(c.Reason, w) {
					t.Errorf("refusal %q lacks %q", c.Reason, w)
				}
			}
			break
		}
	}
}

// TestQuotaOverAtStart: a region over its limit with nothing planned is
// named, and nothing is refused.
func TestQuotaOverAtStart(t *testing.T) {
	inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": shells(1), "us-west-2": held("us-west-2", 25)}}
	d := Diff(selTargets(nil, "eu-west-1"), inv, DiffOptions{PlanName: "p", Now: now})
	hs := Headrooms(inv, d, limitOf(20), false)
	if len(Refuse(d, hs)) != 0 {
		t.Error("refused a region the run makes no copy in")
	}
	var w2 Headroom
	for _, h := range hs {
		if h.Region == "us-west-2" {
			w2 = h
		}
	}
	if !w2.OverAtStart() || !strings.Contains(w2.Warning(), "us-west-2 holds 25 AFIs, over its limit of 20") {
		t.Errorf("us-west-2 = %+v, warning %q", w2, w2.Warning())
	}
}

// TestRetention covers the retention rules: what expires, what is only
// released, what is never touched, and the refusal of a rule that would
// expire everything.
func TestRetention(t *testing.T) {
	src := shells(8) // shell-8 newest
	old := []Image{copyOf(src[0], "us-west-2", 501), copyOf(src[1], "us-west-2", 502), copyOf(src[2], "us-west-2", 503, "q")}
	public := copyOf(src[2], "eu-west-1", 504)
	public.Public = true
	inv := func() *Inventory {
		w2 := append(held("us-west-2", 15), old...)
		return &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": src, "us-west-2": w2, "eu-west-1": {public}}}
	}
	all := []string{"afi-000000000000001f8", "afi-000000000000001f5", "afi-000000000000001f6", "afi-000000000000001f7"}
	tests := []struct {
		name     string
		rule     *plan.Retain
		copies   int      // targets to copy into us-west-2
		expired  []string // copies expiring (deleted, released or kept public), in prune order
		released string   // the expired copy another plan claims
		deletes  int      // in us-west-2, for the headroom
		refused  bool
	}{
		{name: "keep last 5", rule: &plan.Retain{KeepLast: 5}, copies: 5, expired: all, released: "afi-000000000000001f7", deletes: 2},
		{name: "newer than 4 days", rule: &plan.Retain{KeepNewerThan: 4 * 24 * time.Hour}, copies: 3, expired: all, released: "afi-000000000000001f7", deletes: 2},
		{name: "either keeps", rule: &plan.Retain{KeepLast: 7, KeepNewerThan: 24 * time.Hour}, copies: 5, expired: all[1:2], deletes: 1},
		{name: "prefix that picks nothing", rule: &plan.Retain{KeepLast: 1, NamePrefix: "nic-"}, copies: 5},
		{name: "everything expires", rule: &plan.Retain{KeepNewerThan: time.Hour}, refused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			iv := inv()
			d := Diff(selTargets(tc.rule, "us-west-2"), iv, DiffOptions{PlanName: "p", Now: now})
			if tc.refused {
				if len(d.Changes) != 1 || d.Changes[0].Action != ActionFail || !strings.Contains(d.Changes[0].Reason, "would expire all 8 AFIs") || len(d.Prunes) != 0 {
					t.Errorf("changes %+v prunes %+v; want one refusal and nothing expired", d.Changes, d.Prunes)
				}
				return
			}
			if n := count(d, "us-west-2", ActionCopy); n != tc.copies {
				t.Errorf("%d copies, want %d", n, tc.copies)
			}
			var got []string
			for _, p := range d.Prunes {
				if !p.Expire || !strings.Contains(p.Reason, "retain ") {
					t.Errorf("prune %s (%s) without --prune is not an expiration", p.Copy.ID, p.Reason)
				}
				if (len(p.Others) > 0) != (p.Copy.ID == tc.released) {
					t.Errorf("prune %s: others %v; want only %s released", p.Copy.ID, p.Others, tc.released)
				}
				got = append(got, p.Copy.ID)
			}
			if strings.Join(got, " ") != strings.Join(tc.expired, " ") {
				t.Errorf("expired %v, want %v", got, tc.expired)
			}
			for _, h := range Headrooms(iv, d, limitOf(20), false) {
				if h.Region == "us-west-2" && h.Deletes != tc.deletes {
					t.Errorf("us-west-2 deletes %d, want %d", h.Deletes, tc.deletes)
				}
				if h.Region == "eu-west-1" && h.Deletes != 0 {
					t.Errorf("eu-west-1 counts the public copy as deleted")
				}
			}
		})
	}
}

// TestRetentionSparesListedAFIs: a source a rule expires that another
// entry lists keeps its copies.
func TestRetentionSparesListedAFIs(t *testing.T) {
	src := shells(3)
	inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": src, "us-west-2": {copyOf(src[0], "us-west-2", 501)}}}
	ts := append(selTargets(&plan.Retain{KeepLast: 1}, "us-west-2"), plan.Target{SourceRegion: "us-east-1", SourceAFI: src[0].ID, Region: "us-west-2"})
	d := Diff(ts, inv, DiffOptions{PlanName: "p", Now: now})
	if len(d.Prunes) != 0 {
		t.Errorf("expired a copy the plan lists: %+v", d.Prunes)
	}
}
