package executor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// TestPreviewPruneThenConfirmedRun: PreviewPrune lists what a prune would
// delete, release and leave, with no mutating call; the real run, limited
// to that list (PruneOnly), deletes and releases exactly it and leaves a
// copy found since.
func TestPreviewPruneThenConfirmedRun(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 4)
	regions := []string{"us-west-2"}
	w.run(context.Background(), namedPlan(t, "p", srcs, regions, ""), executor.Options{})
	w.run(context.Background(), namedPlan(t, "q", srcs[1:2], regions, ""), executor.Options{})
	w.settle()
	owner := w.client(afi.Config{})
	public := w.copies(srcs[2], "us-west-2")[0].ID
	if err := owner.ModifySharing(context.Background(), "us-west-2", public, afi.Sharing{AddGroups: []string{"all"}}); err != nil {
		t.Fatal(err)
	}
	smaller := namedPlan(t, "p", srcs[:1], regions, "")

	w.sim.ResetStats()
	set, err := executor.PreviewPrune(context.Background(), owner, smaller, executor.Options{Prune: true, Clock: simClock{w.clock, &w.sleeps}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"CopyFpgaImage", "CreateTags", "DeleteTags", "DeleteFpgaImage", "ModifyFpgaImageAttribute", "ResetFpgaImageAttribute"} {
		if n := w.sim.Stats().Count(a, "", ""); n != 0 {
			t.Errorf("PreviewPrune made %d %s calls", n, a)
		}
	}
	deleted, released := w.copies(srcs[3], "us-west-2")[0].ID, w.copies(srcs[1], "us-west-2")[0].ID
	if len(set.Delete) != 1 || set.Delete[0].CopyAFI != deleted || len(set.Release) != 1 || set.Release[0].CopyAFI != released ||
		len(set.Kept) != 1 || set.Kept[0].CopyAFI != public || set.Empty() {
		t.Fatalf("PreviewPrune = %+v", set)
	}
	var b strings.Builder
	if err := set.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"sync will delete 1 copy:\n  - " + deleted + " in us-west-2 (copy of us-east-1/" + srcs[3] + "): the plan no longer copies",
		"and release this plan's claim on 1 copy (other plans keep them):\n  ~ " + released,
		"and leave these public copies (--prune-public deletes them):\n    " + public,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the list does not say %q:\n%s", want, b.String())
		}
	}
	if q := set.Question(); q != "Delete 1 copy? Only 'yes' is accepted: " {
		t.Errorf("Question() = %q", q)
	}

	// A copy of this plan's, no longer wanted, appears after the question.
	late, err := w.sim.AddImage(ec2sim.Image{Region: "eu-west-1", Name: "late", SourceID: srcs[0], SourceRegion: "us-east-1",
		Tags: map[string]string{plan.TagSource: plan.SourceKey("us-east-1", srcs[0]), plan.ClaimKey("p"): "p"}})
	if err != nil {
		t.Fatal(err)
	}
	rep := w.run(context.Background(), smaller, executor.Options{Prune: true, PruneOnly: set.Allows})
	got := map[string]report.Target{}
	for _, tg := range rep.Targets {
		got[tg.CopyAFI] = tg
	}
	if got[deleted].Status != report.StatusPruned || got[released].Status != report.StatusReleased || got[public].Status != report.StatusWouldPrune {
		t.Errorf("confirmed run:\n%s", text(rep))
	}
	if tg := got[late.ID]; tg.Status != report.StatusWouldPrune || !strings.Contains(tg.Message, "not in the list confirmed before the run") {
		t.Errorf("the copy found since the question: %+v", tg)
	}
	if _, ok := w.sim.Image(late.ID); !ok {
		t.Errorf("the copy found since the question was deleted")
	}
	if _, ok := w.sim.Image(deleted); ok {
		t.Errorf("the confirmed copy %s is still there", deleted)
	}
}
