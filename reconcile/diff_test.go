package reconcile

import (
	"strings"
	"testing"

	"github.com/afisync/afisync/plan"
)

const (
	acct  = "111122223333"
	other = "444455556666"
	src   = "afi-0123456789abcdef0"
	agfi  = "agfi-0123456789abcdef0"
)

func srcImage() Image {
	return Image{ID: src, AGFI: agfi, Region: "us-east-1", OwnerID: acct, State: StateAvailable, Name: "nic", Tags: map[string]string{"team": "fpga"}}
}

func tagged(id, state, msg string) Image {
	return Image{ID: id, Region: "us-west-2", OwnerID: acct, State: state, Message: msg, Name: "nic",
		Tags: map[string]string{plan.TagSource: "us-east-1/" + src, plan.ClaimKey("p"): "p"}}
}

func TestDiff(t *testing.T) {
	target := plan.Target{SourceRegion: "us-east-1", SourceAFI: src, Region: "us-west-2"}
	transient := "INTERNAL_ERROR: try again"
	tests := []struct {
		name        string
		owned       map[string][]Image
		foreign     map[string]SourceInfo
		retries     int
		wantAction  Action
		wantAttempt int
		wantCopy    string
		wantReason  string
	}{
		{name: "no copy", wantAction: ActionCopy, wantAttempt: 1, wantReason: "no copy in us-west-2"},
		{name: "tagged available", owned: map[string][]Image{"us-west-2": {withAGFI(tagged("afi-1", StateAvailable, ""))}},
			wantAction: ActionNone, wantAttempt: 1, wantCopy: "afi-1"},
		{name: "tagged pending", owned: map[string][]Image{"us-west-2": {tagged("afi-1", StatePending, "")}},
			wantAction: ActionWait, wantAttempt: 1, wantCopy: "afi-1", wantReason: "pending"},
		{name: "failed then pending", owned: map[string][]Image{"us-west-2": {tagged("afi-1", StateFailed, transient), tagged("afi-2", StatePending, "")}},
			wantAction: ActionWait, wantAttempt: 2, wantCopy: "afi-2"},
		{name: "failed transient is retried", retries: 3, owned: map[string][]Image{"us-west-2": {tagged("afi-1", StateFailed, transient)}},
			wantAction: ActionRetry, wantAttempt: 2, wantCopy: "afi-1", wantReason: transient},
		{name: "failed NOT_FOUND is not retried", retries: 3, owned: map[string][]Image{"us-west-2": {tagged("afi-1", StateFailed, "NOT_FOUND: Source image is not found or the user ID is not authorized to copy source image.")}},
			wantAction: ActionFail, wantAttempt: 1, wantReason: "NOT_FOUND: Source image"},
		{name: "failed INVALID_STATE is not retried", retries: 3, owned: map[string][]Image{"us-west-2": {tagged("afi-1", StateFailed, "INVALID_STATE: Source image is not in a suitable state to allow copying.")}},
			wantAction: ActionFail, wantAttempt: 1, wantReason: "INVALID_STATE"},
		{name: "retries exhausted", retries: 1, owned: map[string][]Image{"us-west-2": {tagged("afi-1", StateFailed, transient), tagged("afi-2", StateFailed, transient)}},
			wantAction: ActionFail, wantAttempt: 2, wantReason: "gave up after 2 attempts; last copy afi-2 failed: " + transient},
		{name: "found by AGFI is adopted", owned: map[string][]Image{"us-west-2": {{ID: "afi-9", AGFI: agfi, Region: "us-west-2", OwnerID: acct, State: StateAvailable, Name: "nic"}}},
			wantAction: ActionAdopt, wantAttempt: 0, wantCopy: "afi-9", wantReason: "adopt afi-9 (same AGFI, not made by afisync): + tag afisync:plan:p=p, + tag afisync:source=us-east-1/" + src},
		{name: "pending copy by AGFI is not counted", owned: map[string][]Image{"us-west-2": {{ID: "afi-9", Region: "us-west-2", OwnerID: acct, State: StatePending}}},
			wantAction: ActionCopy, wantAttempt: 1},
		{name: "source missing", owned: map[string][]Image{"us-east-1": nil}, foreign: map[string]SourceInfo{"us-east-1/" + src: {}},
			wantAction: ActionSkip, wantReason: "not found in us-east-1"},
		{name: "source shared", owned: map[string][]Image{"us-east-1": nil}, foreign: map[string]SourceInfo{"us-east-1/" + src: {Image: &Image{ID: src, OwnerID: other, State: StateAvailable}}},
			wantAction: ActionSkip, wantReason: "shared with this account but owned by " + other},
		{name: "source public", owned: map[string][]Image{"us-east-1": nil}, foreign: map[string]SourceInfo{"us-east-1/" + src: {Image: &Image{ID: src, OwnerID: other, State: StateAvailable, Public: true}}},
			wantAction: ActionSkip, wantReason: "public but owned by " + other},
		{name: "source pending", owned: map[string][]Image{"us-east-1": {{ID: src, OwnerID: acct, State: StatePending}}},
			wantAction: ActionAwaitSource, wantAttempt: 1, wantReason: "is still pending"},
		{name: "source failed", owned: map[string][]Image{"us-east-1": {{ID: src, OwnerID: acct, State: StateFailed, Message: "DCP_CORRUPT"}}},
			wantAction: ActionSkip, wantReason: "is failed, not available: DCP_CORRUPT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": {srcImage()}}, Foreign: tc.foreign}
			for r, ims := range tc.owned {
				inv.Owned[r] = ims
			}
			res := Diff([]plan.Target{target}, inv, DiffOptions{Retries: tc.retries, PlanName: "p"})
			if len(res.Changes) != 1 {
				t.Fatalf("got %d changes, want 1", len(res.Changes))
			}
			c := res.Changes[0]
			if c.Action != tc.wantAction || c.Attempt != tc.wantAttempt {
				t.Errorf("action, attempt = %s, %d; want %s, %d (reason %q)", c.Action, c.Attempt, tc.wantAction, tc.wantAttempt, c.Reason)
			}
			gotCopy := ""
			if c.Copy != nil {
				gotCopy = c.Copy.ID
			}
			if tc.wantCopy != "" && gotCopy != tc.wantCopy {
				t.Errorf("copy = %q, want %q", gotCopy, tc.wantCopy)
			}
			if !strings.Contains(c.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", c.Reason, tc.wantReason)
			}
		})
	}
}

func withAGFI(im Image) Image { im.AGFI = agfi; return im }

func TestDiffSelectors(t *testing.T) {
	owned := map[string][]Image{
		"us-east-1": {
			{ID: "afi-a", Name: "release-2026.11-nic", State: StateAvailable, Tags: map[string]string{"release": "2026.11"}},
			{ID: "afi-b", Name: "release-2026.11-dma", State: StateAvailable, Tags: map[string]string{"release": "2026.11"}},
			{ID: "afi-c", Name: "release-2026.11-old", State: StateAvailable, Tags: map[string]string{"release": "2026.10"}},
			{ID: "afi-d", Name: "release-2026.11-wip", State: StatePending, Tags: map[string]string{"release": "2026.11"}},
			{ID: "afi-e", Name: "release-2026.11-nic", State: StateAvailable, Tags: map[string]string{"release": "2026.11", plan.TagSource: "us-west-2/afi-x"}},
		},
		"eu-west-1": nil,
	}
	sel := &plan.Selector{Name: "release-2026.11-*", Tags: map[string]string{"release": "2026.11"}}
	none := &plan.Selector{Name: "nothing-*"}
	targets := []plan.Target{
		{SourceRegion: "us-east-1", SourceAFI: "afi-b", Region: "eu-west-1", Name: "explicit"},
		{SourceRegion: "us-east-1", Selector: sel, Region: "eu-west-1"},
		{SourceRegion: "us-east-1", Selector: none, Region: "eu-west-1"},
	}
	res := Diff(targets, &Inventory{Account: acct, Owned: owned}, DiffOptions{})
	var got []string
	for _, c := range res.Changes {
		s := c.Target.SourceAFI + ">" + c.Target.Region + ":" + string(c.Action) + ":" + c.Target.Name
		if c.Selector != nil {
			s += ":sel"
		}
		got = append(got, s)
	}
	want := []string{"afi-b>eu-west-1:copy:explicit", "afi-a>eu-west-1:copy::sel"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("changes = %v, want %v", got, want)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `name="nothing-*"`) {
		t.Errorf("warnings = %q, want one about the selector that matched nothing", res.Warnings)
	}
}

func TestClientToken(t *testing.T) {
	a := ClientToken("us-east-1", src, "us-west-2", 1)
	if a != ClientToken("us-east-1", src, "us-west-2", 1) {
		t.Fatal("token is not deterministic")
	}
	if len(a) > 64 {
		t.Errorf("token %q is %d characters; EC2 allows 64", a, len(a))
	}
	for _, b := range []string{
		ClientToken("us-east-1", src, "us-west-2", 2),
		ClientToken("us-east-1", src, "eu-west-1", 1),
		ClientToken("us-west-2", src, "us-west-2", 1),
		ClientToken("us-east-1", "afi-0123456789abcdef1", "us-west-2", 1),
	} {
		if a == b {
			t.Errorf("tokens collide: %s", a)
		}
	}
	for _, r := range a {
		if r > 127 {
			t.Fatalf("token %q is not ASCII", a)
		}
	}
}

func TestNextAfterFailure(t *testing.T) {
	const (
		notFound     = "NOT_FOUND: Source image is not found or the user ID is not authorized to copy source image."
		invalidState = "INVALID_STATE: Source image is not in a suitable state to allow copying."
		internal     = "INTERNAL_ERROR: An internal error occurred while copying the image. Retry the request."
	)
	tests := []struct {
		name             string
		attempt, retries int
		message          string
		wantRetry        bool
		wantReason       string
	}{
		{"transient, retries left", 1, 3, internal, true, "copy afi-1 failed: " + internal},
		{"transient, last retry", 3, 3, internal, true, "copy afi-1 failed: " + internal},
		{"transient, retries spent", 4, 3, internal, false, "gave up after 4 attempts; last copy afi-1 failed: " + internal},
		{"transient, never retry", 1, 0, internal, false, "gave up after 1 attempt; last copy afi-1 failed: " + internal},
		{"no message is transient", 1, 3, "", true, "copy afi-1 failed"},
		{"NOT_FOUND is final", 1, 3, notFound, false, "copy afi-1 failed: " + notFound},
		{"INVALID_STATE is final", 1, 3, invalidState, false, "copy afi-1 failed: " + invalidState},
		{"prefix only at the start", 1, 3, "INTERNAL_ERROR: NOT_FOUND: x", true, "copy afi-1 failed: INTERNAL_ERROR: NOT_FOUND: x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			retry, reason := NextAfterFailure(tc.attempt, tc.retries, "afi-1", tc.message)
			if retry != tc.wantRetry || reason != tc.wantReason {
				t.Errorf("NextAfterFailure(%d, %d, %q) = %v, %q; want %v, %q", tc.attempt, tc.retries, tc.message, retry, reason, tc.wantRetry, tc.wantReason)
			}
		})
	}
}

func TestDiffConverge(t *testing.T) {
	copyOf := func(tags map[string]string, public bool) Image {
		all := map[string]string{plan.TagSource: "us-east-1/" + src, plan.ClaimKey("p"): "p"}
		for k, v := range tags {
			all[k] = v
		}
		return Image{ID: "afi-1", AGFI: agfi, Region: "us-west-2", OwnerID: acct, State: StateAvailable, Name: "nic", Tags: all, Public: public}
	}
	tests := []struct {
		name      string
		target    plan.Target
		copy      Image
		perms     *LoadPermissions
		want      string // Updates.String(); "" = in sync
		wantPerms bool   // Diff asks for the copy's load permissions
	}{
		{name: "in sync", target: plan.Target{Tags: map[string]string{"team": "fpga"}}, copy: copyOf(map[string]string{"team": "fpga", "extra": "kept"}, false)},
		{name: "tag added and changed, foreign tag kept",
			target: plan.Target{Tags: map[string]string{"team": "fpga", "env": "prod"}},
			copy:   copyOf(map[string]string{"env": "dev", "owner": "alice"}, false),
			want:   "~ tag env=dev→prod, + tag team=fpga"},
		{name: "source tags copied", target: plan.Target{CopySourceTags: true}, copy: copyOf(nil, false), want: "+ tag team=fpga"},
		{name: "exclusive tags remove foreign ones but never aws: or afisync:",
			target: plan.Target{Tags: map[string]string{"team": "fpga"}, ExclusiveTags: true},
			copy:   copyOf(map[string]string{"team": "fpga", "owner": "alice", "aws:cloudformation:stack": "x"}, false),
			want:   "- tag owner"},
		{name: "name and description from the plan", target: plan.Target{Name: "nic-v3", Description: "NIC"}, copy: copyOf(nil, false),
			want: `~ name "nic"→"nic-v3", ~ description ""→"NIC"`},
		{name: "plan name wins over source name", target: plan.Target{Name: "nic"}, copy: copyOf(nil, false)},
		{name: "share with accounts: unknown permissions are asked for", target: plan.Target{ShareWith: []string{other}}, copy: copyOf(nil, false), wantPerms: true},
		{name: "share with accounts", target: plan.Target{ShareWith: []string{other, acct}}, copy: copyOf(nil, false),
			perms: &LoadPermissions{Users: []string{acct, "999988887777"}}, want: "+ share " + other},
		{name: "exclusive sharing", target: plan.Target{ShareWith: []string{other}, ExclusiveSharing: true}, copy: copyOf(nil, true),
			perms: &LoadPermissions{Users: []string{"999988887777"}, Groups: []string{plan.GroupAll}}, want: "- share all, + share " + other + ", - share 999988887777"},
		{name: "public only when written", target: plan.Target{ShareWithGroups: []string{plan.GroupAll}}, copy: copyOf(nil, false), want: "+ share all"},
		{name: "public copy left public without exclusive_sharing", target: plan.Target{}, copy: copyOf(nil, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.target
			tg.SourceRegion, tg.SourceAFI, tg.Region = "us-east-1", src, "us-west-2"
			inv := &Inventory{Account: acct, Owned: map[string][]Image{"us-east-1": {srcImage()}, "us-west-2": {tc.copy}}}
			if tc.perms != nil {
				inv.LoadPermissions = map[string]*LoadPermissions{"us-west-2/afi-1": tc.perms}
			}
			res := Diff([]plan.Target{tg}, inv, DiffOptions{PlanName: "p"})
			c := res.Changes[0]
			if got := c.Updates.String(); got != tc.want {
				t.Errorf("updates = %q, want %q", got, tc.want)
			}
			wantAction := ActionUpdate
			if tc.want == "" {
				wantAction = ActionNone
			}
			if c.Action != wantAction {
				t.Errorf("action = %s, want %s", c.Action, wantAction)
			}
			if got := len(res.NeedPermissions) == 1; got != tc.wantPerms {
				t.Errorf("asks for load permissions: %v, want %v", got, tc.wantPerms)
			}
		})
	}
}

func TestDiffPrunes(t *testing.T) {
	mine := func(id, region, source, state string) Image {
		return Image{ID: id, Region: region, OwnerID: acct, State: state, Tags: map[string]string{plan.TagSource: source, plan.ClaimKey("p"): "p"}}
	}
	owned := map[string][]Image{
		"us-east-1": {srcImage(),
			// A copy of ours that is also a source of the plan: never pruned.
			mine("afi-0000000000000000a", "us-east-1", "us-west-2/afi-0000000000000000b", StateAvailable)},
		"us-west-2": {
			mine("afi-1", "us-west-2", "us-east-1/"+src, StateAvailable),
			mine("afi-2", "us-west-2", "us-east-1/"+src, StateFailed), // failed, target satisfied
			mine("afi-3", "us-west-2", "us-east-1/afi-0ffffffffffffffff", StateAvailable),
			{ID: "afi-4", Region: "us-west-2", State: StateAvailable, Tags: map[string]string{plan.TagSource: "us-east-1/afi-0ffffffffffffffff", plan.ClaimKey("other-plan"): "other-plan"}},
			{ID: "afi-5", Region: "us-west-2", State: StateAvailable}, // untagged
		},
		"eu-west-1": {mine("afi-6", "eu-west-1", "us-east-1/"+src, StatePending)}, // region dropped from the plan
	}
	targets := []plan.Target{
		{SourceRegion: "us-east-1", SourceAFI: src, Region: "us-west-2"},
		{SourceRegion: "us-east-1", SourceAFI: "afi-0000000000000000a", Region: "us-west-2"},
	}
	res := Diff(targets, &Inventory{Account: acct, Owned: owned}, DiffOptions{PlanName: "p", Prune: true})
	var got []string
	for _, p := range res.Prunes {
		got = append(got, p.Copy.ID+":"+p.SourceAFI)
	}
	want := []string{"afi-6:" + src, "afi-2:" + src, "afi-3:afi-0ffffffffffffffff"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("prunes = %v, want %v", got, want)
	}
	if res := Diff(targets, &Inventory{Account: acct, Owned: owned}, DiffOptions{PlanName: "p"}); len(res.Prunes) != 0 {
		t.Errorf("prunes without DiffOptions.Prune: %v", res.Prunes)
	}
}

func TestDiffUnlistedRegions(t *testing.T) {
	owned := map[string][]Image{"us-east-1": {srcImage()}}
	sel := &plan.Selector{Name: "nic*"}
	targets := []plan.Target{
		{SourceRegion: "us-east-1", SourceAFI: src, Region: "us-west-2"},
		{SourceRegion: "us-east-1", SourceAFI: src, Region: "eu-west-1"},
		{SourceRegion: "eu-central-1", Selector: sel, Region: "eu-west-1"},
	}
	inv := &Inventory{Account: acct, Owned: owned, Unlisted: map[string]string{"us-west-2": "boom", "eu-central-1": "down"}}
	inv.Owned["eu-west-1"] = nil
	res := Diff(targets, inv, DiffOptions{PlanName: "p", Prune: true})
	var got []string
	for _, c := range res.Changes {
		got = append(got, c.Target.Region+":"+string(c.Action)+":"+c.Reason)
	}
	want := []string{
		"us-west-2:fail:could not list the AFIs in us-west-2: boom",
		"eu-west-1:copy:no copy in eu-west-1",
		"eu-west-1:fail:could not list the AFIs in eu-central-1 to resolve the selector: down",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Prunes) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "not pruning: the AFIs of eu-central-1, us-west-2 could not be listed") {
		t.Errorf("prunes %v, warnings %q", res.Prunes, res.Warnings)
	}
}
