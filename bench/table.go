package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// secs formats a duration as seconds with two decimals.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func mib(b uint64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func byAction(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", shortAction(k), m[k]))
	}
	return strings.Join(parts, ", ")
}

func shortAction(a string) string {
	switch a {
	case "DescribeFpgaImages":
		return "Describe"
	case "CopyFpgaImage":
		return "Copy"
	case "CreateTags":
		return "Tags"
	case "GetCallerIdentity":
		return "STS"
	}
	return a
}

// WriteScenarioTable writes the scenario results as a Markdown table. For
// each afisync row with a naive row of the same scenario, the last column
// gives naive wall time / afisync wall time.
func WriteScenarioTable(w io.Writer, rs []Result) {
	naive := map[string]Result{}
	for _, r := range rs {
		if r.Tool == "naive" {
			naive[r.Scenario] = r
		}
	}
	fmt.Fprintln(w, "| Scenario | Tool | Targets | Wall (s) | Ideal (s) | Ratio | Calls (by action) | Min calls | Over min | Throttled | Failed | Dup | Lost | Peak heap (MiB) | Naive ÷ afisync |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		ratio := "—"
		if r.Ratio() > 0 {
			ratio = fmt.Sprintf("%.3f", r.Ratio())
		}
		vs := ""
		if n, ok := naive[r.Scenario]; ok && r.Tool == "afisync" && r.Wall > 0 {
			vs = fmt.Sprintf("%.1f×", float64(n.Wall)/float64(r.Wall))
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %d (%s) | %d | %+.2f%% | %d (%.2f%%) | %d | %d | %d | %s | %s |\n",
			r.Scenario, r.Tool, r.Targets, secs(r.Wall), secs(r.Ideal), ratio,
			r.Calls.Total, byAction(r.Calls.ByAction), r.MinCalls, 100*r.CallOverhead(),
			r.Calls.Throttled, 100*r.ThrottledShare(), r.Failed, r.Inv.Duplicates, r.Inv.Lost, mib(r.PeakHeap), vs)
	}
}

// WriteFaultTable writes fault-matrix results as a Markdown table. For a
// case with a rerun, Converged, Duplicates and Lost are after the rerun,
// "Bad in faulty run" counts the targets the faulty run reported failed,
// timed out or skipped, and the last column quotes why. "Requests the
// outage held" counts requests that reached the endpoint during an outage:
// those a stalled endpoint never answered, and those a dying one dropped
// (connections it refused never reach it).
func WriteFaultTable(w io.Writer, rs []FaultResult) {
	fmt.Fprintln(w, "| Case | Targets | Runs | Converged | Failed (reported) | Duplicates | Lost | Calls | Clean calls | Extra calls | Throttled | Errors | Requests the outage held | Bad in faulty run | Wall of faulty run (s) | Faulty run: why |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range rs {
		why := "—"
		if r.Why != "" {
			why = strings.ReplaceAll(truncate(r.Why, 160), "|", "\\|")
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %+d | %d | %d | %d | %d | %s | %s |\n",
			r.Name, r.Inv.Targets, r.Runs, r.Inv.Converged, r.Inv.Failed, r.Inv.Duplicates, r.Inv.Lost,
			r.Calls.Total, r.CleanCalls, r.Calls.Total-r.CleanCalls, r.Calls.Throttled, r.Calls.Errors,
			r.OutageHits, r.Failed, secs(r.Wall), why)
	}
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// WriteMultiPlanTable writes multi-plan results as a Markdown table.
// Converged, Duplicates, Lost and Wrong deletions are after the prune
// (step 3), against the plans as they then read; the claims column is after
// the reruns (step 2).
func WriteMultiPlanTable(w io.Writer, rs []MultiPlanResult) {
	fmt.Fprintln(w, "| Case | Plans | Targets | Runs | Converged (together / after prune) | Duplicates | Lost | Wrong deletions | Shared copies claimed by every plan | Changed by rerun 1 / rerun 2 | Diffs not clean | Settings left to another plan (diff) | Prune: released / pruned | Re-add: copy calls / claimed | Failed | Calls | Throttled | Errors | Wall of step 1 (s) |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d / %d | %d | %d | %d | %d/%d | %d / %d | %d | %d | %d / %d | %d / %d | %d | %d | %d | %d | %s |\n",
			r.Name, r.Plans, r.Final.Targets, r.Runs, r.Together.Converged, r.Final.Converged,
			r.Together.Duplicates+r.Final.Duplicates, r.Together.Lost+r.Final.Lost, r.Final.WrongDeletions,
			r.ClaimedByAll, r.SharedCopies, r.Changes1, r.Changes2, r.DiffNotClean, r.Conflicts,
			r.Released, r.Pruned, r.ReaddCopies, r.ReaddClaimed, r.Failed,
			r.Calls.Total, r.Calls.Throttled, r.Calls.Errors, secs(r.Wall))
	}
}

// WriteConcurrentTable writes concurrent-throttled results as a Markdown
// table.
func WriteConcurrentTable(w io.Writer, rs []ConcurrentResult) {
	fmt.Fprintln(w, "| Syncs × plan size | Targets | Failed | Converged | Duplicates | Lost | Calls (by action) | Min calls | Over min | Throttled | Wall (s) | Floor (s) | Wall ÷ floor |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		ratio := "—"
		if r.Ratio() > 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio())
		}
		over := 0.0
		if r.MinCalls > 0 {
			over = float64(r.Calls.Total-r.MinCalls) / float64(r.MinCalls)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d (%s) | %d | %+.1f%% | %d (%.1f%%) | %s | %s | %s |\n",
			r.Name, r.Targets, r.Failed, r.Inv.Converged, r.Inv.Duplicates, r.Inv.Lost,
			r.Calls.Total, byAction(r.Calls.ByAction), r.MinCalls, 100*over,
			r.Calls.Throttled, 100*r.ThrottledShare(), secs(r.Wall), secs(r.Ideal), ratio)
	}
}

// WritePruneRaceTable writes prune-race results as a Markdown table.
func WritePruneRaceTable(w io.Writer, rs []PruneRaceResult) {
	fmt.Fprintln(w, "| Case | Dropped copies | Raced | Pruned | Released | Left (public) | Deleted | Wrong deletions | Public copies deleted | Public access removed | Reset calls | Claimed copy kept for its plan | Failed | Calls | Errors | Wall of prune (s) |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		kept := "no"
		if r.ClaimKept == 1 {
			kept = "yes"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s | %d | %d | %d | %s |\n",
			r.Name, r.Dropped, r.Raced, r.Pruned, r.Released, r.Kept, r.Deleted, r.Inv.WrongDeletions,
			r.PublicDeleted, r.PublicRemoved, r.Resets, kept, r.Failed, r.Calls.Total, r.Calls.Errors, secs(r.Wall))
	}
}

// WriteWaitTable writes sync --wait results as a Markdown table. Goal is
// issue 22's bound, 1.05 × floor + 5 s (scaled; issue 13's was 1.10 ×);
// Over min counts calls other than polls.
func WriteWaitTable(w io.Writer, rs []WaitResult, scale float64) {
	fmt.Fprintln(w, "| Case | Targets | Wall (s) | Floor (s) | Wall ÷ floor | 1.05 × floor + 5 s | Calls (by action) | Min calls (without polls) | Over min | Polls (share of the describe bucket) | Throttled | Failed | Dup | Lost | Shared | Pending source: copied in this run | Failed source: reported with its message |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range rs {
		if r.Rerun != nil && r.Wall == 0 {
			continue // a rerun-only case: WriteRerunTable
		}
		ratio, goal := "—", "—"
		if r.Ratio() > 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio())
			g := time.Duration(1.05*float64(r.Floor)) + time.Duration(float64(5*time.Second)/scale)
			met := "met"
			if r.Wall > g {
				met = "**not met**"
			}
			goal = secs(g) + " " + met
		}
		pending, failed := "—", "—"
		if r.PendingTargets > 0 {
			pending = fmt.Sprintf("%d/%d", r.PendingCopied, r.PendingTargets)
		}
		if r.FailedTargets > 0 {
			failed = fmt.Sprintf("%d/%d: %s", r.FailedReported, r.FailedTargets, strings.ReplaceAll(truncate(r.FailedMessage, 120), "|", "\\|"))
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %d (%s) | %d | %+.1f%% | %d (%.1f%%) | %d (%.1f%%) | %d | %d | %d | %d | %s | %s |\n",
			r.Name, r.Targets, secs(r.Wall), secs(r.Floor), ratio, goal,
			r.Calls.Total, byAction(r.Calls.ByAction), r.MinCalls, 100*r.OverMin(),
			r.Polls, 100*r.PollShare, r.Calls.Throttled, 100*r.ThrottledShare(),
			r.Failed, r.Inv.Duplicates, r.Inv.Lost, r.Shared, pending, failed)
	}
}

// WriteRerunTable writes the in-sync reruns of sync --wait results as a
// Markdown table; Limit is issue 13's bound on describes (2 per
// destination region + 2).
func WriteRerunTable(w io.Writer, rs []WaitResult) {
	fmt.Fprintln(w, "| Case | Targets | Wall (s) | Calls (by action) | Describes | Limit | DescribeFpgaImageAttribute | Throttled | Changed | In sync | Bad | Shared |")
	fmt.Fprintln(w, "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		x := r.Rerun
		if x == nil {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %d (%s) | %d | %d | %d | %d | %d | %d | %d | %d |\n",
			r.Name, r.Targets, secs(x.Wall), x.Calls.Total, byAction(x.Calls.ByAction), x.Describes(), x.Limit,
			x.Calls.ByAction["DescribeFpgaImageAttribute"], x.Calls.Throttled, x.Changed, x.InSync, x.Bad, r.Shared)
	}
}
