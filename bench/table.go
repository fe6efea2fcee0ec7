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
