// Package bench is afisync's measurement harness: it runs whole syncs of a
// generated plan (N source AFIs × R destination regions) through the real
// AWS SDK against an in-process ec2sim that enforces EC2's token buckets, and
// reports wall time against the throttle-bound ideal, API calls by action,
// throttled responses, failed targets and peak memory, next to a naive
// baseline written the way users script it today (docs/users.md §4).
//
// It also runs the fault matrix (random 5xx, throttling, latency spikes,
// transiently failing copies, an endpoint that stalls or dies mid-run,
// SIGKILL at random points, concurrent syncs of one plan) and checks the invariants afisync promises after each: every
// target converged, no duplicate live copy, no lost target. Its rows for
// several plans and runs in one account (RunMultiPlan, RunConcurrent,
// RunPruneRace) also check claims (every copy claimed by every plan that
// lists it), wrong deletions and flip-flop.
//
// Time is scaled: the simulator's refill rates (ec2sim.Options.ThrottleScale)
// and afisync's client-side pacing (afi.Config.RateScale) are multiplied by
// the same factor, and per-call latency is divided by it, so a run that would
// take minutes against AWS takes seconds and keeps the same shape. Wall times
// are reported in scaled seconds; multiply by the factor for AWS time.
//
// The small sizes run as ordinary tests (go test ./bench). The tests serve
// the simulator in-process (EnvOptions.InMemory) inside a testing/synctest
// bubble, so the simulator's latency and buckets, afisync's pacing and the
// SDK's backoff all run on the bubble's fake clock: their times and the
// simulator's call log (ec2sim.Options.CallLog) are the same on an idle
// laptop and on a loaded CI runner, and no test measures real time. The full
// run, on real time and real sockets, is
//
//	go run ./bench/cmd/afisync-bench
//
// and docs/performance.md records its figures.
package bench
