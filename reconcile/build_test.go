package reconcile

import (
	"strings"
	"testing"

	"github.com/afisync/afisync/plan"
)

func TestBuildKeyAndToken(t *testing.T) {
	b := &plan.Build{Input: "s3://fpga-builds/dcp/nic-v4.tar", Logs: "s3://fpga-builds/logs/"}
	k := BuildKey(b, "nic-v4")
	if len(k) != 32 || BuildKey(&plan.Build{Input: b.Input, Logs: b.Logs}, "nic-v4") != k {
		t.Fatalf("BuildKey = %q: want 32 hex digits, the same for the same build", k)
	}
	for name, other := range map[string]string{
		"input": BuildKey(&plan.Build{Input: "s3://fpga-builds/dcp/nic-v5.tar", Logs: b.Logs}, "nic-v4"),
		"logs":  BuildKey(&plan.Build{Input: b.Input}, "nic-v4"),
		"name":  BuildKey(b, "nic-v4b"),
		// The parts are kept apart: moving text from one to the next
		// is another build.
		"boundary": BuildKey(&plan.Build{Input: b.Input, Logs: b.Logs + "x"}, "-v4"),
	} {
		if other == k {
			t.Errorf("a build with another %s has the same key", name)
		}
	}
	if tok := BuildToken(k); len(tok) > 64 || !strings.HasSuffix(tok, k) {
		t.Errorf("BuildToken = %q (%d characters): want at most 64, ending in the key", tok, len(tok))
	}
	tags := BuildTags(k, "release")
	if tags[plan.TagBuild] != k || tags[plan.ClaimKey("release")] != "release" || len(tags) != 2 {
		t.Errorf("BuildTags = %v", tags)
	}
}

func TestDiffBuilds(t *testing.T) {
	b := &plan.Build{Input: "s3://fpga-builds/dcp/nic-v4.tar"}
	key := BuildKey(b, "nic-v4")
	target := func(region string) plan.Target {
		return plan.Target{SourceRegion: "us-east-1", Build: b, Name: "nic-v4", Region: region}
	}
	built := func(id, state, msg string) Image {
		im := Image{ID: id, Region: "us-east-1", OwnerID: acct, State: state, Message: msg, Name: "nic-v4",
			Tags: map[string]string{plan.TagBuild: key, plan.ClaimKey("p"): "p"}}
		if state == StateAvailable {
			im.AGFI = agfi
		}
		return im
	}
	copyOf := func(id string) Image {
		return Image{ID: "afi-c", AGFI: agfi, Region: "us-west-2", OwnerID: acct, State: StateAvailable, Name: "nic-v4",
			Tags: map[string]string{plan.TagSource: "us-east-1/" + id, plan.ClaimKey("p"): "p"}}
	}
	tests := []struct {
		name       string
		east, west []Image
		unlisted   string
		wantAction Action
		wantSource string
		wantReason string
	}{
		{name: "not built", wantAction: ActionBuild, wantReason: `build "nic-v4" in us-east-1 (CreateFpgaImage), then copy it`},
		{name: "another build's AFI is not this one", east: []Image{func() Image {
			im := built("afi-b", StateAvailable, "")
			im.Tags[plan.TagBuild] = BuildKey(b, "nic-v3")
			return im
		}()}, wantAction: ActionBuild},
		{name: "building", east: []Image{built("afi-b", StatePending, "")},
			wantAction: ActionAwaitSource, wantSource: "afi-b", wantReason: "build afi-b in us-east-1 is still pending"},
		{name: "built", east: []Image{built("afi-b", StateAvailable, "")},
			wantAction: ActionCopy, wantSource: "afi-b"},
		{name: "built and copied", east: []Image{built("afi-b", StateAvailable, "")}, west: []Image{copyOf("afi-b")},
			wantAction: ActionNone, wantSource: "afi-b"},
		{name: "failed: never built again", east: []Image{built("afi-b", StateFailed, "DCP_CORRUPT: Could not parse the input DCP.")},
			wantAction: ActionSkip, wantSource: "afi-b",
			wantReason: "build afi-b failed: DCP_CORRUPT: Could not parse the input DCP.; afisync builds an input once"},
		{name: "pending wins over failed", east: []Image{built("afi-a", StateFailed, "X"), built("afi-b", StatePending, "")},
			wantAction: ActionAwaitSource, wantSource: "afi-b"},
		{name: "source region not listed: no build", unlisted: "us-east-1",
			wantAction: ActionFail, wantReason: "could not list the AFIs in us-east-1 to find the build: InternalError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": tc.east, "us-west-2": tc.west, "eu-west-2": nil},
				Unlisted: map[string]string{}}
			if tc.unlisted != "" {
				inv.Unlisted[tc.unlisted] = "InternalError: boom"
				delete(inv.Owned, tc.unlisted)
			}
			// Two entries' worth: the same build twice, into two regions.
			ts := []plan.Target{target("us-west-2"), target("eu-west-2"), target("us-west-2")}
			res := Diff(ts, inv, DiffOptions{PlanName: "p", Retries: 3})
			if len(res.Changes) != 2 {
				t.Fatalf("got %d changes, want 2 (one per region): %+v", len(res.Changes), res.Changes)
			}
			c := res.Changes[0]
			if c.Action != tc.wantAction || c.Target.SourceAFI != tc.wantSource || !strings.Contains(c.Reason, tc.wantReason) {
				t.Errorf("got %s, source %q, reason %q; want %s, %q, %q", c.Action, c.Target.SourceAFI, c.Reason, tc.wantAction, tc.wantSource, tc.wantReason)
			}
			if c.Target.Build == nil || c.Target.Region != "us-west-2" || res.Changes[1].Target.Region != "eu-west-2" {
				t.Errorf("changes lost their build or regions: %+v", res.Changes)
			}
		})
	}
}

// TestDiffTwoBuildsNotYetMade keeps two builds apart before either has an
// AFI (neither has a source AFI ID to tell them by).
func TestDiffTwoBuildsNotYetMade(t *testing.T) {
	ts := []plan.Target{
		{SourceRegion: "us-east-1", Build: &plan.Build{Input: "s3://b/one.tar"}, Name: "one", Region: "us-west-2"},
		{SourceRegion: "us-east-1", Build: &plan.Build{Input: "s3://b/two.tar"}, Name: "two", Region: "us-west-2"},
	}
	inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": nil, "us-west-2": nil}}
	res := Diff(ts, inv, DiffOptions{PlanName: "p"})
	if len(res.Changes) != 2 || res.Changes[0].Action != ActionBuild || res.Changes[1].Action != ActionBuild {
		t.Errorf("want two builds: %+v", res.Changes)
	}
}

// TestDecisionsOfBuilds keeps the decisions of builds not made yet apart
// (a saved plan keys decisions by source), and finds a saved plan stale
// once the build exists.
func TestDecisionsOfBuilds(t *testing.T) {
	ts := []plan.Target{
		{SourceRegion: "us-east-1", Build: &plan.Build{Input: "s3://b/one.tar"}, Name: "one", Region: "us-west-2"},
		{SourceRegion: "us-east-1", Build: &plan.Build{Input: "s3://b/two.tar"}, Name: "two", Region: "us-west-2"},
	}
	inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": nil, "us-west-2": nil}}
	saved := Decisions(Diff(ts, inv, DiffOptions{PlanName: "p"}))
	if len(saved) != 2 || saved[0].SourceAFI == saved[1].SourceAFI || !strings.HasPrefix(saved[0].SourceAFI, "build:one/") {
		t.Fatalf("decisions %+v: want two, named by their builds", saved)
	}
	if diffs := Stale(saved, Decisions(Diff(ts, inv, DiffOptions{PlanName: "p"}))); len(diffs) != 0 {
		t.Errorf("the same world is stale: %v", diffs)
	}
	inv.Owned["us-east-1"] = []Image{{ID: "afi-b", Region: "us-east-1", OwnerID: acct, State: StatePending,
		Tags: map[string]string{plan.TagBuild: BuildKey(ts[0].Build, "one")}}}
	if diffs := Stale(saved, Decisions(Diff(ts, inv, DiffOptions{PlanName: "p"}))); len(diffs) != 2 {
		t.Errorf("built since: want the build's decision gone and a new one, got %v", diffs)
	}
}
