package executor_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// buildPlan is a plan called name that builds input as "nic-v4" in
// us-east-1 and copies it into regions; extra is added under the entry.
func buildPlan(t *testing.T, name, input string, regions []string, extra string) *plan.Plan {
	t.Helper()
	y := fmt.Sprintf(`version: 1
name: %s
defaults:
  source_region: us-east-1
  regions: [%s]
  tags: {env: prod}
afis:
  - build:
      input: %s
      logs: s3://fpga-builds/logs/
    name: nic-v4
    description: NIC shell v4
%s`, name, strings.Join(regions, ", "), input, extra)
	p, err := plan.Parse(name+".yaml", []byte(y))
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, y)
	}
	return p
}

// builds returns the AFIs in us-east-1 built for p's first entry (by its
// build key), whatever their state.
func (w *world) builds(p *plan.Plan) []ec2sim.Image {
	e := p.AFIs[0]
	key := reconcile.BuildKey(e.Build, e.Name)
	var out []ec2sim.Image
	for _, im := range w.sim.Images(account, "us-east-1") {
		if im.Tags[plan.TagBuild] == key {
			out = append(out, im)
		}
	}
	return out
}

// oneBuild checks that exactly one AFI was built for p and returns it.
func (w *world) oneBuild(p *plan.Plan) ec2sim.Image {
	w.t.Helper()
	bs := w.builds(p)
	if len(bs) != 1 {
		w.t.Fatalf("%d AFIs built for %s, want exactly 1: %+v", len(bs), p.AFIs[0].Build.Input, bs)
	}
	return bs[0]
}

var releaseRegions = []string{"us-west-2", "eu-west-2"}

func TestBuildThenReplicateInOneSync(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute, CopyTime: 10 * time.Minute})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	rep := w.run(context.Background(), p, executor.Options{Wait: true, Timeout: 3 * time.Hour})
	if rep.Summary[report.StatusCopied] != 2 || rep.ExitCode(false) != 0 {
		t.Fatalf("sync --wait: want both targets copied:\n%s", text(rep))
	}
	b := w.oneBuild(p)
	if n := w.sim.Stats().Count("CreateFpgaImage", "", ""); n != 1 {
		t.Errorf("%d CreateFpgaImage calls, want 1 (one build for both regions)", n)
	}
	if b.Name != "nic-v4" || b.Description != "NIC shell v4" || b.Tags[plan.ClaimKey("release")] != "release" || len(b.Tags) != 2 {
		t.Errorf("the build: name %q, description %q, tags %v; want the entry's name and description, its key and the plan's claim",
			b.Name, b.Description, b.Tags)
	}
	for _, tg := range rep.Targets {
		if tg.SourceAFI != b.ID || tg.AGFI != b.AGFI || tg.Build != "s3://fpga-builds/dcp/nic-v4.tar" {
			t.Errorf("target %s: source %s agfi %s build %q; want %s %s and the input", tg.Region, tg.SourceAFI, tg.AGFI, tg.Build, b.ID, b.AGFI)
		}
	}
	w.assertOneCopyEach([]string{b.ID}, releaseRegions)
	for _, r := range releaseRegions {
		c := w.copies(b.ID, r)[0]
		// Copied after the build was available, not before (a copy of a
		// pending source would have failed INVALID_STATE).
		if c.CreateTime.Before(b.ReadyAt) || c.AGFI != b.AGFI || c.Name != "nic-v4" {
			t.Errorf("copy %s in %s: made %v (build available %v), AGFI %s, name %q", c.ID, r, c.CreateTime, b.ReadyAt, c.AGFI, c.Name)
		}
		if c.Tags["env"] != "prod" || c.Tags[plan.TagSource] != "us-east-1/"+b.ID || c.Tags[plan.TagBuild] != "" {
			t.Errorf("copy %s tags %v: want the plan's, the source key, and not the build's key", c.ID, c.Tags)
		}
	}

	// Reruns: in sync, no build, no copy.
	w.sim.ResetStats()
	for range 2 {
		rep = w.run(context.Background(), p, executor.Options{Wait: true})
		if rep.Summary[report.StatusInSync] != 2 || rep.ExitCode(false) != 0 {
			t.Fatalf("rerun:\n%s", text(rep))
		}
	}
	st := w.sim.Stats()
	if n := st.Count("CreateFpgaImage", "", "") + st.Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("reruns made %d CreateFpgaImage or CopyFpgaImage calls, want 0", n)
	}
}

func TestBuildWithoutWait(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute, CopyTime: 10 * time.Minute})
	p := buildPlan(t, "nightly", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	for i, want := range []struct {
		status  report.Status
		message string
		advance time.Duration
	}{
		{report.StatusBuilding, "build afi-", 20 * time.Minute}, // started
		{report.StatusBuilding, "still pending", time.Hour},     // still building: awaited, not built again
		{report.StatusCopying, "", time.Hour},                   // built: copied
		{report.StatusInSync, "", 0},
	} {
		rep := w.run(context.Background(), p, executor.Options{})
		if rep.Summary[want.status] != 2 || rep.ExitCode(false) != 0 || !strings.Contains(rep.Targets[0].Message, want.message) {
			t.Fatalf("run %d: want 2 %s (%q), exit 0:\n%s", i+1, want.status, want.message, text(rep))
		}
		w.clock.Advance(want.advance)
	}
	w.oneBuild(p)
	if n := w.sim.Stats().Count("CreateFpgaImage", "", ""); n != 1 {
		t.Errorf("%d CreateFpgaImage calls over 4 runs, want 1", n)
	}
}

func TestConcurrentSyncsBuildOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plans [2]string
	}{
		{"one plan", [2]string{"release", "release"}},
		// Another plan's request differs in its claim tag: EC2 answers
		// IdempotentParameterMismatch, and the build is found by its key.
		{"two plans", [2]string{"release", "hotfix"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute, CopyTime: 10 * time.Minute})
			var wg sync.WaitGroup
			reps := make([]*report.Report, 2)
			for i, name := range tc.plans {
				p := buildPlan(t, name, "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
				wg.Go(func() { reps[i] = w.run(context.Background(), p, executor.Options{Wait: true, Timeout: 3 * time.Hour}) })
			}
			wg.Wait()
			b := w.oneBuild(buildPlan(t, "x", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, ""))
			for i, rep := range reps {
				if rep.ExitCode(false) != 0 || len(rep.Targets) != 2 {
					t.Errorf("run %d:\n%s", i+1, text(rep))
				}
				for _, tg := range rep.Targets {
					if tg.SourceAFI != b.ID {
						t.Errorf("run %d copied %s, not the build %s", i+1, tg.SourceAFI, b.ID)
					}
				}
			}
			w.assertOneCopyEach([]string{b.ID}, releaseRegions)
		})
	}
}

func TestBuildResponseLost(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute})
	w.loseAction = "CreateFpgaImage"
	w.lose.Store(2)
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	rep := w.run(context.Background(), p, executor.Options{})
	if rep.Summary[report.StatusBuilding] != 2 {
		t.Fatalf("%s", text(rep))
	}
	if n := w.sim.Stats().Count("CreateFpgaImage", "", "ok"); n != 3 {
		t.Errorf("simulator answered %d CreateFpgaImage calls, want 3 (two lost responses, SDK retried)", n)
	}
	if b := w.oneBuild(p); rep.Targets[0].SourceAFI != b.ID {
		t.Errorf("report names %s, the build is %s", rep.Targets[0].SourceAFI, b.ID)
	}
}

func TestFailedBuildIsReportedWithItsMessage(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/fail-DCP_CORRUPT.tar", releaseRegions, "")
	msg := ec2sim.BuildFailureMessage("DCP_CORRUPT")
	// With --wait, in the run that builds it.
	rep := w.run(context.Background(), p, executor.Options{Wait: true})
	b := w.oneBuild(p)
	for _, tg := range rep.Targets {
		if tg.Status != report.StatusFailed || tg.Message != "build "+b.ID+" failed: "+msg {
			t.Errorf("%s: %s %q; want failed with the build's State.Message", tg.Region, tg.Status, tg.Message)
		}
	}
	if rep.ExitCode(false) != 1 {
		t.Errorf("exit %d, want 1", rep.ExitCode(false))
	}
	// Later runs: skipped with the same words, and never built again.
	for _, o := range []executor.Options{{}, {Wait: true}, {DryRun: true}} {
		rep = w.run(context.Background(), p, o)
		for _, tg := range rep.Targets {
			if tg.Status != report.StatusSkipped || !strings.Contains(tg.Message, msg) || !strings.Contains(tg.Message, "upload the fixed DCP under a new key") {
				t.Errorf("rerun %+v, %s: %s %q", o, tg.Region, tg.Status, tg.Message)
			}
		}
		if rep.ExitCode(false) != 1 {
			t.Errorf("rerun %+v: exit %d, want 1", o, rep.ExitCode(false))
		}
	}
	if n := w.sim.Stats().Count("CreateFpgaImage", "", ""); n != 1 {
		t.Errorf("%d CreateFpgaImage calls, want 1", n)
	}
}

func TestDiffOfABuildMakesNothing(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	rep := w.run(context.Background(), p, executor.Options{DryRun: true})
	if rep.Summary[report.StatusWouldBuild] != 2 || rep.ExitCode(true) != 2 || rep.ExitCode(false) != 0 {
		t.Fatalf("diff: want 2 would-build, exit 2 with --detailed-exitcode:\n%s", text(rep))
	}
	out := text(rep)
	if !strings.Contains(out, "us-east-1/(new build)  eu-west-2  would-build") ||
		!strings.Contains(out, `build "nic-v4" in us-east-1 (CreateFpgaImage), then copy it (built from s3://fpga-builds/dcp/nic-v4.tar)`) {
		t.Errorf("diff does not say what it would build:\n%s", out)
	}
	for _, c := range w.sim.Stats().Calls {
		if c.Action != "DescribeFpgaImages" && c.Action != "GetCallerIdentity" && c.Action != "GetServiceQuota" { // read-only calls
			t.Errorf("diff called %s in %s", c.Action, c.Region)
		}
	}
	if n := len(w.sim.Images(account, "us-east-1")); n != 0 {
		t.Errorf("diff left %d AFIs behind", n)
	}
}

func TestDeletedBuildIsNotMadeAgain(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/fail-DCP_CORRUPT.tar", releaseRegions, "")
	w.run(context.Background(), p, executor.Options{})
	b := w.oneBuild(p)
	w.clock.Advance(time.Hour)
	if err := w.client(afi.Config{}).Delete(context.Background(), "us-east-1", b.ID); err != nil {
		t.Fatal(err)
	}
	// The token answers with the deleted AFI: said so, and nothing new.
	for _, o := range []executor.Options{{}, {Wait: true}} {
		rep := w.run(context.Background(), p, o)
		for _, tg := range rep.Targets {
			if tg.Status != report.StatusFailed || !strings.Contains(tg.Message, "build "+b.ID+", made earlier for this input with the same ClientToken, was deleted since") {
				t.Errorf("%+v, %s: %s %q", o, tg.Region, tg.Status, tg.Message)
			}
		}
	}
	if bs := w.builds(p); len(bs) != 0 {
		t.Errorf("built again after a delete: %+v", bs)
	}
}

func TestBuildStillPendingAtTheDeadline(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 3 * time.Hour})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	rep := w.run(context.Background(), p, executor.Options{Wait: true, Timeout: time.Hour})
	b := w.oneBuild(p)
	for _, tg := range rep.Targets {
		if tg.Status != report.StatusTimedOut || tg.Message != "build "+b.ID+" still pending after 1h0m0s" {
			t.Errorf("%s: %s %q; want timed-out", tg.Region, tg.Status, tg.Message)
		}
	}
	if rep.ExitCode(false) != 1 {
		t.Errorf("exit %d, want 1", rep.ExitCode(false))
	}
}

// TestBuildRaceWithAnotherPlan has another plan's build of the same input
// land between this run's inventory and its CreateFpgaImage: the same token
// with another claim tag answers IdempotentParameterMismatch, and the build
// is found by its key instead of made twice.
func TestBuildRaceWithAnotherPlan(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	e := p.AFIs[0]
	key := reconcile.BuildKey(e.Build, e.Name)
	c := w.client(afi.Config{})
	var theirs string
	raced := false
	w.intercept(func(_ http.ResponseWriter, body string) bool {
		if strings.Contains(body, "Action=CreateFpgaImage") && !raced {
			raced = true // the other plan's own call comes through here too
			id, _, err := c.Build(context.Background(), "us-east-1", afi.BuildInput{Input: e.Build.Input, Logs: e.Build.Logs, Name: e.Name,
				Description: "the other plan's words", Tags: reconcile.BuildTags(key, "hotfix"), ClientToken: reconcile.BuildToken(key)})
			if err != nil {
				t.Error(err)
			}
			theirs = id
		}
		return false
	})
	rep := w.run(context.Background(), p, executor.Options{})
	if b := w.oneBuild(p); b.ID != theirs {
		t.Fatalf("the build is %s, the other plan's %s", b.ID, theirs)
	}
	if n := w.sim.Stats().Count("CreateFpgaImage", "", "IdempotentParameterMismatch"); n != 1 {
		t.Errorf("%d mismatching CreateFpgaImage calls, want 1: the race did not happen", n)
	}
	for _, tg := range rep.Targets {
		if tg.Status != report.StatusBuilding || tg.SourceAFI != theirs {
			t.Errorf("%s: %s from %s; want building from the other plan's build %s", tg.Region, tg.Status, tg.SourceAFI, theirs)
		}
	}
}

func TestBuildNotStartedWhenInterrupted(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := w.run(ctx, p, executor.Options{Wait: true, Progress: func(pr executor.Progress) {
		if pr.Phase == executor.PhaseInventory {
			cancel() // interrupted once the plan is made, before any build
		}
	}})
	for _, tg := range rep.Targets {
		if tg.Status != report.StatusFailed || tg.Message != "build not started: interrupted" {
			t.Errorf("%s: %s %q; want failed, not started", tg.Region, tg.Status, tg.Message)
		}
	}
	if !rep.Interrupted || len(w.builds(p)) != 0 {
		t.Errorf("interrupted %v, %d builds; want interrupted and none", rep.Interrupted, len(w.builds(p)))
	}
}

// TestBuildStartedEarlierIsAwaited: a sync --wait that finds the build
// still pending (started by an earlier run) waits for it and copies it.
func TestBuildStartedEarlierIsAwaited(t *testing.T) {
	w := newWorld(t, ec2sim.Options{BuildTime: 40 * time.Minute})
	p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
	if rep := w.run(context.Background(), p, executor.Options{}); rep.Summary[report.StatusBuilding] != 2 {
		t.Fatalf("first run:\n%s", text(rep))
	}
	rep := w.run(context.Background(), p, executor.Options{Wait: true})
	if rep.Summary[report.StatusCopied] != 2 || rep.ExitCode(false) != 0 {
		t.Fatalf("second run, --wait:\n%s", text(rep))
	}
	b := w.oneBuild(p)
	w.assertOneCopyEach([]string{b.ID}, releaseRegions)
}

func TestPreflightChecksBuilds(t *testing.T) {
	for _, deny := range []bool{false, true} {
		o := ec2sim.Options{}
		if deny {
			o.Deny = map[string][]string{account: {"CreateFpgaImage"}}
		}
		w := newWorld(t, o)
		p := buildPlan(t, "release", "s3://fpga-builds/dcp/nic-v4.tar", releaseRegions, "")
		pf, err := executor.Preflight(context.Background(), w.client(afi.Config{}), p, executor.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []report.Check
		for _, c := range pf.Checks {
			if c.Action == "CreateFpgaImage" {
				got = append(got, c)
			}
		}
		want := report.CheckAllowed
		if deny {
			want = report.CheckDenied
		}
		if len(got) != 1 || got[0].Region != "us-east-1" || got[0].Result != want || got[0].AFI != "s3://fpga-builds/dcp/nic-v4.tar" {
			t.Errorf("deny=%v: CreateFpgaImage checks %+v; want one in us-east-1, %s", deny, got, want)
		}
		if n := len(w.sim.Images(account, "us-east-1")); n != 0 {
			t.Errorf("preflight built %d AFIs", n)
		}
	}
}
