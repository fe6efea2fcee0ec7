package executor

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// PruneSet is what a `sync --prune` of a plan would do to the copies it no
// longer wants, as a dry run found it: the copies it would delete, those
// whose claim it would release (other plans claim them too), and the
// public ones it would leave (without PrunePublic).
type PruneSet struct {
	Delete, Release, Kept []report.Target
}

// PreviewPrune runs the plan as a dry run (Options.DryRun; no progress, no
// Decided; with o.Prune as given: the caller sets it for --prune) and
// returns what its prune and its retention rules would do: the list a
// person confirms before the real run. It makes no mutating call. Pass the
// set's Allows as Options.PruneOnly of the real run, so that it touches no
// copy the person was not shown.
func PreviewPrune(ctx context.Context, c *afi.Client, p *plan.Plan, o Options) (*PruneSet, error) {
	o.DryRun, o.Progress, o.Decided = true, nil, nil
	rep, err := Run(ctx, c, p, o)
	if err != nil {
		return nil, err
	}
	return pruneSet(rep), nil
}

// pruneSet is what the prune of a dry run's report would do.
func pruneSet(rep *report.Report) *PruneSet {
	s := &PruneSet{}
	for _, t := range rep.Targets {
		switch {
		case t.Status == report.StatusWouldRelease:
			s.Release = append(s.Release, t)
		case (t.Status == report.StatusWouldPrune || t.Status == report.StatusWouldExpire) && strings.HasSuffix(t.Message, publicKept):
			s.Kept = append(s.Kept, t)
		case t.Status == report.StatusWouldPrune || t.Status == report.StatusWouldExpire:
			s.Delete = append(s.Delete, t)
		}
	}
	return s
}

// Allows reports whether the set shows the copy in region: what
// Options.PruneOnly asks.
func (s *PruneSet) Allows(region, copyID string) bool {
	for _, list := range [][]report.Target{s.Delete, s.Release, s.Kept} {
		for _, t := range list {
			if t.Region == region && t.CopyAFI == copyID {
				return true
			}
		}
	}
	return false
}

// Empty reports whether the prune would touch no copy.
func (s *PruneSet) Empty() bool { return len(s.Delete)+len(s.Release) == 0 }

// Write lists the set for a person: one line per copy, what would happen
// to it and why.
func (s *PruneSet) Write(w io.Writer) error {
	var b strings.Builder
	section := func(head, mark string, list []report.Target) {
		if len(list) == 0 {
			return
		}
		b.WriteString(head + "\n")
		for _, t := range list {
			where := t.Region
			if t.AccountName != "" {
				where += " of account " + t.AccountName
			}
			fmt.Fprintf(&b, "  %s %s in %s (copy of %s): %s\n", mark, t.CopyAFI, where, plan.SourceKey(t.SourceRegion, t.SourceAFI), t.Message)
		}
	}
	section(fmt.Sprintf("sync will delete %s:", countOf(len(s.Delete), "copy", "copies")), "-", s.Delete)
	section(fmt.Sprintf("and release this plan's claim on %s (other plans keep them):", countOf(len(s.Release), "copy", "copies")), "~", s.Release)
	section("and leave these public copies (--prune-public deletes them):", " ", s.Kept)
	_, err := io.WriteString(w, b.String())
	return err
}

// Question is what a person is asked before the deletions of s.
func (s *PruneSet) Question() string {
	return fmt.Sprintf("Delete %s? Only 'yes' is accepted: ", countOf(len(s.Delete), "copy", "copies"))
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// confirmed reports whether the run may touch a copy it would prune: every
// copy, unless Options.PruneOnly limits it to those a person was shown.
func (r *run) confirmed(region, copyID string) bool {
	return r.o.PruneOnly == nil || r.o.PruneOnly(region, copyID)
}

// notConfirmed is the message of a copy the run would prune but leaves,
// because it was not in the list a person confirmed.
const notConfirmed = "not in the list confirmed before the run (found since), so left in place; run again to be asked"
