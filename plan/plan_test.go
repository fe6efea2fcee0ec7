package plan_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/afisync/afisync/internal/golden"
	"github.com/afisync/afisync/plan"
)

// plansDir holds the shared test plans: valid/*.yaml with the effective plan
// in valid/*.golden, invalid/*.yaml with the errors in invalid/*.golden.
const plansDir = "../testdata/plans"

// displayName is how test plans are named in golden output: relative to the
// repository root, as a user running afisync there would see them.
func displayName(path string) string {
	return filepath.ToSlash(strings.TrimPrefix(path, "../"))
}

func planFiles(t *testing.T, kind string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(plansDir, kind, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s plans under %s (err %v)", kind, plansDir, err)
	}
	return files
}

// checkErrors asserts the invariants every *plan.Errors must hold.
func checkErrors(t *testing.T, file string, err error) *plan.Errors {
	t.Helper()
	var errs *plan.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want *plan.Errors: %v", err, err)
	}
	if errs.Len() == 0 {
		t.Fatal("empty *plan.Errors")
	}
	for i, e := range errs.List {
		if e.File != file {
			t.Errorf("error %d: File = %q, want %q", i, e.File, file)
		}
		if e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Errorf("error %d: position %v, want line and column ≥ 1", i, e.Pos)
		}
		if e.Msg == "" {
			t.Errorf("error %d: empty message", i)
		}
		if i > 0 {
			p := errs.List[i-1].Pos
			if p.Line > e.Pos.Line || (p.Line == e.Pos.Line && p.Col > e.Pos.Col) {
				t.Errorf("errors not sorted by position: %v before %v", p, e.Pos)
			}
		}
	}
	if got, want := strings.Count(errs.Error(), "\n")+1, len(errs.List); got != want {
		t.Errorf("Error() has %d lines, want one per error (%d)", got, want)
	}
	return errs
}

func TestInvalidPlans(t *testing.T) {
	for _, path := range planFiles(t, "invalid") {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			file := displayName(path)
			p, err := plan.Parse(file, data)
			if err == nil {
				t.Fatalf("Parse accepted an invalid plan: %+v", p)
			}
			if p != nil {
				t.Errorf("Parse returned a plan along with errors")
			}
			errs := checkErrors(t, file, err)
			for _, e := range errs.List {
				if !strings.HasPrefix(e.Error(), fmt.Sprintf("%s:%d:%d: ", file, e.Pos.Line, e.Pos.Col)) {
					t.Errorf("error does not start with file:line:col: %q", e.Error())
				}
			}
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

func TestValidPlans(t *testing.T) {
	for _, path := range planFiles(t, "valid") {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := plan.Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if p.File != path {
				t.Errorf("File = %q, want %q", p.File, path)
			}
			p.File = displayName(path)
			out, err := p.EffectiveYAML()
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".golden", out)
		})
	}
}

// ignorePositions compares plans apart from where they were read from.
var ignorePositions = cmp.Options{
	cmpopts.IgnoreFields(plan.Plan{}, "File"),
	cmpopts.IgnoreFields(plan.Entry{}, "Pos"),
	cmpopts.IgnoreFields(plan.Account{}, "Pos"),
	cmpopts.EquateEmpty(),
}

// TestEffectiveYAMLRoundTrip checks that validate --print output is itself a
// valid plan that means the same thing.
func TestEffectiveYAMLRoundTrip(t *testing.T) {
	files := append(planFiles(t, "valid"), "../plans/example.yaml")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p1, err := plan.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p1.EffectiveYAML()
			if err != nil {
				t.Fatal(err)
			}
			p2, err := plan.Parse("effective.yaml", out)
			if err != nil {
				t.Fatalf("effective plan does not parse:\n%v\n---\n%s", err, out)
			}
			if diff := cmp.Diff(p1, p2, ignorePositions); diff != "" {
				t.Errorf("round trip changed the plan (-loaded +reparsed):\n%s", diff)
			}
			if diff := cmp.Diff(p1.Targets(), p2.Targets(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip changed the targets:\n%s", diff)
			}
		})
	}
}

func TestExamplePlanIsValid(t *testing.T) {
	p, err := plan.Load("../plans/example.yaml")
	if err != nil {
		t.Fatalf("plans/example.yaml must validate:\n%v", err)
	}
	// The simulator seeds explicit sources; keep them in its default regions.
	simRegions := map[string]bool{"us-east-1": true, "us-west-2": true, "eu-west-1": true,
		"eu-west-2": true, "eu-central-1": true, "ap-southeast-2": true}
	for _, tg := range p.Targets() {
		if tg.Selector != nil {
			continue
		}
		if !simRegions[tg.SourceRegion] || !simRegions[tg.Region] {
			t.Errorf("target %s %s→%s is outside the simulator's FPGA regions", tg.SourceAFI, tg.SourceRegion, tg.Region)
		}
	}
}

func TestMerge(t *testing.T) {
	const head = "version: 1\nname: m\n"
	tests := map[string]struct {
		yaml string
		want []plan.Entry
	}{
		"defaults apply": {
			yaml: head + `defaults: {source_region: us-east-1, regions: [us-west-2, eu-west-1], tags: {a: "1"}, share_with: ["111122223333"]}
afis: [{id: afi-0123456789abcdef0}]`,
			want: []plan.Entry{{ID: "afi-0123456789abcdef0", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2", "eu-west-1"},
				Tags: map[string]string{"a": "1"}, CopySourceTags: true, ShareWith: []string{"111122223333"}}}},
		},
		"entry regions replace, tags merge and win": {
			yaml: head + `defaults: {source_region: us-east-1, regions: [us-west-2], tags: {a: "1", b: "2"}}
afis: [{id: afi-0123456789abcdef0, regions: [eu-west-1], tags: {b: "3", c: "4"}}]`,
			want: []plan.Entry{{ID: "afi-0123456789abcdef0", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"eu-west-1"},
				Tags: map[string]string{"a": "1", "b": "3", "c": "4"}, CopySourceTags: true}}},
		},
		"inherited regions drop the entry's source region": {
			yaml: head + `defaults: {source_region: us-east-1, regions: [us-west-2, eu-west-1]}
afis: [{id: afi-0123456789abcdef0, source_region: us-west-2}]`,
			want: []plan.Entry{{ID: "afi-0123456789abcdef0", Options: plan.Options{SourceRegion: "us-west-2", Regions: []string{"eu-west-1"},
				Tags: map[string]string{}, CopySourceTags: true}}},
		},
		"copy_source_tags and share_with overrides": {
			yaml: head + `defaults: {source_region: us-east-1, regions: [us-west-2], copy_source_tags: false, share_with: ["111122223333"]}
afis: [{id: afi-0123456789abcdef0, copy_source_tags: true, share_with: []}, {id: afi-0fedcba9876543210}]`,
			want: []plan.Entry{
				{ID: "afi-0123456789abcdef0", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
					Tags: map[string]string{}, CopySourceTags: true}},
				{ID: "afi-0fedcba9876543210", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
					Tags: map[string]string{}, CopySourceTags: false, ShareWith: []string{"111122223333"}}},
			},
		},
		"public sharing and exclusive modes are off unless written": {
			yaml: head + `defaults: {source_region: us-east-1, regions: [us-west-2], share_with: ["111122223333"]}
afis: [{id: afi-0123456789abcdef0}]`,
			want: []plan.Entry{{ID: "afi-0123456789abcdef0", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
				Tags: map[string]string{}, CopySourceTags: true, ShareWith: []string{"111122223333"}}}},
		},
		"share_with_groups and exclusive modes: defaults apply, entries override": {
			yaml: head + `defaults: {source_region: us-east-1, regions: [us-west-2], share_with_groups: [all], exclusive_tags: true}
afis:
  - {id: afi-0123456789abcdef0}
  - {id: afi-0fedcba9876543210, share_with_groups: [], exclusive_tags: false, exclusive_sharing: true}
  - {id: afi-0a1b2c3d4e5f60718, exclusive_sharing: false}`,
			want: []plan.Entry{
				{ID: "afi-0123456789abcdef0", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
					Tags: map[string]string{}, CopySourceTags: true, ShareWithGroups: []string{"all"}, ExclusiveTags: true}},
				{ID: "afi-0fedcba9876543210", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
					Tags: map[string]string{}, CopySourceTags: true, ExclusiveSharing: true}},
				{ID: "afi-0a1b2c3d4e5f60718", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
					Tags: map[string]string{}, CopySourceTags: true, ShareWithGroups: []string{"all"}, ExclusiveTags: true}},
			},
		},
		"share_with_groups on an entry only": {
			yaml: head + `defaults: {source_region: us-east-1, regions: [us-west-2]}
afis: [{id: afi-0123456789abcdef0, share_with_groups: [all]}, {id: afi-0fedcba9876543210}]`,
			want: []plan.Entry{
				{ID: "afi-0123456789abcdef0", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
					Tags: map[string]string{}, CopySourceTags: true, ShareWithGroups: []string{"all"}}},
				{ID: "afi-0fedcba9876543210", Options: plan.Options{SourceRegion: "us-east-1", Regions: []string{"us-west-2"},
					Tags: map[string]string{}, CopySourceTags: true}},
			},
		},
		"selector with name and description": {
			yaml: head + `afis:
  - select: {name: "nic-*", tags: {release: 2026.11}}
    source_region: eu-west-2
    regions: [eu-central-1]
    name: nic
    description: NIC shell`,
			want: []plan.Entry{{Select: &plan.Selector{Name: "nic-*", Tags: map[string]string{"release": "2026.11"}}, Name: "nic", Description: "NIC shell",
				Options: plan.Options{SourceRegion: "eu-west-2", Regions: []string{"eu-central-1"}, Tags: map[string]string{}, CopySourceTags: true}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := plan.Parse("m.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p.AFIs, cmpopts.IgnoreFields(plan.Entry{}, "Pos")); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSettingsAndDefaults(t *testing.T) {
	p, err := plan.Parse("s.yaml", []byte(`version: 1
name: s
settings: {concurrency: 4, retries: 0, timeout: 1h30m}
afis: [{id: afi-0123456789abcdef0, source_region: us-east-1, regions: [us-west-2]}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := plan.Settings{Concurrency: 4, Retries: 0, RetriesSet: true, Timeout: 90 * time.Minute}
	if !reflect.DeepEqual(p.Settings, want) {
		t.Errorf("Settings = %+v, want %+v", p.Settings, want)
	}
	if !p.Defaults.CopySourceTags {
		t.Error("copy_source_tags must default to true when not written")
	}
	if p.Defaults.ShareWithGroups != nil || p.Defaults.ExclusiveTags || p.Defaults.ExclusiveSharing {
		t.Errorf("share_with_groups, exclusive_tags, exclusive_sharing must be empty and false when not written: %+v", p.Defaults)
	}

	p, err = plan.Parse("s.yaml", []byte(`{version: 1, name: s, afis: [{id: afi-0123456789abcdef0, source_region: us-east-1, regions: [us-west-2]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Settings, plan.Settings{}) {
		t.Errorf("Settings = %+v, want zero when the plan sets none", p.Settings)
	}
}

func TestTargetsOrderAndIsolation(t *testing.T) {
	p, err := plan.Parse("t.yaml", []byte(`version: 1
name: t
defaults: {source_region: us-east-1, tags: {team: fpga}, share_with: ["111122223333"], share_with_groups: [all], exclusive_sharing: true}
afis:
  - id: afi-0fedcba9876543210
    regions: [eu-west-2, ap-southeast-2]
    exclusive_tags: true
  - select: {name: "x-*"}
    regions: [us-west-2]
    share_with_groups: []
  - id: afi-0123456789abcdef0
    regions: [eu-west-1]
    exclusive_sharing: false
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range p.Targets() {
		src := tg.SourceAFI
		if tg.Selector != nil {
			src = "select:" + tg.Selector.Name
		}
		got = append(got, fmt.Sprintf("%d %s %s→%s", tg.Entry, src, tg.SourceRegion, tg.Region))
	}
	want := []string{
		"0 afi-0fedcba9876543210 us-east-1→eu-west-2",
		"0 afi-0fedcba9876543210 us-east-1→ap-southeast-2",
		"1 select:x-* us-east-1→us-west-2",
		"2 afi-0123456789abcdef0 us-east-1→eu-west-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	ts := p.Targets()
	var modes []string
	for _, tg := range ts {
		modes = append(modes, fmt.Sprintf("groups=%v exclusive_tags=%v exclusive_sharing=%v", tg.ShareWithGroups, tg.ExclusiveTags, tg.ExclusiveSharing))
	}
	wantModes := []string{
		"groups=[all] exclusive_tags=true exclusive_sharing=true",
		"groups=[all] exclusive_tags=true exclusive_sharing=true",
		"groups=[] exclusive_tags=false exclusive_sharing=true",
		"groups=[all] exclusive_tags=false exclusive_sharing=false",
	}
	if diff := cmp.Diff(wantModes, modes); diff != "" {
		t.Errorf("target sharing modes (-want +got):\n%s", diff)
	}
	ts[0].Tags["team"] = "changed"
	ts[0].ShareWith[0] = "000000000000"
	ts[0].ShareWithGroups[0] = "changed"
	if ts[1].Tags["team"] != "fpga" || p.AFIs[0].Tags["team"] != "fpga" || p.AFIs[0].ShareWith[0] != "111122223333" {
		t.Error("targets share tag maps or account slices with each other or with the plan")
	}
	if ts[1].ShareWithGroups[0] != "all" || p.AFIs[0].ShareWithGroups[0] != "all" || p.Defaults.ShareWithGroups[0] != "all" {
		t.Error("targets share group slices with each other or with the plan")
	}
	for _, tg := range ts {
		if _, ok := tg.Tags[plan.TagSource]; ok {
			t.Error("targets must not carry management tags")
		}
	}
}

// TestParseErrors covers what is easier to build in code than to keep as a
// file: size limits, and exact messages for the suggestions.
func TestParseErrors(t *testing.T) {
	entry := func(i int) string { return fmt.Sprintf("  - id: afi-%017x\n", i+1) }
	head := "version: 1\nname: x\ndefaults: {source_region: us-east-1, regions: [us-west-2]}\n"
	many := func(n int, f func(int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
		}
		return b.String()
	}
	// 65 distinct, well-formed regions on one line, and the column of the
	// 65th.
	var regions []string
	for i := range plan.MaxRegions + 1 {
		regions = append(regions, fmt.Sprintf("%s-%d", []string{"eu-west", "eu-north"}[i/60], 1+i%60))
	}
	regionsLine := "    regions: [" + strings.Join(regions, ", ") + "]\n"
	regionsCol := strings.Index(regionsLine, regions[plan.MaxRegions]) + 1
	tests := map[string]struct {
		yaml string
		want string // the whole first error line
	}{
		"file too large": {
			yaml: head + "afis:\n" + entry(0) + "# " + strings.Repeat("x", plan.MaxFileSize),
			want: "x.yaml:1:1: the file is larger than 4 MiB; a plan is a short YAML file; split very large plans into several",
		},
		"too many entries": {
			yaml: head + "afis:\n" + many(plan.MaxEntries+1, entry),
			want: fmt.Sprintf("x.yaml:%d:5: afis has 1001 items; afisync accepts at most 1000", 4+plan.MaxEntries+1),
		},
		"too many regions": {
			yaml: head + "afis:\n" + entry(0) + regionsLine,
			want: fmt.Sprintf("x.yaml:6:%d: regions has 65 items; afisync accepts at most 64", regionsCol),
		},
		"too many accounts": {
			yaml: head + "afis:\n" + entry(0) + "    share_with:\n" + many(plan.MaxAccounts+1, func(i int) string {
				return fmt.Sprintf("      - \"%012d\"\n", i+1)
			}),
			want: fmt.Sprintf("x.yaml:%d:9: share_with has 101 items; afisync accepts at most 100", 6+plan.MaxAccounts+1),
		},
		"region suggestion": {
			yaml: head + "afis:\n" + entry(0) + "    regions: [eu-wset-1]\n",
			want: `x.yaml:6:15: unknown region "eu-wset-1"; did you mean "eu-west-1"?`,
		},
		"key suggestion": {
			yaml: head + "afis:\n" + entry(0) + "    regoins: [eu-west-1]\n",
			want: `x.yaml:6:5: unknown key "regoins" in afis entry 1; did you mean "regions"?`,
		},
		"misplaced key": {
			yaml: head + "concurrency: 4\nafis:\n" + entry(0),
			want: `x.yaml:4:1: unknown key "concurrency" in the plan; "concurrency" belongs under settings`,
		},
		"typo of a key that belongs elsewhere": {
			yaml: "version: 1\nname: x\ndefaults: {source_region: us-east-1, regions: [us-west-2], retires: 3}\nafis:\n" + entry(0),
			want: `x.yaml:3:60: unknown key "retires" in defaults; did you mean "retries"? it belongs under settings`,
		},
		"bad load-permission group": {
			yaml: head + "afis:\n" + entry(0) + "    share_with_groups: [public]\n",
			want: `x.yaml:6:25: unknown load-permission group "public"; the only load-permission group is "all" (public)`,
		},
		"duplicate load-permission group": {
			yaml: head + "afis:\n" + entry(0) + "    share_with_groups:\n      - all\n      - all\n",
			want: `x.yaml:8:9: group "all" is listed twice in share_with_groups; it is already listed at line 7; remove one`,
		},
		"non-boolean exclusive_tags": {
			yaml: head + "afis:\n" + entry(0) + "    exclusive_tags: \"true\"\n",
			want: `x.yaml:6:21: exclusive_tags must be true or false, got the text "true"; write true or false without quotes`,
		},
		"non-boolean defaults.exclusive_sharing": {
			yaml: "version: 1\nname: x\ndefaults: {source_region: us-east-1, regions: [us-west-2], exclusive_sharing: yes please}\nafis:\n" + entry(0),
			want: `x.yaml:3:79: defaults.exclusive_sharing must be true or false, got the text "yes please"; write true or false without quotes`,
		},
		"new key suggestion": {
			yaml: head + "afis:\n" + entry(0) + "    share_with_group: [all]\n",
			want: `x.yaml:6:5: unknown key "share_with_group" in afis entry 1; did you mean "share_with_groups"?`,
		},
		"new key misplaced": {
			yaml: head + "exclusive_tags: true\nafis:\n" + entry(0),
			want: `x.yaml:4:1: unknown key "exclusive_tags" in the plan; "exclusive_tags" belongs under defaults or on an entry under afis`,
		},
		"huge value is shortened in messages": {
			yaml: head + "afis:\n  - id: afi-" + strings.Repeat("z", 10000) + "\n",
			want: `x.yaml:5:9: malformed AFI ID "afi-zzzzzzzzzzzzzzzzzzzzzzzzzzzz…zzzzzzzzzzzzzzzz"; an AFI ID is "afi-" and 17 hexadecimal digits, like afi-0123456789abcdef0`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := plan.Parse("x.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("Parse accepted the plan")
			}
			errs := checkErrors(t, "x.yaml", err)
			if got := errs.List[0].Error(); got != tc.want {
				t.Errorf("first error:\n got %s\nwant %s\nall:\n%v", got, tc.want, err)
			}
		})
	}
}

func TestUnsupportedVersionIsClassified(t *testing.T) {
	_, err := plan.Parse("v.yaml", []byte("version: 3\nname: future\nsomething_new: true\n"))
	if !errors.Is(err, plan.ErrUnsupportedVersion) {
		t.Fatalf("err = %v, want errors.Is ErrUnsupportedVersion", err)
	}
	if errs := checkErrors(t, "v.yaml", err); errs.Len() != 1 {
		t.Errorf("a newer version must be the only error reported, got:\n%v", err)
	}
}

func TestPartition(t *testing.T) {
	for r, want := range map[string]string{"us-east-1": "aws", "us-gov-east-1": "aws-us-gov", "cn-north-1": "aws-cn"} {
		if got := plan.Partition(r); got != want {
			t.Errorf("Partition(%q) = %q, want %q", r, got, want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		_, err := plan.Load(filepath.Join(t.TempDir(), "nope.yaml"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		data, err := os.ReadFile("../plans/example.yaml")
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.CreateTemp(t.TempDir(), "stdin")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		old := os.Stdin
		os.Stdin = f
		defer func() { os.Stdin = old }()
		p, err := plan.Load("-")
		if err != nil {
			t.Fatal(err)
		}
		if p.File != plan.StdinName || p.Name != "fpga-fleet" {
			t.Errorf("File, Name = %q, %q", p.File, p.Name)
		}
	})
	t.Run("reader over the size limit", func(t *testing.T) {
		r := bytes.NewReader(make([]byte, plan.MaxFileSize+10))
		_, err := plan.Read("big.yaml", r)
		errs := checkErrors(t, "big.yaml", err)
		if !strings.Contains(errs.List[0].Msg, "larger than") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestErrorListIsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nname: x\n")
	for i := range 250 {
		fmt.Fprintf(&b, "unknown%d: v\n", i)
	}
	_, err := plan.Parse("x.yaml", []byte(b.String()))
	errs := checkErrors(t, "x.yaml", err)
	if len(errs.List) != 101 {
		t.Fatalf("got %d errors, want 100 and a summary", len(errs.List))
	}
	// 250 unknown keys and the missing afis: the count is of every
	// problem, not of the lines shown.
	if errs.Len() != 251 {
		t.Errorf("Len() = %d, want 251", errs.Len())
	}
	last := errs.List[100]
	if want := "x.yaml:102:1: 151 more problems from here on are not shown (251 in all); fix the ones above and check the plan again"; last.Error() != want {
		t.Errorf("last error = %q, want %q", last.Error(), want)
	}
}
