// Command afisync-bench runs afisync's full measurement suite against the
// in-process EC2 simulator and prints Markdown tables: the throttled
// scenarios (afisync and the naive baseline, and where each afisync run's
// time went: before the first copy, copying, after the last), the sync
// --wait rows (copy times, share_with, sources being built, in-sync
// reruns), the fault matrix (with the rows of several plans and runs in
// one account: multi-plan, concurrent-throttled, prune-race), the SIGKILL
// case, and with -accounts the accounts row (3 accounts against one, under
// EC2's real buckets).
// docs/performance.md records its output.
//
//	go run ./bench/cmd/afisync-bench            # everything (a few minutes)
//	go run ./bench/cmd/afisync-bench -sizes 10x3,100x8 -faults=false -wait=false -kill=false
//	go run ./bench/cmd/afisync-bench -scale 1 -latency 50ms -sizes 120x2,300x4 -baseline-max 0 -faults=false -wait=false -kill=false
//	go run ./bench/cmd/afisync-bench -sizes '' -faults=false -kill=false     # the sync --wait rows
//	go run ./bench/cmd/afisync-bench -sizes '' -kill=false -match endpoint
//	go run ./bench/cmd/afisync-bench -sizes '' -kill=false -match 'multi-plan|concurrent-throttled|prune-race'
//	go run ./bench/cmd/afisync-bench -sizes '' -faults=false -wait=false -kill=false -accounts   # the accounts row
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/afisync/afisync/bench"
	"github.com/afisync/afisync/ec2sim"
)

func main() {
	sizes := flag.String("sizes", "10x3,100x8,500x8,2000x16", "scenarios, AFIsxRegions, comma-separated")
	scale := flag.Float64("scale", bench.DefaultScale, "speed-up of EC2's refill rates and afisync's pacing; latency is divided by it")
	latency := flag.Duration("latency", bench.DefaultLatency, "per-call latency before scaling (negative: none)")
	concurrency := flag.Int("concurrency", 0, "afisync --concurrency (0: its default)")
	baselineMax := flag.Int("baseline-max", 4000, "run the naive baseline only for scenarios with at most this many targets")
	faults := flag.Bool("faults", true, "run the fault matrix")
	match := flag.String("match", "", "run only the fault cases whose name matches this regular expression")
	kill := flag.Bool("kill", true, "run the SIGKILL case (builds ./cmd/afisync)")
	wait := flag.Bool("wait", true, "run the sync --wait rows (copy times, share_with, pending sources, in-sync reruns; filtered by -match)")
	accounts := flag.Bool("accounts", false, "also run the accounts row: 3 accounts × 100 AFIs × 2 regions against 1 × 100 × 2, under EC2's real buckets (scale 1, whatever -scale says; ~25 s)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	re, err := regexp.Compile(*match)
	if err != nil {
		fmt.Fprintln(os.Stderr, "afisync-bench: -match:", err)
		os.Exit(2)
	}
	if err := run(ctx, os.Stdout, *sizes, *scale, *latency, *concurrency, *baselineMax, *faults, *wait, re, *kill, *accounts); err != nil {
		fmt.Fprintln(os.Stderr, "afisync-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, sizes string, scale float64, latency time.Duration, concurrency, baselineMax int, faults, wait bool, match *regexp.Regexp, kill, accounts bool) error {
	args := []string{"go", "run", "./bench/cmd/afisync-bench"}
	for _, a := range os.Args[1:] {
		if a == "" || strings.ContainsAny(a, " '\"|*?()&;<>$") {
			a = strconv.Quote(a)
		}
		args = append(args, a)
	}
	fmt.Fprintf(w, "Command: `%s`\n\n", strings.Join(args, " "))
	fmt.Fprintf(w, "Machine: %d CPUs (GOMAXPROCS %d), %s, %s/%s, %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(w, "Scale %g (EC2 refill rates and afisync pacing ×%g; latency %s ÷ %g); wall and ideal times are scaled seconds (×%g for AWS time).\n\n", scale, scale, latency, scale, scale)
	var results []bench.Result
	for _, sz := range strings.Split(sizes, ",") {
		if strings.TrimSpace(sz) == "" {
			continue
		}
		n, r, err := parseSize(sz)
		if err != nil {
			return err
		}
		s := bench.Scenario{AFIs: n, Regions: r, Scale: scale, Latency: latency, Concurrency: concurrency}
		res, err := bench.RunAfisync(ctx, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name(), err)
		}
		fmt.Fprintf(os.Stderr, "%s afisync %.2fs (ideal %.2fs)\n", s.Name(), res.Wall.Seconds(), res.Ideal.Seconds())
		results = append(results, res)
		if n*r <= baselineMax {
			nres, err := bench.RunNaive(ctx, s)
			if err != nil {
				return fmt.Errorf("%s naive: %w", s.Name(), err)
			}
			fmt.Fprintf(os.Stderr, "%s naive %.2fs\n", s.Name(), nres.Wall.Seconds())
			results = append(results, nres)
		}
	}
	if len(results) > 0 {
		fmt.Fprintln(w, "### Throttled scenarios")
		fmt.Fprintln(w)
		bench.WriteScenarioTable(w, results)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "### Where the time goes (afisync, from the simulator's call log)")
		fmt.Fprintln(w)
		bench.WritePhasesTable(w, results)
		fmt.Fprintln(w)
	}
	if accounts {
		if err := runAccounts(ctx, w, latency); err != nil {
			return err
		}
	}
	if wait {
		if err := runWait(ctx, w, scale, match); err != nil {
			return err
		}
	}
	if faults {
		var frs []bench.FaultResult
		for _, c := range FaultMatrix(scale) {
			if !match.MatchString(c.Name) {
				continue
			}
			fr, err := bench.RunFault(ctx, c)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			fmt.Fprintf(os.Stderr, "fault %s done in %.2fs\n", c.Name, fr.Wall.Seconds())
			frs = append(frs, fr)
		}
		if len(frs) > 0 {
			fmt.Fprintln(w, "### Fault matrix")
			fmt.Fprintln(w)
			bench.WriteFaultTable(w, frs)
			fmt.Fprintln(w)
		}
		if err := runClaims(ctx, w, scale, latency, match); err != nil {
			return err
		}
	}
	if kill {
		dir, err := os.MkdirTemp("", "afisync-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin, err := bench.BuildAfisync(ctx, dir)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "### SIGKILL at random points, rerun until exit 0")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| Plan | Seed | Kill | Runs | Killed | Killed while copying | Untagged copies left | Converged | Duplicates | Lost | Calls | Min calls (one clean run) | Extra calls | Wall (s) |")
		fmt.Fprintln(w, "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for seed := uint64(1); seed <= 10; seed++ {
			// Seeds 1-5 kill after a random delay; 6-10 once a random
			// number of copies exist, so every kill lands mid-copy.
			kc := bench.KillCase{AFIs: 40, Regions: 5, Latency: 50 * time.Millisecond, MinDelay: 100 * time.Millisecond, MaxDelay: 500 * time.Millisecond, MaxRuns: 100, Seed: seed, AtCopies: seed > 5}
			kr, err := bench.RunKill(ctx, bin, kc)
			if err != nil {
				return fmt.Errorf("kill seed %d: %w", seed, err)
			}
			how := fmt.Sprintf("after %s–%s", kc.MinDelay, kc.MaxDelay)
			if kc.AtCopies {
				how = "at a random copy count"
			}
			fmt.Fprintf(w, "| %d×%d | %d | %s | %d | %d | %d | %d | %d/%d | %d | %d | %d | %d | %+d | %.2f |\n",
				kc.AFIs, kc.Regions, seed, how, kr.Runs, kr.Killed, kr.MidCopy, kr.Untagged, kr.Inv.Converged, kr.Inv.Targets, kr.Inv.Duplicates, kr.Inv.Lost,
				kr.Calls.Total, kr.CleanCalls, kr.Calls.Total-kr.CleanCalls, kr.Wall.Seconds())
		}
		fmt.Fprintln(w)
	}
	return nil
}

// WaitRows are the sync --wait rows (issue 13), at 50 ms of latency a call
// (the conditions), copies pending 10 or 30 s ± 20%: the issue's
// 120×2 and 300×4 waits, the 300×4 headline with share_with one account
// and its in-sync rerun, sources still being built (one available 20 s
// after the run starts, one failed then), and a 1000×10 in-sync rerun with
// sharing.
func WaitRows(scale float64) []bench.WaitCase {
	sc := strconv.FormatFloat(scale, 'g', -1, 64)
	const lat = 50 * time.Millisecond
	return []bench.WaitCase{
		{Name: "wait 120×2, copies 10 s ±20% (scale " + sc + ")", AFIs: 120, Regions: 2, Scale: scale, Latency: lat, CopyTime: 10 * time.Second, Jitter: 0.2, Seed: 61},
		{Name: "wait 300×4, copies 10 s ±20% (scale " + sc + ")", AFIs: 300, Regions: 4, Scale: scale, Latency: lat, CopyTime: 10 * time.Second, Jitter: 0.2, Seed: 62},
		{Name: "wait 300×4 share_with, copies 30 s ±20%; in-sync rerun (scale " + sc + ")", AFIs: 300, Regions: 4, Scale: scale, Latency: lat, CopyTime: 30 * time.Second, Jitter: 0.2, Share: true, Rerun: true, Seed: 63},
		{Name: "wait 50×4 share_with + 2 sources being built: available at 20 s, failed at 20 s (scale " + sc + ")", AFIs: 50, Regions: 4, Scale: scale, Latency: lat, CopyTime: 30 * time.Second, Jitter: 0.2, Share: true, Seed: 64,
			Pending: []bench.PendingSource{{After: 20 * time.Second}, {After: 20 * time.Second, Message: "DCP_CORRUPT: the design checkpoint (DCP) is corrupt"}}},
		{Name: "rerun 1000×10 share_with, in sync (scale " + sc + ")", AFIs: 1000, Regions: 10, Scale: scale, Latency: lat, Share: true, RerunOnly: true, Seed: 65},
	}
}

// runAccounts is the accounts row (issue 20): one run over 3 accounts ×
// 100 AFIs × 2 regions and one over 1 account × 100 × 2, in this run,
// under EC2's real buckets (scale 1); the first must take at most 1.25 ×
// the second + 5 s.
func runAccounts(ctx context.Context, w io.Writer, latency time.Duration) error {
	c := bench.AccountsCase{Accounts: 3, AFIs: 100, Regions: 2, Scale: 1, Latency: latency, Seed: 71}
	cmp, err := bench.CompareAccounts(ctx, c)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	fmt.Fprintf(os.Stderr, "accounts: 1 × %.2fs, %d × %.2fs (bound %.2fs)\n", cmp.One.Wall.Seconds(), c.Accounts, cmp.Many.Wall.Seconds(), cmp.Bound().Seconds())
	fmt.Fprintln(w, "### Accounts")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Scale 1 (EC2's real buckets, one set per account and region), latency %s a call, plain sync (copies finish at once). Bound: 1.25 × the one-account wall + 5 s.\n\n", latency)
	fmt.Fprintln(w, "| Run | Targets | Copies | Failed | Wall (s) | Floor of one account (s) | Bound (s) | Within |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range []bench.AccountsResult{cmp.One, cmp.Many} {
		within := "—"
		if r.Accounts > 1 {
			within = map[bool]string{true: "yes", false: "**no**"}[cmp.OK()]
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.2f | %.2f | %.2f | %s |\n", r.Name, r.Targets, r.Copies, r.Failed, r.Wall.Seconds(), r.Ideal.Seconds(), cmp.Bound().Seconds(), within)
	}
	fmt.Fprintln(w)
	if !cmp.OK() {
		return fmt.Errorf("%s took %s, over the bound %s (or did not converge: %s)", c.Name(), cmp.Many.Wall, cmp.Bound(), cmp.Many.Why)
	}
	return nil
}

func runWait(ctx context.Context, w io.Writer, scale float64, match *regexp.Regexp) error {
	var rs []bench.WaitResult
	for _, c := range WaitRows(scale) {
		if !match.MatchString(c.Name) {
			continue
		}
		r, err := bench.RunWait(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		fmt.Fprintf(os.Stderr, "%s: %.2fs (floor %.2fs)\n", c.Name, r.Wall.Seconds(), r.Floor.Seconds())
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "### sync --wait")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Latency 50ms ÷ %g in these rows (not -latency). Floor: the last copy's earliest start the CopyFpgaImage bucket allows, (C − 50)/5 s, plus its copy time at the jitter's maximum, ÷ %g. Min calls leave out polls (counted apart).\n\n", scale, scale)
	bench.WriteWaitTable(w, rs, scale)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### In-sync reruns")
	fmt.Fprintln(w)
	bench.WriteRerunTable(w, rs)
	fmt.Fprintln(w)
	return nil
}

// FaultMatrix is the full fault matrix.
func FaultMatrix(scale float64) []bench.FaultCase {
	sc := strconv.FormatFloat(scale, 'g', -1, 64)
	return []bench.FaultCase{
		{Name: "20% random 5xx (manual clock)", AFIs: 100, Regions: 8, Manual: true, Sim: ec2sim.Options{ErrorRate: 0.2, Seed: 11}},
		{Name: "10% of copies fail transiently (manual clock)", AFIs: 100, Regions: 8, Manual: true, Sim: ec2sim.Options{FailRate: 0.1, Seed: 12}},
		{Name: "4 concurrent syncs of one plan (manual clock)", AFIs: 100, Regions: 8, Manual: true, Concurrent: 4, Sim: ec2sim.Options{Seed: 13}},
		{Name: "4 concurrent syncs, throttled (scale " + strconv.FormatFloat(scale, 'g', -1, 64) + ")", AFIs: 100, Regions: 8, Scale: scale, Latency: bench.DefaultLatency, Concurrent: 4, Sim: ec2sim.Options{Throttle: true, Seed: 14}},
		{Name: "throttling at EC2's real rates (scale 1), paced", AFIs: 80, Regions: 2, Scale: 1, Latency: bench.DefaultLatency, Sim: ec2sim.Options{Throttle: true, Seed: 15}},
		{Name: "throttling at EC2's real rates (scale 1), no pacing: SDK retries only", AFIs: 80, Regions: 2, Scale: 1, Latency: bench.DefaultLatency, NoPacing: true, Sim: ec2sim.Options{Throttle: true, Seed: 16}},
		{Name: "latency spikes: 5% of calls +2 s (scale " + strconv.FormatFloat(scale, 'g', -1, 64) + ")", AFIs: 100, Regions: 8, Scale: scale, Latency: bench.DefaultLatency, Spike: bench.Spike{Fraction: 0.05, Extra: time.Duration(float64(2*time.Second) / scale)}, Sim: ec2sim.Options{Throttle: true, Seed: 17}},
		// Outages after 300 calls, mid-copy: the endpoint stalls (accepts
		// and never answers: each attempt is abandoned after afi's
		// per-attempt deadline and retried) or dies (connection refused),
		// for 20 s or for good (the run ends by --timeout 2m). Each
		// rerun is the next cron run, with the endpoint back.
		{Name: "endpoint stalls for 20 s mid-run (scale " + sc + ")", AFIs: 100, Regions: 8, Scale: scale, Latency: bench.DefaultLatency,
			Outage: bench.Outage{Stall: true, After: 300, For: 20 * time.Second}, Sim: ec2sim.Options{Throttle: true, Seed: 19}},
		{Name: "endpoint stalls for good mid-run, --timeout 2m; rerun (scale " + sc + ")", AFIs: 100, Regions: 8, Scale: scale, Latency: bench.DefaultLatency,
			Deadline: 2 * time.Minute, Rerun: true, Outage: bench.Outage{Stall: true, After: 300}, Sim: ec2sim.Options{Throttle: true, Seed: 20}},
		{Name: "endpoint dies for 20 s mid-run (connection refused); rerun (scale " + sc + ")", AFIs: 100, Regions: 8, Scale: scale, Latency: bench.DefaultLatency,
			Rerun: true, Outage: bench.Outage{After: 300, For: 20 * time.Second}, Sim: ec2sim.Options{Throttle: true, Seed: 21}},
		{Name: "endpoint dies for good mid-run, --timeout 2m; rerun (scale " + sc + ")", AFIs: 100, Regions: 8, Scale: scale, Latency: bench.DefaultLatency,
			Deadline: 2 * time.Minute, Rerun: true, Outage: bench.Outage{After: 300}, Sim: ec2sim.Options{Throttle: true, Seed: 22}},
		{Name: "everything at once: 5% 5xx, 10% failed copies, throttled, spikes, 2 concurrent (scale " + strconv.FormatFloat(scale, 'g', -1, 64) + ")", AFIs: 100, Regions: 8, Scale: scale, Latency: bench.DefaultLatency, Concurrent: 2, Spike: bench.Spike{Fraction: 0.05, Extra: time.Duration(float64(2*time.Second) / scale)}, Sim: ec2sim.Options{Throttle: true, ErrorRate: 0.05, FailRate: 0.1, Seed: 18}},
	}
}

// runClaims runs the fault-matrix rows of several plans and runs in one
// account (issue 12) whose names match: multi-plan, concurrent-throttled
// and prune-race.
func runClaims(ctx context.Context, w io.Writer, scale float64, latency time.Duration, match *regexp.Regexp) error {
	sc := strconv.FormatFloat(scale, 'g', -1, 64)
	var mrs []bench.MultiPlanResult
	for _, c := range MultiPlanRows(scale, latency) {
		if !match.MatchString(c.Name) {
			continue
		}
		r, err := bench.RunMultiPlan(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		fmt.Fprintf(os.Stderr, "%s done, step 1 in %.2fs\n", c.Name, r.Wall.Seconds())
		mrs = append(mrs, r)
	}
	if len(mrs) > 0 {
		fmt.Fprintln(w, "### Multi-plan")
		fmt.Fprintln(w)
		bench.WriteMultiPlanTable(w, mrs)
		fmt.Fprintln(w)
	}
	var crs []bench.ConcurrentResult
	for _, c := range ConcurrentRows(scale, latency) {
		name := "concurrent-throttled " + c.Name() + " (scale " + sc + ")"
		if !match.MatchString(name) {
			continue
		}
		r, err := bench.RunConcurrent(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(os.Stderr, "%s done in %.2fs (floor %.2fs)\n", name, r.Wall.Seconds(), r.Ideal.Seconds())
		crs = append(crs, r)
	}
	if len(crs) > 0 {
		fmt.Fprintln(w, "### Concurrent-throttled")
		fmt.Fprintln(w)
		bench.WriteConcurrentTable(w, crs)
		fmt.Fprintln(w)
	}
	var prs []bench.PruneRaceResult
	for _, c := range PruneRaceRows(scale, latency) {
		if !match.MatchString(c.Name) {
			continue
		}
		r, err := bench.RunPruneRace(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		fmt.Fprintf(os.Stderr, "%s done, prune in %.2fs\n", c.Name, r.Wall.Seconds())
		prs = append(prs, r)
	}
	if len(prs) > 0 {
		fmt.Fprintln(w, "### Prune race")
		fmt.Fprintln(w)
		bench.WritePruneRaceTable(w, prs)
		fmt.Fprintln(w)
	}
	return nil
}

// MultiPlanRows are the multi-plan rows: 3 plans sharing 50 AFIs, with 50
// of their own each, into 4 regions.
func MultiPlanRows(scale float64, latency time.Duration) []bench.MultiPlanCase {
	sc := strconv.FormatFloat(scale, 'g', -1, 64)
	return []bench.MultiPlanCase{
		{Name: "multi-plan: 3 plans × (50 shared + 50 own) × 4 regions (scale " + sc + ")", Plans: 3, Shared: 50, Own: 50, Regions: 4, Scale: scale, Latency: latency, Seed: 31},
	}
}

// ConcurrentRows are the concurrent-throttled rows: 4 and 16 syncs of
// their own plans at once; 4 × 100 × 2 and 16 × 25 × 2 ask the same 400
// copies a region of the account's buckets (the reproduction 3),
// 16 × 100 × 2 four times as many.
func ConcurrentRows(scale float64, latency time.Duration) []bench.ConcurrentCase {
	return []bench.ConcurrentCase{
		{Procs: 4, AFIs: 100, Regions: 2, Scale: scale, Latency: latency, Seed: 41},
		{Procs: 16, AFIs: 25, Regions: 2, Scale: scale, Latency: latency, Seed: 42},
		{Procs: 16, AFIs: 100, Regions: 2, Scale: scale, Latency: latency, Seed: 43},
	}
}

// PruneRaceRows are the prune-race rows: 50 AFIs × 4 regions dropped and
// pruned while one copy is made public before afisync reads it again,
// another just before its delete, and a third is claimed by another plan;
// without and with --prune-public.
func PruneRaceRows(scale float64, latency time.Duration) []bench.PruneRaceCase {
	sc := strconv.FormatFloat(scale, 'g', -1, 64)
	return []bench.PruneRaceCase{
		{Name: "prune-race: 50×4, sync --prune (scale " + sc + ")", AFIs: 50, Regions: 4, Scale: scale, Latency: latency, Seed: 51},
		{Name: "prune-race: 50×4, sync --prune --prune-public (scale " + sc + ")", AFIs: 50, Regions: 4, PrunePublic: true, Scale: scale, Latency: latency, Seed: 52},
	}
}

func parseSize(s string) (int, int, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "x")
	n, err1 := strconv.Atoi(a)
	r, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || r < 1 {
		return 0, 0, fmt.Errorf("size %q: want AFIsxRegions, such as 500x8", s)
	}
	return n, r, nil
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.Atoi(f[1])
			return fmt.Sprintf("%.1f GiB RAM", float64(kb)/(1<<20))
		}
	}
	return "memory unknown"
}
