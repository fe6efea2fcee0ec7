// Package executor runs an afisync plan against AWS: it takes the inventory,
// asks reconcile.Diff what each target needs, runs the copies with bounded
// concurrency (errgroup) and deterministic ClientTokens, tags each copy right
// after it is made, optionally waits for the copies to settle, and records
// one result per target in a report.
package executor

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// Defaults. Every default of a setting lives here; the CLI shows these in
// its help and the README documents them.
const (
	// DefaultConcurrency bounds calls in flight, not the API rate (the
	// pacer in afi does that). It must cover regions × 5 copies/s × the
	// time one copy and its tagging take: 16 starved a 16-region sync at
	// 100 ms a call (1.21× the throttle-bound ideal, docs/performance.md);
	// 64 leaves room for 16 regions at 400 ms or 32 at 200 ms.
	DefaultConcurrency = 64
	DefaultRetries     = 3
	DefaultTimeout     = 2 * time.Hour
	// DefaultPollInterval is the pause between a region's rounds of --wait
	// polling (±20% jitter): a copy or source that settles is seen within
	// about 6 s, for 1% of the region's DescribeFpgaImages bucket. A round
	// of more than one call (over 200 pending AFIs in the region) waits
	// longer, so that polling never spends more than 5% of the bucket.
	DefaultPollInterval = 5 * time.Second
	// DefaultStopGrace is how long calls already in flight may go on
	// after a run is interrupted or its deadline passes, so that a copy
	// just made is still tagged; then they are cancelled and the report
	// is written.
	DefaultStopGrace = 5 * time.Second
	// tagTimeout bounds the CreateTags call that follows a copy.
	tagTimeout = 2 * time.Minute
)

// Options control one run.
type Options struct {
	Concurrency int           // copies in flight at once
	Retries     int           // new attempts after transient copy failures
	Timeout     time.Duration // wall-clock deadline for the whole run
	Wait        bool          // wait for copies to become available
	DryRun      bool          // stop before the first mutating call
	FailFast    bool          // cancel everything on the first failure
	Prune       bool          // delete this plan's copies that the plan no longer lists
	PrunePublic bool          // with Prune, also delete public copies
	Refresh     bool          // read every shared copy's load permissions, trusting no sharing digest
	// AFILimit is the AFIs the account may hold per region, from
	// --afi-limit: it overrides the plan's settings.quota; 0: not given.
	AFILimit int
	// NoServiceQuotas skips the Service Quotas lookup of the AFI quota
	// (the run then uses the plan's limit or the default).
	NoServiceQuotas bool

	// RateScale multiplies the EC2 request rates polling budgets for (0:
	// 1): benchmarks that run the simulator's buckets faster than real
	// time scale it, like afi.Config.RateScale.
	RateScale float64
	// StopGrace is how long calls in flight may go on after an interrupt
	// or the deadline (0: DefaultStopGrace).
	StopGrace time.Duration
	// PollInterval is the pause between a region's polling rounds
	// (0: DefaultPollInterval).
	PollInterval time.Duration
	// Clock tells time and sleeps; nil: real time.
	Clock Clock
	// Logger receives progress; nil: discard.
	Logger *slog.Logger
	// Simulated marks the report as made against the simulator.
	Simulated bool
	// PruneOnly, if set, limits Prune to the copies it allows (by region
	// and copy ID): those a person confirmed (PruneSet.Allows). The others
	// are reported would-prune and left in place.
	PruneOnly func(region, copyID string) bool
	// Decided, if set, receives the run's decisions and the account once
	// the diff is made (afisync diff --out saves them).
	Decided func(account string, ds []reconcile.Decision)
	// Expect, if set, makes the run apply a saved plan: unless the fresh
	// diff makes exactly these decisions in this account, the run stops
	// before any mutating call with a *StaleError.
	Expect *Expectation
	// Progress, if set, receives a snapshot of the run whenever it changes.
	// It is called from the run's goroutines, one call at a time, and must
	// return quickly.
	Progress func(Progress)

	// DecidedAccount is Decided for a plan with accounts: (RunAccounts):
	// it receives each account's decisions, by the account's name and ID,
	// one call at a time.
	DecidedAccount func(name, account string, ds []reconcile.Decision)
	// ExpectAccounts is Expect for a plan with accounts: (RunAccounts),
	// by account name: unless every account's fresh diff makes exactly
	// its decisions, no account makes a mutating call.
	ExpectAccounts map[string]*Expectation

	// spent is the part of Timeout already used before Run started: the
	// identities of a run over several accounts (RunAccounts).
	spent time.Duration
	// gate, when set, is called by a run applying a saved plan (Expect)
	// once it knows whether its decisions still hold (stale: nil when
	// they do), and returns the error the run must stop with, if any:
	// RunAccounts holds every account there until all have checked.
	gate func(stale error) error
}

// Expectation is what a saved plan expects a run to decide.
type Expectation struct {
	Account   string
	Decisions []reconcile.Decision
}

// StaleError says why a saved plan no longer holds: what changed since it
// was made, target by target.
type StaleError struct {
	Account, Now string // the account it was made in, and the current one
	Diffs        []string
}

func (e *StaleError) Error() string {
	var b strings.Builder
	b.WriteString("the saved plan is stale; nothing was changed")
	if e.Account != e.Now {
		fmt.Fprintf(&b, "; it was made in account %s, not %s", e.Account, e.Now)
	}
	for i, d := range e.Diffs {
		if i == 20 {
			fmt.Fprintf(&b, "; and %d more", len(e.Diffs)-i)
			break
		}
		b.WriteString("; " + d)
	}
	return b.String()
}

// Overrides are settings given on the command line; nil means "not given".
type Overrides struct {
	Concurrency *int
	Retries     *int
	Timeout     *time.Duration
	AFILimit    *int
}

// Resolve fills the settings of o from, in order of precedence, the command
// line (ov), the plan's settings block, and the package defaults.
func Resolve(p *plan.Plan, ov Overrides, o Options) Options {
	o.Concurrency = pick(ov.Concurrency, p.Settings.Concurrency, DefaultConcurrency)
	o.Retries = DefaultRetries
	if p.Settings.RetriesSet {
		o.Retries = p.Settings.Retries
	}
	if ov.Retries != nil {
		o.Retries = *ov.Retries
	}
	o.Timeout = pick(ov.Timeout, p.Settings.Timeout, DefaultTimeout)
	if ov.AFILimit != nil {
		o.AFILimit = *ov.AFILimit
	}
	return o
}

func pick[T comparable](flag *T, fromPlan, def T) T {
	var zero T
	switch {
	case flag != nil:
		return *flag
	case fromPlan != zero:
		return fromPlan
	}
	return def
}

func (o *Options) fill() {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.RateScale <= 0 {
		o.RateScale = 1
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Clock tells time and sleeps. Tests inject one that advances a simulated
// clock instead of sleeping.
type Clock interface {
	Now() time.Time
	// Sleep pauses for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// An AfterFuncClock runs f once d has passed on its own time, and returns a
// function that stops that from happening. The run's deadline (Timeout) and
// its grace after a stop (StopGrace) use it when the Clock has it, and wall
// time otherwise; RealClock has it.
type AfterFuncClock interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// An InstantClock is a simulated clock whose Sleep returns at once, having
// moved simulated time on. Work in flight takes no simulated time on it, so
// before a poller sleeps on one, the run lets every copy and step already
// started finish, as they would well within a real polling interval;
// otherwise pollers would race simulated time past copies still being
// started. Tests and benchmarks use one; RealClock is not one.
type InstantClock interface {
	Clock
	Instant()
}

// afterFunc runs f after d on c's time when c can, else on wall time.
func afterFunc(c Clock, d time.Duration, f func()) (stop func() bool) {
	if ac, ok := c.(AfterFuncClock); ok {
		return ac.AfterFunc(d, f)
	}
	return time.AfterFunc(d, f).Stop
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc runs f in its own goroutine after d (time.AfterFunc).
func (RealClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	return time.AfterFunc(d, f).Stop
}

// Sleep waits for d or ctx.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
