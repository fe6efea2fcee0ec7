package executor_test

import (
	"context"
	"fmt"
	"io"
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

// namedPlan is a plan called name copying srcs from us-east-1 into regions;
// perEntry is added under each entry (such as "    name: x").
func namedPlan(t *testing.T, name string, srcs, regions []string, perEntry string) *plan.Plan {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nname: %s\ndefaults:\n  source_region: us-east-1\n  regions: [%s]\nafis:\n", name, strings.Join(regions, ", "))
	for _, s := range srcs {
		fmt.Fprintf(&b, "  - id: %s\n%s", s, perEntry)
	}
	p, err := plan.Parse(name+".yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, b.String())
	}
	return p
}

// liveCopies counts the live copies of each (source, region) and reports
// any target with more than one.
func (w *world) assertNoDuplicates(srcs, regions []string) {
	w.t.Helper()
	for _, s := range srcs {
		for _, r := range regions {
			if n := len(w.copies(s, r)); n > 1 {
				w.t.Errorf("%s in %s: %d live copies: a duplicate", s, r, n)
			}
		}
	}
}

// claims returns the plans that claim the live copy of src in region.
func (w *world) claims(src, region string) []string {
	w.t.Helper()
	cs := w.copies(src, region)
	if len(cs) != 1 {
		w.t.Fatalf("%s in %s: %d live copies, want 1", src, region, len(cs))
	}
	return plan.Claims(cs[0].Tags)
}

func (w *world) settle() { w.clock.Advance(24 * time.Hour) } // every pending copy is available

func TestTwoPlansShareCopies(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	shared := w.seed("us-east-1", 3)
	ownA, ownB := w.seed("us-east-1", 1), w.seed("us-east-1", 1)
	regions := []string{"us-west-2", "eu-west-1"}
	// Different copy names and a tag value each: neither may block the
	// copy, and neither may undo the other's.
	a := namedPlan(t, "team-a", append(append([]string{}, shared...), ownA...), regions, "    name: nic-a\n    tags: {owner: a}\n")
	b := namedPlan(t, "team-b", append(append([]string{}, shared...), ownB...), regions, "    name: nic-b\n    tags: {owner: b}\n")

	// Both at once.
	var wg sync.WaitGroup
	reps := make([]*report.Report, 2)
	for i, p := range []*plan.Plan{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i] = w.run(context.Background(), p, executor.Options{})
		}()
	}
	wg.Wait()
	for i, rep := range reps {
		if rep.ExitCode(false) != 0 {
			t.Errorf("plan %d: exit %d:\n%s", i, rep.ExitCode(false), text(rep))
		}
	}
	w.assertOneCopyEach(shared, regions)
	w.settle()

	// Then each again, one after the other, twice: both claims stay, and
	// the second round changes nothing (no flip-flop).
	for round := range 2 {
		for _, p := range []*plan.Plan{a, b} {
			rep := w.run(context.Background(), p, executor.Options{})
			if rep.ExitCode(false) != 0 {
				t.Fatalf("round %d, %s: exit %d:\n%s", round, p.Name, rep.ExitCode(false), text(rep))
			}
			if round == 1 && rep.Changed() {
				t.Errorf("round %d, %s: changed something (flip-flop):\n%s", round, p.Name, text(rep))
			}
		}
	}
	for _, s := range shared {
		for _, r := range regions {
			if got := w.claims(s, r); strings.Join(got, ",") != "team-a,team-b" {
				t.Errorf("%s in %s claimed by %v, want both plans", s, r, got)
			}
		}
	}
	diff := w.run(context.Background(), b, executor.Options{DryRun: true})
	if diff.ExitCode(true) != 0 {
		t.Errorf("diff --detailed-exitcode of team-b after the sync: %d\n%s", diff.ExitCode(true), text(diff))
	}
	if !strings.Contains(text(diff), `the copy is also claimed by plan "team-a"`) {
		t.Errorf("the name and tag conflicts are not reported with the other plan's name:\n%s", text(diff))
	}

	// team-b drops the shared AFIs and prunes: its claims go, the copies
	// stay for team-a.
	b2 := namedPlan(t, "team-b", ownB, regions, "")
	rep := w.run(context.Background(), b2, executor.Options{Prune: true})
	if rep.Summary[report.StatusReleased] != 6 || rep.Summary[report.StatusPruned] != 0 {
		t.Errorf("team-b prune: want 6 released, 0 pruned:\n%s", text(rep))
	}
	for _, s := range shared {
		for _, r := range regions {
			if got := w.claims(s, r); strings.Join(got, ",") != "team-a" {
				t.Errorf("%s in %s claimed by %v after team-b let go, want team-a", s, r, got)
			}
		}
	}
	// team-a alone claims them now: its settings apply, once.
	if rep := w.run(context.Background(), a, executor.Options{}); rep.ExitCode(false) != 0 {
		t.Errorf("team-a after team-b pruned:\n%s", text(rep))
	}
	if d := w.run(context.Background(), a, executor.Options{DryRun: true}); d.ExitCode(true) != 0 {
		t.Errorf("team-a is not in sync after its own sync:\n%s", text(d))
	}
	for _, s := range shared {
		if cs := w.copies(s, "us-west-2"); len(cs) != 1 || cs[0].Name != "nic-a" || cs[0].Tags["owner"] != "a" {
			t.Errorf("%s: copy %+v does not carry team-a's name and tags", s, cs)
		}
	}
	// Now team-a drops them too: the copies go.
	rep = w.run(context.Background(), namedPlan(t, "team-a", ownA, regions, ""), executor.Options{Prune: true})
	if rep.Summary[report.StatusPruned] != 6 {
		t.Errorf("team-a prune: want 6 pruned:\n%s", text(rep))
	}
	for _, s := range shared {
		for _, r := range regions {
			if n := len(w.copies(s, r)); n != 0 {
				t.Errorf("%s in %s: %d copies left after the last claim went", s, r, n)
			}
		}
	}
}

func TestLegacyPlanTagIsAClaim(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 1)
	// A copy made by an afisync before claims: one afisync:plan tag.
	old, err := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", AGFI: "", SourceID: srcs[0], SourceRegion: "us-east-1",
		Tags: map[string]string{plan.TagSource: "us-east-1/" + srcs[0], plan.TagPlan: "old-plan"}})
	if err != nil {
		t.Fatal(err)
	}
	// Another plan claims it too and then lets go: the legacy claim keeps it.
	p := namedPlan(t, "new-plan", srcs, []string{"us-west-2"}, "")
	w.run(context.Background(), p, executor.Options{})
	if got := w.claims(srcs[0], "us-west-2"); strings.Join(got, ",") != "new-plan,old-plan" {
		t.Errorf("claims %v, want new-plan and old-plan", got)
	}
	rep := w.run(context.Background(), namedPlan(t, "new-plan", w.seed("us-east-1", 1), []string{"us-west-2"}, ""), executor.Options{Prune: true})
	if rep.Summary[report.StatusReleased] != 1 {
		t.Errorf("want the copy released, not pruned:\n%s", text(rep))
	}
	if _, ok := w.sim.Image(old.ID); !ok {
		t.Errorf("the legacy plan's copy was deleted")
	}
	// The legacy plan itself converts its tag to a claim key.
	rep = w.run(context.Background(), namedPlan(t, "old-plan", srcs, []string{"us-west-2"}, ""), executor.Options{})
	im, _ := w.sim.Image(old.ID)
	if im.Tags[plan.TagPlan] != "" || im.Tags[plan.ClaimKey("old-plan")] != "old-plan" {
		t.Errorf("legacy tag not converted: %v\n%s", im.Tags, text(rep))
	}
}

func TestPruneReaddRenameNeverJams(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	src := w.seed("us-east-1", 1)
	other := w.seed("us-east-1", 1) // keeps the plan non-empty while src is out
	regions := []string{"us-west-2"}
	for cycle := range 10 {
		name := fmt.Sprintf("    name: renamed-%d\n    description: cycle %d\n", cycle, cycle)
		rep := w.run(context.Background(), namedPlan(t, "p", append(append([]string{}, src...), other...), regions, name), executor.Options{Wait: true})
		if rep.ExitCode(false) != 0 {
			t.Fatalf("cycle %d: re-add failed:\n%s", cycle, text(rep))
		}
		cs := w.copies(src[0], "us-west-2")
		if len(cs) != 1 || cs[0].Name != fmt.Sprintf("renamed-%d", cycle) {
			t.Fatalf("cycle %d: live copies %+v, want one named renamed-%d", cycle, cs, cycle)
		}
		rep = w.run(context.Background(), namedPlan(t, "p", other, regions, ""), executor.Options{Prune: true})
		if rep.Summary[report.StatusPruned] != 1 || rep.ExitCode(false) != 0 {
			t.Fatalf("cycle %d: prune:\n%s", cycle, text(rep))
		}
	}
	w.assertNoDuplicates(append(src, other...), regions)
}

// intercept puts f in front of the simulator: f may answer a request
// itself (and return true) or let it through.
func (w *world) intercept(f func(rw http.ResponseWriter, body string) bool) {
	base := w.srv.Config.Handler
	w.srv.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		if !f(rw, string(body)) {
			base.ServeHTTP(rw, req)
		}
	})
}

func TestOldTokenWithOtherParametersDoesNotJam(t *testing.T) {
	// An afisync before claims named copies in the CopyFpgaImage call:
	// its token, reused now without the name, answers
	// IdempotentParameterMismatch. When that copy is gone, the next
	// attempt copies; when another run is still making it (untagged at
	// inventory time, tagged by the time afisync looks again), it is
	// claimed, not copied again.
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("live=%v", live), func(t *testing.T) {
			w := newWorld(t, ec2sim.Options{})
			srcs := w.seed("us-east-1", 1)
			c := w.client(afi.Config{})
			id, err := c.Copy(context.Background(), afi.CopyInput{SourceRegion: "us-east-1", SourceAFI: srcs[0], Region: "us-west-2",
				Name: "old-name", ClientToken: reconcile.ClientToken("us-east-1", srcs[0], "us-west-2", 1)})
			if err != nil {
				t.Fatal(err)
			}
			if live {
				w.intercept(func(_ http.ResponseWriter, body string) bool {
					if strings.Contains(body, "Filter.1.Name=tag%3Aafisync%3Asource") {
						// The other run has tagged its copy by now.
						if err := c.CreateTags(context.Background(), "us-west-2", []string{id}, map[string]string{plan.TagSource: "us-east-1/" + srcs[0], plan.TagPlan: "old"}); err != nil {
							t.Error(err)
						}
					}
					return false
				})
			} else if err := c.Delete(context.Background(), "us-west-2", id); err != nil {
				t.Fatal(err)
			}
			rep := w.run(context.Background(), namedPlan(t, "p", srcs, []string{"us-west-2"}, ""), executor.Options{})
			if rep.ExitCode(false) != 0 {
				t.Fatalf("exit %d:\n%s", rep.ExitCode(false), text(rep))
			}
			cs := w.copies(srcs[0], "us-west-2")
			if len(cs) != 1 {
				t.Fatalf("%d live copies, want 1", len(cs))
			}
			if live && (cs[0].ID != id || !plan.HasClaim(cs[0].Tags, "p")) {
				t.Errorf("the copy in flight %s was not claimed: %+v", id, cs[0])
			}
			if !live && rep.Targets[0].Attempts != 2 {
				t.Errorf("attempt %d, want 2 (the first token is used up)", rep.Targets[0].Attempts)
			}
		})
	}
}

func TestConcurrentSyncsUnderThrottleNeverFail(t *testing.T) {
	for _, procs := range []int{4, 16} {
		t.Run(fmt.Sprintf("%d processes", procs), func(t *testing.T) {
			if procs == 16 && testing.Short() {
				t.Skip("large")
			}
			w := newWorld(t, ec2sim.Options{Throttle: true})
			perProc := 200 / procs
			regions := []string{"us-west-2", "eu-west-1"}
			var wg sync.WaitGroup
			var mu sync.Mutex
			failed := 0
			var all []string
			for i := range procs {
				srcs := w.seed("us-east-1", perProc)
				all = append(all, srcs...)
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep := w.run(context.Background(), namedPlan(t, fmt.Sprintf("proc-%d", i), srcs, regions, ""), executor.Options{})
					mu.Lock()
					defer mu.Unlock()
					failed += rep.Summary[report.StatusFailed] + rep.Summary[report.StatusTimedOut]
					if rep.ExitCode(false) != 0 {
						t.Errorf("process %d: exit %d:\n%s", i, rep.ExitCode(false), text(rep))
					}
				}()
			}
			wg.Wait()
			if failed != 0 {
				t.Errorf("%d targets failed under throttling, want 0", failed)
			}
			w.assertOneCopyEach(all, regions)
			if th := w.sim.Stats().Count("CopyFpgaImage", "", "RequestLimitExceeded"); th == 0 {
				t.Logf("note: no CopyFpgaImage call was throttled")
			}
		})
	}
}

func TestPruneHonoursPublicGrantMadeAfterInventory(t *testing.T) {
	for _, when := range []string{"before the re-read", "between the re-read and the delete"} {
		t.Run(when, func(t *testing.T) {
			w := newWorld(t, ec2sim.Options{CopyTime: time.Nanosecond})
			srcs := w.seed("us-east-1", 2)
			p := namedPlan(t, "p", srcs, []string{"us-west-2"}, "")
			w.run(context.Background(), p, executor.Options{})
			w.settle()
			cp := w.copies(srcs[0], "us-west-2")[0]
			owner := w.client(afi.Config{})
			makePublic := func() {
				if err := owner.ModifySharing(context.Background(), "us-west-2", cp.ID, afi.Sharing{AddGroups: []string{"all"}}); err != nil {
					t.Error(err)
				}
			}
			// Someone makes the copy public after the inventory: when
			// afisync reads it again, or when it deletes it.
			var once sync.Once
			hookAction := "DescribeFpgaImages"
			if when != "before the re-read" {
				hookAction = "DeleteFpgaImage"
			}
			w.intercept(func(_ http.ResponseWriter, body string) bool {
				if strings.Contains(body, "Action="+hookAction+"&") && strings.Contains(body, cp.ID) {
					once.Do(makePublic)
				}
				return false
			})
			rep := w.run(context.Background(), namedPlan(t, "p", srcs[1:], []string{"us-west-2"}, ""), executor.Options{Prune: true})
			im, ok := w.sim.Image(cp.ID)
			if !ok || !im.Public {
				t.Fatalf("the copy made public was deleted or unshared (exists %v, public %v):\n%s", ok, im.Public, text(rep))
			}
			if n := w.sim.Stats().Count("ResetFpgaImageAttribute", "", "ok"); n != 0 {
				t.Errorf("%d ResetFpgaImageAttribute calls: public access removed without --prune-public", n)
			}
			if rep.Summary[report.StatusWouldPrune] != 1 || !strings.Contains(text(rep), "--prune-public") {
				t.Errorf("want the copy left in place and said so:\n%s", text(rep))
			}
		})
	}
}

func TestUndescribableSourceFailsOnlyItsTargets(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	good := w.seed("us-east-1", 2)
	// Not the caller's and not describable: DescribeFpgaImages of foreign
	// sources fails for this one batch.
	foreign, err := w.sim.AddImage(ec2sim.Image{Region: "us-east-1", Account: "444455556666"})
	if err != nil {
		t.Fatal(err)
	}
	w.intercept(func(rw http.ResponseWriter, body string) bool {
		if !strings.Contains(body, "FpgaImageId.1="+foreign.ID) {
			return false
		}
		rw.WriteHeader(http.StatusForbidden)
		io.WriteString(rw, "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>x</RequestID></Response>")
		return true
	})
	rep := w.run(context.Background(), namedPlan(t, "p", append(append([]string{}, good...), foreign.ID), []string{"us-west-2"}, ""), executor.Options{})
	if rep.Error != "" || len(rep.Targets) != 3 {
		t.Fatalf("want a report of 3 targets and no run error:\n%s", text(rep))
	}
	if rep.Summary[report.StatusCopying] != 2 || rep.Summary[report.StatusSkipped]+rep.Summary[report.StatusFailed] != 1 {
		t.Errorf("want 2 copying and the bad source's target alone skipped:\n%s", text(rep))
	}
	if !strings.Contains(text(rep), "UnauthorizedOperation: You are not authorized") {
		t.Errorf("the bad source's target does not quote AWS:\n%s", text(rep))
	}
}

func TestWithoutWaitAFailedCopyIsReportedFailed(t *testing.T) {
	w := newWorld(t, ec2sim.Options{FailRate: 1, CopyTime: time.Minute})
	srcs := w.seed("us-east-1", 1)
	p := namedPlan(t, "p", srcs, []string{"us-west-2"}, "")
	var lastCopy string
	for run := 1; run <= 4; run++ {
		rep := w.run(context.Background(), p, executor.Options{Retries: 2})
		tg := rep.Targets[0]
		switch run {
		case 1:
			if tg.Status != report.StatusCopying || rep.ExitCode(false) != 0 {
				t.Fatalf("run 1: %s", text(rep))
			}
		case 2, 3:
			if tg.Status != report.StatusFailed || rep.ExitCode(false) != 1 || !strings.Contains(tg.Message, "copy "+lastCopy+" failed") ||
				!strings.Contains(tg.Message, fmt.Sprintf("attempt %d started as %s", run, tg.CopyAFI)) {
				t.Errorf("run %d: want failed, naming the failed copy %s and the new attempt:\n%s", run, lastCopy, text(rep))
			}
		case 4:
			if tg.Status != report.StatusFailed || !strings.Contains(tg.Message, "gave up after 3 attempts; last copy "+lastCopy+" failed") {
				t.Errorf("run 4: want the give-up to name the latest copy %s:\n%s", lastCopy, text(rep))
			}
		}
		lastCopy = tg.CopyAFI
		w.clock.Advance(time.Hour) // the copy fails
	}
}

func TestPendingSourceIsAwaited(t *testing.T) {
	w := newWorld(t, ec2sim.Options{CopyTime: 5 * time.Minute})
	// A source still being built (CreateFpgaImage a moment ago), one that
	// will fail, and one that is ready.
	building, err := w.sim.AddImage(ec2sim.Image{Region: "us-east-1", State: ec2sim.StateAvailable, ReadyAt: t0.Add(20 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	doomed, err := w.sim.AddImage(ec2sim.Image{Region: "us-east-1", State: ec2sim.StateFailed, Message: "DCP_CORRUPT: the DCP could not be read", ReadyAt: t0.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ready := w.seed("us-east-1", 1)
	srcs := []string{building.ID, doomed.ID, ready[0]}
	regions := []string{"us-west-2", "eu-west-1"}

	// Without --wait: waiting, exit 1, nothing copied for them.
	rep := w.run(context.Background(), namedPlan(t, "p", srcs, regions, ""), executor.Options{})
	if rep.Summary[report.StatusWaiting] != 4 || rep.ExitCode(false) != 1 {
		t.Errorf("without --wait: want 4 waiting, exit 1:\n%s", text(rep))
	}
	// With --wait: the building source is copied once it is available,
	// in the same run; the doomed one fails its targets with AWS's words.
	rep = w.run(context.Background(), namedPlan(t, "p", srcs, regions, ""), executor.Options{Wait: true})
	got := map[string]report.Status{}
	for _, tg := range rep.Targets {
		got[tg.SourceAFI+" "+tg.Region] = tg.Status
		if tg.SourceAFI == doomed.ID && !strings.Contains(tg.Message, "DCP_CORRUPT: the DCP could not be read") {
			t.Errorf("failed source's target: message %q lacks AWS's State.Message", tg.Message)
		}
	}
	for _, r := range regions {
		if got[building.ID+" "+r] != report.StatusCopied || got[doomed.ID+" "+r] != report.StatusFailed {
			t.Errorf("%s: building %s, doomed %s; want copied and failed:\n%s", r, got[building.ID+" "+r], got[doomed.ID+" "+r], text(rep))
		}
	}
	w.assertOneCopyEach([]string{building.ID, ready[0]}, regions)
}

func TestInSyncRerunWithSharingIsRegionsOnly(t *testing.T) {
	w := newWorld(t, ec2sim.Options{CopyTime: time.Minute})
	srcs := w.seed("us-east-1", 20)
	regions := []string{"us-west-2", "eu-west-1", "eu-west-2"}
	share := "  share_with: [\"444455556666\"]\n"
	p := mkPlan(t, srcs, regions, share)
	rep := w.run(context.Background(), p, executor.Options{Wait: true})
	if rep.Summary[report.StatusCopied] != 60 {
		t.Fatalf("first sync:\n%s", text(rep))
	}
	count := func(o executor.Options) (describeAttr, describe, mutating int) {
		before := w.sim.Stats()
		rep := w.run(context.Background(), p, o)
		if rep.ExitCode(false) != 0 || rep.Changed() {
			t.Errorf("rerun changed something or failed:\n%s", text(rep))
		}
		after := w.sim.Stats()
		d := func(a string) int { return after.Count(a, "", "") - before.Count(a, "", "") }
		return d("DescribeFpgaImageAttribute"), d("DescribeFpgaImages"), d("CreateTags") + d("ModifyFpgaImageAttribute")
	}
	attr, desc, mut := count(executor.Options{})
	if attr != 0 || desc > 2*len(regions)+2 || mut != 0 {
		t.Errorf("in-sync rerun: %d DescribeFpgaImageAttribute, %d DescribeFpgaImages, %d mutating; want 0, ≤ %d, 0", attr, desc, mut, 2*len(regions)+2)
	}
	// --refresh reads every copy's sharing again.
	if attr, _, _ := count(executor.Options{Refresh: true}); attr != 60 {
		t.Errorf("--refresh: %d DescribeFpgaImageAttribute, want 60", attr)
	}
	// A grant made by hand is caught by exclusive_sharing, whatever the
	// digest says.
	cp := w.copies(srcs[0], "us-west-2")[0]
	if err := w.client(afi.Config{}).ModifySharing(context.Background(), "us-west-2", cp.ID, afi.Sharing{AddUsers: []string{"999988887777"}}); err != nil {
		t.Fatal(err)
	}
	rep = w.run(context.Background(), mkPlan(t, srcs, regions, share+"  exclusive_sharing: true\n"), executor.Options{})
	if rep.Summary[report.StatusUpdated] != 1 || !strings.Contains(text(rep), "- share 999988887777") {
		t.Errorf("exclusive_sharing did not catch the grant made by hand:\n%s", text(rep))
	}
}
