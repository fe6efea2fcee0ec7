package importer

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

const (
	src1 = "afi-0a0000000000000a1"
	src2 = "afi-0a0000000000000a2"
	agf1 = "agfi-0a0000000000000a1"
	agf2 = "agfi-0a0000000000000a2"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func img(id, agfi, region, name string, tags map[string]string) reconcile.Image {
	return reconcile.Image{ID: id, AGFI: agfi, Region: region, Name: name, State: reconcile.StateAvailable, Tags: tags, CreateTime: t0.Add(time.Hour)}
}

func srcImg(id, agfi, name string, tags map[string]string) reconcile.Image {
	im := img(id, agfi, "us-east-1", name, tags)
	im.CreateTime = t0
	return im
}

// world is an inventory of us-east-1 and three destinations.
func world(ims ...reconcile.Image) *reconcile.Inventory {
	inv := &reconcile.Inventory{Account: "111122223333", Owned: map[string][]reconcile.Image{
		"us-east-1": nil, "us-west-2": nil, "eu-west-1": nil, "eu-central-1": nil,
	}, LoadPermissions: map[string]*reconcile.LoadPermissions{}, Unlisted: map[string]string{}}
	for _, im := range ims {
		inv.Owned[im.Region] = append(inv.Owned[im.Region], im)
	}
	return inv
}

func perms(inv *reconcile.Inventory, region, id string, users ...string) {
	inv.LoadPermissions[plan.SourceKey(region, id)] = &reconcile.LoadPermissions{Users: users}
}

func TestBuild(t *testing.T) {
	opts := Options{SourceRegion: "us-east-1", Name: "fleet"}
	for _, tc := range []struct {
		name  string
		inv   func() *reconcile.Inventory
		o     func(*Options)
		check func(t *testing.T, p *plan.Plan, res *Result)
		yaml  []string // substrings of the output
	}{
		{
			name: "copies agree: tags, name, description, accounts, public",
			inv: func() *reconcile.Inventory {
				a := img("afi-0b0000000000000b1", agf1, "us-west-2", "nic-prod", map[string]string{"env": "prod", "team": "fpga", "aws:x": "1", "afisync:other": "x"})
				b := img("afi-0b0000000000000b2", agf1, "eu-west-1", "nic-prod", map[string]string{"env": "prod", "team": "fpga"})
				a.Description, b.Description, a.Public, b.Public = "shell", "shell", true, true
				inv := world(srcImg(src1, agf1, "nic", map[string]string{"team": "fpga"}), a, b)
				perms(inv, "us-west-2", a.ID, "444455556666", "777788889999")
				perms(inv, "eu-west-1", b.ID, "444455556666")
				return inv
			},
			check: func(t *testing.T, p *plan.Plan, res *Result) {
				e := p.AFIs[0]
				if e.ID != src1 || e.Name != "nic-prod" || e.Description != "shell" || !e.CopySourceTags ||
					!slices.Equal(e.Regions, []string{"eu-west-1", "us-west-2"}) ||
					!slices.Equal(e.ShareWith, []string{"444455556666"}) || !slices.Equal(e.ShareWithGroups, []string{"all"}) ||
					len(e.Tags) != 1 || e.Tags["env"] != "prod" {
					t.Errorf("entry = %+v", e)
				}
				if res.Entries != 1 || res.Copies != 2 || res.Regions != 2 || res.Changes != 0 {
					t.Errorf("result = %+v", res)
				}
			},
			yaml: []string{"account 777788889999", "adopts the 2 that afisync did not make"},
		},
		{
			name: "copies disagree on their name: the source's, and a sync renames",
			inv: func() *reconcile.Inventory {
				return world(srcImg(src1, agf1, "nic", nil),
					img("afi-0b0000000000000b1", agf1, "us-west-2", "nic-a", nil),
					img("afi-0b0000000000000b2", agf1, "eu-west-1", "nic-b", nil))
			},
			check: func(t *testing.T, p *plan.Plan, res *Result) {
				if p.AFIs[0].Name != "" || res.Changes != 2 {
					t.Errorf("name %q, %d changes; want the source's and 2", p.AFIs[0].Name, res.Changes)
				}
			},
			yaml: []string{`the copies' names differ (eu-west-1 "nic-b", us-west-2 "nic-a")`, `a sync changes: ~ name "nic-a"→"nic" in us-west-2`},
		},
		{
			name: "the source's tags missing on a copy: copy_source_tags false",
			inv: func() *reconcile.Inventory {
				return world(srcImg(src1, agf1, "nic", map[string]string{"build": "7"}),
					img("afi-0b0000000000000b1", agf1, "us-west-2", "nic", map[string]string{"build": "7"}),
					img("afi-0b0000000000000b2", agf1, "eu-west-1", "nic", nil))
			},
			check: func(t *testing.T, p *plan.Plan, res *Result) {
				if p.AFIs[0].CopySourceTags || len(p.AFIs[0].Tags) != 0 || res.Changes != 0 {
					t.Errorf("entry %+v, %d changes", p.AFIs[0], res.Changes)
				}
			},
			yaml: []string{"copy_source_tags: false", "not the same on every copy, so not in the plan (a sync leaves them): tag build"},
		},
		{
			name: "pending, failed, older and foreign copies",
			inv: func() *reconcile.Inventory {
				pending := img("afi-0b0000000000000b1", "", "us-west-2", "nic", map[string]string{plan.TagSource: "us-east-1/" + src1, "afisync:plan:ci": "ci"})
				pending.State = reconcile.StatePending
				failed := img("afi-0b0000000000000b2", "", "eu-west-1", "nic", map[string]string{plan.TagSource: "us-east-1/" + src1})
				failed.State, failed.Message = reconcile.StateFailed, "INTERNAL_ERROR"
				older := img("afi-0b0000000000000b3", agf1, "eu-central-1", "nic", nil)
				older.CreateTime = t0.Add(-time.Hour)
				return world(srcImg(src1, agf1, "nic", nil), pending, failed, older)
			},
			check: func(t *testing.T, p *plan.Plan, res *Result) {
				if !slices.Equal(p.AFIs[0].Regions, []string{"eu-central-1", "us-west-2"}) {
					t.Errorf("regions %v, want the pending and the available copy's", p.AFIs[0].Regions)
				}
			},
			yaml: []string{
				`us-west-2 (afi-0b0000000000000b1, pending, claimed by plan "ci")`,
				"eu-west-1 left out: its only copies there failed (afi-0b0000000000000b2)",
				"note: the copy in eu-central-1 (afi-0b0000000000000b3) is older than this AFI",
			},
		},
		{
			name: "select-name, defaults.tags, left-out sources and unlisted regions",
			inv: func() *reconcile.Inventory {
				dup := srcImg("afi-0a0000000000000a9", agf1, "nic-again", nil)
				dup.CreateTime = t0.Add(time.Minute)
				building := srcImg("afi-0a0000000000000a8", "", "nic-wip", nil)
				building.State = reconcile.StatePending
				inv := world(srcImg(src1, agf1, "nic-1", nil), srcImg(src2, agf2, "dma", nil), dup, building,
					img("afi-0b0000000000000b1", agf1, "us-west-2", "nic-1", nil),
					img("afi-0b0000000000000b2", agf2, "us-west-2", "dma", nil))
				inv.Unlisted["eu-central-1"] = "UnauthorizedOperation: no"
				return inv
			},
			o: func(o *Options) { o.SelectName = "nic-*"; o.Tags = map[string]string{"owner": "me"} },
			check: func(t *testing.T, p *plan.Plan, res *Result) {
				if len(p.AFIs) != 1 || p.AFIs[0].ID != src1 || p.Defaults.Tags["owner"] != "me" || res.Changes != 1 {
					t.Errorf("plan %+v, %d changes", p, res.Changes)
				}
				if len(res.Left) != 2 {
					t.Errorf("left %q", res.Left)
				}
			},
			yaml: []string{
				`afi-0a0000000000000a9 "nic-again": a copy of afi-0a0000000000000a1 in the same region (same AGFI)`,
				`afi-0a0000000000000a8 "nic-wip": pending, not available`,
				"eu-central-1: UnauthorizedOperation: no",
				"a sync changes: + tag owner=me on every copy",
				`whose name matches "nic-*"`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			if tc.o != nil {
				tc.o(&o)
			}
			inv := tc.inv()
			res, err := Build(inv, o)
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Parse("import.yaml", res.YAML)
			if err != nil {
				t.Fatalf("the output is not a valid plan: %v\n%s", err, res.YAML)
			}
			tc.check(t, p, res)
			flat := strings.ReplaceAll(string(res.YAML), "\n# ", " ") // unwrapped comments
			for _, want := range tc.yaml {
				if !strings.Contains(flat, want) {
					t.Errorf("the plan does not say %q:\n%s", want, res.YAML)
				}
			}
			// A sync copies nothing; after it, diff has nothing to do.
			d := reconcile.Diff(p.Targets(), inv, reconcile.DiffOptions{PlanName: o.Name})
			for _, c := range d.Changes {
				if c.Action == reconcile.ActionCopy || c.Action == reconcile.ActionRetry {
					t.Errorf("a sync would %s to %s", c.Action, c.Target.Region)
				}
			}
			applySync(inv, d)
			for _, c := range reconcile.Diff(p.Targets(), inv, reconcile.DiffOptions{PlanName: o.Name}).Changes {
				if c.Action != reconcile.ActionNone && c.Action != reconcile.ActionWait {
					t.Errorf("after the sync, %s in %s: %s %s", c.Target.SourceAFI, c.Target.Region, c.Action, c.Reason)
				}
			}
		})
	}
}

// applySync makes the changes of a diff in the inventory, the way a sync
// makes them in AWS.
func applySync(inv *reconcile.Inventory, d *reconcile.DiffResult) {
	for _, c := range d.Changes {
		if c.Copy == nil {
			continue
		}
		ims := inv.Owned[c.Copy.Region]
		for i := range ims {
			im := &ims[i]
			if im.ID != c.Copy.ID {
				continue
			}
			key := plan.SourceKey(im.Region, im.ID)
			for _, u := range c.Updates {
				switch u.Kind {
				case reconcile.UpdateTag:
					if im.Tags == nil {
						im.Tags = map[string]string{}
					}
					im.Tags[u.Key] = u.Value
				case reconcile.UpdateUntag:
					delete(im.Tags, u.Key)
				case reconcile.UpdateName:
					im.Name = u.Value
				case reconcile.UpdateDescription:
					im.Description = u.Value
				case reconcile.UpdateShare:
					if u.Group {
						im.Public = true
						continue
					}
					if inv.LoadPermissions[key] == nil {
						inv.LoadPermissions[key] = &reconcile.LoadPermissions{}
					}
					inv.LoadPermissions[key].Users = append(inv.LoadPermissions[key].Users, u.Key)
				}
			}
		}
	}
}

func TestBuildNothing(t *testing.T) {
	inv := world(srcImg(src1, agf1, "nic", nil), img("afi-0b0000000000000b1", agf2, "us-west-2", "other", nil))
	_, err := Build(inv, Options{SourceRegion: "us-east-1", Name: "fleet"})
	if !errors.Is(err, ErrNothing) || !strings.Contains(err.Error(), `afi-0a0000000000000a1 "nic": no copy in another region`) {
		t.Errorf("err = %v", err)
	}
	_, err = Build(inv, Options{SourceRegion: "us-east-1", Name: "fleet", SelectName: "x*"})
	if !errors.Is(err, ErrNothing) || !strings.Contains(err.Error(), `with a name matching "x*"`) {
		t.Errorf("err = %v", err)
	}
}

func TestNeedPermissions(t *testing.T) {
	pending := img("afi-0b0000000000000b2", "", "eu-west-1", "nic", map[string]string{plan.TagSource: "us-east-1/" + src1})
	pending.State = reconcile.StatePending
	inv := world(srcImg(src1, agf1, "nic", nil), img("afi-0b0000000000000b1", agf1, "us-west-2", "nic", nil), pending,
		img("afi-0b0000000000000b3", agf2, "us-west-2", "unrelated", nil))
	got := NeedPermissions(inv, Options{SourceRegion: "us-east-1", Name: "fleet"})
	if len(got) != 1 || got[0].ID != "afi-0b0000000000000b1" {
		t.Errorf("NeedPermissions = %v, want the one available copy", got)
	}
	perms(inv, "us-west-2", "afi-0b0000000000000b1")
	if got := NeedPermissions(inv, Options{SourceRegion: "us-east-1", Name: "fleet"}); len(got) != 0 {
		t.Errorf("NeedPermissions after the look-up = %v", got)
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Name: "x"}, "--source-region is required"},
		{Options{SourceRegion: "us-esat-1", Name: "x"}, `did you mean "us-east-1"`},
		{Options{SourceRegion: "us-east-1"}, "--name is required"},
		{Options{SourceRegion: "us-east-1", Name: "a\tb"}, "non-printable"},
		{Options{SourceRegion: "us-east-1", Name: "x", SelectName: "["}, "malformed glob"},
		{Options{SourceRegion: "us-east-1", Name: "x", Tags: map[string]string{"AWS:x": "1"}}, "reserved"},
		{Options{SourceRegion: "us-east-1", Name: "x", Tags: map[string]string{"k": strings.Repeat("v", 257)}}, "longer than 256"},
		{Options{SourceRegion: "us-east-1", Name: "x", Tags: map[string]string{"k": ""}}, ""},
	} {
		err := tc.o.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}

// TestBuildAfterSync: importing again under the same name, after a sync,
// says the copies carry the claim already and that a sync changes nothing.
func TestBuildAfterSync(t *testing.T) {
	inv := world(srcImg(src1, agf1, "nic", nil),
		img("afi-0b0000000000000b1", agf1, "us-west-2", "nic", nil),
		img("afi-0b0000000000000b2", agf1, "eu-west-1", "nic", nil))
	o := Options{SourceRegion: "us-east-1", Name: "fleet"}
	res, err := Build(inv, o)
	if err != nil {
		t.Fatal(err)
	}
	applySync(inv, reconcile.Diff(res.Plan.Targets(), inv, reconcile.DiffOptions{PlanName: o.Name}))
	again, err := Build(inv, o)
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.ReplaceAll(string(again.YAML), "\n# ", " ")
	if !strings.Contains(flat, "its 2 copies carry its claim (afisync:plan:fleet) already") || again.Changes != 0 {
		t.Errorf("second import:\n%s", again.YAML)
	}
	first := string(res.YAML)[strings.Index(string(res.YAML), "version: 1"):]
	second := string(again.YAML)[strings.Index(string(again.YAML), "version: 1"):]
	if first != second {
		t.Errorf("the plan changed after its own sync:\n%s\nthen\n%s", first, second)
	}
}
