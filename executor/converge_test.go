package executor_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

const (
	acctA = "444455556666"
	acctB = "777788889999"
)

func parse(t *testing.T, format string, args ...any) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("test.yaml", []byte(fmt.Sprintf(format, args...)))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// mutating counts the calls that change something.
func mutating(st ec2sim.Stats) map[string]int {
	m := map[string]int{}
	for _, c := range st.Calls {
		if !strings.HasPrefix(c.Action, "Describe") && c.Action != "GetCallerIdentity" && c.Action != "GetServiceQuota" {
			m[c.Action] += c.Count
		}
	}
	return m
}

func byTarget(r *report.Report) map[string]report.Target {
	m := map[string]report.Target{}
	for _, tg := range r.Targets {
		m[tg.SourceAFI+">"+tg.Region] = tg
	}
	return m
}

func TestConvergeTagsAndSharing(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 2)
	const v1 = `version: 1
name: conv
defaults:
  source_region: us-east-1
  regions: [us-west-2, eu-west-1]
  tags: {env: test}
  share_with: ["%s"]
afis:
  - id: %s
  - id: %s
`
	p1 := parse(t, v1, acctA, srcs[0], srcs[1])
	rep := w.run(context.Background(), p1, executor.Options{Wait: true})
	if rep.Summary[report.StatusCopied] != 4 {
		t.Fatalf("first sync:\n%s", text(rep))
	}
	for _, r := range []string{"us-west-2", "eu-west-1"} {
		for _, c := range w.copies(srcs[0], r) {
			if !slices.Equal(c.LoadPermissions, []string{acctA}) || c.Tags["env"] != "test" {
				t.Errorf("copy %s after --wait: permissions %v, tags %v", c.ID, c.LoadPermissions, c.Tags)
			}
		}
	}
	// A tag someone else put on a copy.
	c := w.client(afi.Config{})
	foreign := w.copies(srcs[0], "us-west-2")[0].ID
	if err := c.CreateTags(context.Background(), "us-west-2", []string{foreign}, map[string]string{"owner": "alice"}); err != nil {
		t.Fatal(err)
	}

	// The plan changes: a tag changes, one is added, one more account.
	p2 := parse(t, strings.Replace(strings.Replace(v1, "{env: test}", "{env: prod, tier: gold}", 1), `["%s"]`, `["%s", "%s"]`, 1), acctA, acctB, srcs[0], srcs[1])
	w.sim.ResetStats()
	diff := w.run(context.Background(), p2, executor.Options{DryRun: true})
	want := "~ tag env=test→prod, + tag tier=gold, + share " + acctB
	for _, tg := range diff.Targets {
		if tg.Status != report.StatusWouldUpdate || tg.Message != want {
			t.Errorf("diff %s>%s: %s %q; want would-update %q", tg.SourceAFI, tg.Region, tg.Status, tg.Message, want)
		}
	}
	if m := mutating(w.sim.Stats()); len(m) != 0 {
		t.Errorf("diff made mutating calls: %v", m)
	}

	w.sim.ResetStats()
	rep = w.run(context.Background(), p2, executor.Options{})
	if rep.Summary[report.StatusUpdated] != 4 {
		t.Fatalf("sync after the change:\n%s", text(rep))
	}
	// Exactly the calls the diff announced: one CreateTags per region (the
	// same tags on both copies), one ModifyFpgaImageAttribute per copy.
	got := mutating(w.sim.Stats())
	if want := map[string]int{"CreateTags": 2, "ModifyFpgaImageAttribute": 4}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mutating calls = %v, want %v", got, want)
	}
	im, _ := w.sim.Image(foreign)
	if im.Tags["owner"] != "alice" || im.Tags["env"] != "prod" || im.Tags["tier"] != "gold" {
		t.Errorf("tags after additive convergence: %v", im.Tags)
	}
	if !slices.Equal(im.LoadPermissions, []string{acctA, acctB}) {
		t.Errorf("load permissions = %v", im.LoadPermissions)
	}

	// A second sync is a no-op.
	w.sim.ResetStats()
	rep = w.run(context.Background(), p2, executor.Options{})
	if rep.Summary[report.StatusInSync] != 4 {
		t.Errorf("second sync:\n%s", text(rep))
	}
	if m := mutating(w.sim.Stats()); len(m) != 0 {
		t.Errorf("second sync made mutating calls: %v", m)
	}

	// Exclusive: foreign tags and accounts go; the source's tags
	// (copy_source_tags) and the management tags stay.
	p3 := parse(t, strings.Replace(v1, "  share_with:", "  exclusive_tags: true\n  exclusive_sharing: true\n  share_with:", 1), acctB, srcs[0], srcs[1])
	rep = w.run(context.Background(), p3, executor.Options{})
	if rep.Summary[report.StatusUpdated] != 4 {
		t.Fatalf("exclusive sync:\n%s", text(rep))
	}
	im, _ = w.sim.Image(foreign)
	if _, ok := im.Tags["owner"]; ok || im.Tags["tier"] != "" || im.Tags["team"] != "fpga" || im.Tags["env"] != "test" || im.Tags[plan.TagSource] == "" {
		t.Errorf("tags after exclusive convergence: %v", im.Tags)
	}
	if !slices.Equal(im.LoadPermissions, []string{acctB}) {
		t.Errorf("load permissions after exclusive sharing = %v", im.LoadPermissions)
	}
}

func TestPublicOnlyWhenWritten(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 2)
	p := parse(t, `version: 1
name: pub
defaults: {source_region: us-east-1, regions: [us-west-2]}
afis:
  - id: %s
    share_with_groups: [all]
  - id: %s
`, srcs[0], srcs[1])
	rep := w.run(context.Background(), p, executor.Options{Wait: true})
	if rep.Summary[report.StatusCopied] != 2 {
		t.Fatalf("%s", text(rep))
	}
	if c := w.copies(srcs[0], "us-west-2"); !c[0].Public {
		t.Error("share_with_groups: [all] did not make the copy public")
	}
	if c := w.copies(srcs[1], "us-west-2"); c[0].Public || len(c[0].LoadPermissions) != 0 {
		t.Errorf("a copy was shared without the plan saying so: %+v", c[0])
	}
}

func TestAdoptionAndNames(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 1)
	src, _ := w.sim.Image(srcs[0])
	hand, err := w.sim.AddImage(ec2sim.Image{Region: "eu-west-1", AGFI: src.AGFI, Name: "copied-by-hand", Tags: map[string]string{"owner": "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, "version: 1\nname: adopt\ndefaults: {source_region: us-east-1, regions: [eu-west-1]}\nafis:\n  - id: %s\n    name: nic-v3\n    copy_source_tags: false\n", srcs[0])
	rep := w.run(context.Background(), p, executor.Options{DryRun: true})
	if tg := rep.Targets[0]; tg.Status != report.StatusWouldAdopt || !strings.Contains(tg.Message, `~ name "copied-by-hand"→"nic-v3"`) {
		t.Errorf("diff: %+v", tg)
	}
	var last executor.Progress
	rep = w.run(context.Background(), p, executor.Options{Progress: func(p executor.Progress) { last = p }})
	if tg := rep.Targets[0]; tg.Status != report.StatusAdopted || tg.CopyAFI != hand.ID {
		t.Fatalf("sync: %+v", tg)
	}
	// The progress view counts the adopted copy as available.
	if len(last.Regions) != 1 || last.Regions[0].Available != 1 || last.Regions[0].Total() != 1 {
		t.Errorf("last progress after adoption = %+v", last)
	}
	im, _ := w.sim.Image(hand.ID)
	if im.Tags[plan.TagSource] != "us-east-1/"+srcs[0] || im.Tags[plan.ClaimKey("adopt")] != "adopt" || im.Tags["owner"] != "bob" || im.Name != "nic-v3" {
		t.Errorf("adopted copy: %+v", im)
	}
	rep = w.run(context.Background(), p, executor.Options{})
	if tg := rep.Targets[0]; tg.Status != report.StatusInSync {
		t.Errorf("after adoption: %+v", tg)
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("adoption copied %d times", n)
	}
}

func TestSelectorsInReport(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	for _, n := range []string{"release-2026.11-nic", "release-2026.11-dma", "release-2026.10-nic"} {
		if _, err := w.sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: n, Tags: map[string]string{"release": n[8:15]}}); err != nil {
			t.Fatal(err)
		}
	}
	p := parse(t, `version: 1
name: sel
defaults: {source_region: us-east-1, regions: [eu-west-1]}
afis:
  - select: {name: "release-*", tags: {release: "2026.11"}}
  - select: {name: "nightly-*"}
`)
	rep := w.run(context.Background(), p, executor.Options{})
	if len(rep.Targets) != 2 || rep.Targets[0].Selector == "" || rep.Targets[0].Status != report.StatusCopying {
		t.Errorf("selector targets:\n%s", text(rep))
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "nightly-*") {
		t.Errorf("warnings = %q", rep.Warnings)
	}
	if rep.ExitCode(false) != 0 {
		t.Error("a selector matching nothing failed the run")
	}
}

func TestPrune(t *testing.T) {
	w := newWorld(t, ec2sim.Options{Accounts: map[string]string{"AKIDOTHER": acctA}})
	srcs := w.seed("us-east-1", 3)
	const v1 = `version: 1
name: fleet
defaults: {source_region: us-east-1, regions: [us-west-2, eu-west-1]}
afis:
  - id: %s
  - id: %s
    share_with: ["%s"]
  - id: %s
    share_with_groups: [all]
`
	rep := w.run(context.Background(), parse(t, v1, srcs[0], srcs[1], acctA, srcs[2]), executor.Options{Wait: true})
	if rep.Summary[report.StatusCopied] != 6 {
		t.Fatalf("first sync:\n%s", text(rep))
	}
	// Things prune must never touch.
	src0, _ := w.sim.Image(srcs[0])
	untagged, _ := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", AGFI: src0.AGFI})
	otherPlan, _ := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", Tags: map[string]string{plan.TagSource: "us-east-1/" + srcs[1], plan.ClaimKey("other"): "other"}})
	otherAcct, _ := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", Account: acctA, Tags: map[string]string{plan.TagSource: "us-east-1/" + srcs[1], plan.ClaimKey("fleet"): "fleet"}})
	// A failed copy of ours next to an available one: garbage.
	failed, _ := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", State: ec2sim.StateFailed, Message: ec2sim.TransientCopyFailure,
		Tags: map[string]string{plan.TagSource: "us-east-1/" + srcs[0], plan.ClaimKey("fleet"): "fleet"}})
	keep := []string{srcs[0], srcs[1], srcs[2], untagged.ID, otherPlan.ID, otherAcct.ID}

	// v2 keeps only srcs[0], and only in us-west-2.
	v2 := parse(t, "version: 1\nname: fleet\ndefaults: {source_region: us-east-1, regions: [us-west-2]}\nafis:\n  - id: %s\n", srcs[0])
	w.sim.ResetStats()
	diff := w.run(context.Background(), v2, executor.Options{DryRun: true, Prune: true})
	if n := diff.Summary[report.StatusWouldPrune]; n != 6 {
		t.Errorf("dry run: %d would-prune, want 6 (src0 eu-west-1, src1 ×2, src2 ×2, a failed copy)\n%s", n, text(diff))
	}
	if m := mutating(w.sim.Stats()); len(m) != 0 {
		t.Errorf("dry run with --prune made mutating calls: %v", m)
	}
	if plain := w.run(context.Background(), v2, executor.Options{DryRun: true}); plain.Summary[report.StatusWouldPrune] != 0 {
		t.Errorf("without --prune, diff lists prunes:\n%s", text(plain))
	}

	rep = w.run(context.Background(), v2, executor.Options{Prune: true})
	got := byTarget(rep)
	if n := rep.Summary[report.StatusPruned]; n != 4 {
		t.Errorf("%d pruned, want 4 (the public copies stay)\n%s", n, text(rep))
	}
	for _, r := range []string{"us-west-2", "eu-west-1"} {
		if tg := got[srcs[2]+">"+r]; tg.Status != report.StatusWouldPrune || !strings.Contains(tg.Message, "--prune-public") {
			t.Errorf("public copy in %s: %+v", r, tg)
		}
		if len(w.copies(srcs[1], r)) != 0 {
			t.Errorf("shared copy of %s in %s not pruned", srcs[1], r)
		}
	}
	if len(w.copies(srcs[0], "eu-west-1")) != 0 || len(w.copies(srcs[0], "us-west-2")) != 1 {
		t.Error("wrong copies of srcs[0] pruned")
	}
	if _, ok := w.sim.Image(failed.ID); ok {
		t.Error("the failed copy was not pruned")
	}
	for _, id := range keep {
		if _, ok := w.sim.Image(id); !ok {
			t.Errorf("prune deleted %s, which it must never touch", id)
		}
	}
	if rep.ExitCode(false) != 0 {
		t.Errorf("exit %d", rep.ExitCode(false))
	}

	rep = w.run(context.Background(), v2, executor.Options{Prune: true, PrunePublic: true})
	if n := rep.Summary[report.StatusPruned]; n != 2 || len(w.copies(srcs[2], "us-west-2")) != 0 {
		t.Errorf("--prune-public:\n%s", text(rep))
	}
}

func TestDeletedCopyGetsANewToken(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 1)
	p := mkPlan(t, srcs, []string{"us-west-2"}, "")
	w.run(context.Background(), p, executor.Options{})
	w.clock.Advance(time.Hour)
	// Someone deletes the copy; EC2 still remembers the token.
	cp := w.copies(srcs[0], "us-west-2")[0]
	if err := w.client(afi.Config{}).Delete(context.Background(), "us-west-2", cp.ID); err != nil {
		t.Fatal(err)
	}
	rep := w.run(context.Background(), p, executor.Options{})
	tg := rep.Targets[0]
	if tg.Status != report.StatusCopying || tg.CopyAFI == cp.ID || tg.Attempts != 2 {
		t.Fatalf("after the copy was deleted: %+v", tg)
	}
	w.assertOneCopyEach(srcs, []string{"us-west-2"})
}

func TestPreflight(t *testing.T) {
	w := newWorld(t, ec2sim.Options{Deny: map[string][]string{ec2sim.DefaultAccount: {"ModifyFpgaImageAttribute"}}})
	srcs := w.seed("us-east-1", 1)
	p := parse(t, "version: 1\nname: pf\ndefaults: {source_region: us-east-1, regions: [us-west-2, eu-west-1], share_with: [\"%s\"]}\nafis:\n  - id: %s\n", acctA, srcs[0])
	pf, err := executor.Preflight(context.Background(), w.client(afi.Config{}), p, executor.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(pf.Checks), 2*5; got != want {
		t.Errorf("%d checks, want %d: %+v", got, want, pf.Checks)
	}
	for _, c := range pf.Checks {
		want := report.CheckAllowed
		if c.Action == "ModifyFpgaImageAttribute" {
			want = report.CheckDenied
		}
		if c.Result != want {
			t.Errorf("%s %s: %s (%s), want %s", c.Region, c.Action, c.Result, c.Message, want)
		}
	}
	if pf.ExitCode() != 1 {
		t.Errorf("exit %d with a denied call", pf.ExitCode())
	}
	if m := mutating(w.sim.Stats()); m["CopyFpgaImage"] != 2 || w.sim.Stats().Count("", "", "ok") != w.sim.Stats().Count("DescribeFpgaImages", "", "ok")+w.sim.Stats().Count("DescribeRegions", "", "ok")+1 {
		t.Errorf("preflight calls: %+v", w.sim.Stats().Calls)
	}
	for _, r := range []string{"us-west-2", "eu-west-1"} {
		if n := len(w.sim.Images(ec2sim.DefaultAccount, r)); n != 0 {
			t.Errorf("preflight created %d AFIs in %s", n, r)
		}
	}
}
