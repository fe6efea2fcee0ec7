package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// Lane is one account of a run over several accounts: the plan's account
// and the client that acts as it.
type Lane struct {
	// Name is the account's key under the plan's accounts: ("" for the
	// command's own credentials, which entries without account: use).
	Name string
	// Account is the plan's entry for it (zero for Name "").
	Account plan.Account
	// Client acts as the account; nil when Err is set.
	Client *afi.Client
	// Err says why the lane's client could not be set up (a profile that
	// does not exist, say): the lane's targets are skipped with it, and
	// the other lanes carry on.
	Err error
}

// RunAccounts syncs (or, with DryRun, diffs) plan p over several accounts
// at once, one lane each, and returns one report.
//
// Each lane first learns its identity (GetCallerIdentity, every lane at
// once) and checks it against the plan's id for it; then share_with names
// of plan accounts are resolved to their IDs (plan.ForAccount), and each
// lane runs its own share of the plan, every lane at once. A lane has its
// own client, so its own pacing per region and action, and its own
// inventory, claims and ClientTokens; each lane has Options.Concurrency
// slots of its own (an account's calls are bounded by its own EC2 buckets,
// so shared slots would only let one account slow the others down).
// Options.Timeout bounds the whole run, every lane included, and ctx stops
// every lane; FailFast stops the copies of the lane that failed, not the
// other lanes'. A lane whose account has no entries runs only to prune (with
// Options.Prune) and to check what others share with it.
//
// A lane that cannot start (Err, an identity that fails) has each of its
// targets skipped with the reason, and the report's Error names the
// account; the other lanes carry on. A lane whose credentials reach
// another account than the plan says (its id:, or its role ARN's) is a
// mistake in the plan or the profiles: then no lane runs, every target is
// skipped, and the error returned wraps afi.ErrInvalidConfig (the CLI's
// exit 3), before any change. Once the
// lanes are done, every available copy shared with an account of the plan
// is looked for with that account's own credentials (one describe per
// account and region): a copy it cannot see fails its target.
//
// A plan without accounts: run through one lane named "" is exactly Run.
// A saved plan over accounts uses Options.DecidedAccount and
// ExpectAccounts (Decided and Expect are for plans without accounts:):
// applying one, no account starts a change until every account's fresh
// diff has matched its saved decisions, and an account that cannot be
// checked (its credentials fail) stops them all.
func RunAccounts(ctx context.Context, lanes []Lane, p *plan.Plan, o Options) (*report.Report, error) {
	if len(p.Accounts) == 0 && len(lanes) == 1 && lanes[0].Name == "" && lanes[0].Err == nil {
		return Run(ctx, lanes[0].Client, p, o)
	}
	o.fill()
	if o.Decided != nil || o.Expect != nil {
		rep := &report.Report{Plan: p.Name, StartedAt: o.Clock.Now(), FinishedAt: o.Clock.Now(), DryRun: o.DryRun, Simulated: o.Simulated,
			Error: "Options.Decided and Options.Expect are for a plan without accounts: (use DecidedAccount and ExpectAccounts)"}
		rep.Finish()
		return rep, errors.New(rep.Error)
	}
	m := &multi{p: p, o: o, started: o.Clock.Now(), latest: map[string]Progress{}}
	return m.do(ctx, lanes)
}

// multi is one run over several accounts.
type multi struct {
	p       *plan.Plan
	o       Options
	started time.Time
	// stopped is set when the run was stopped (interrupted, deadline)
	// before any lane started.
	stopped bool

	progressMu sync.Mutex
	latest     map[string]Progress // each lane's last snapshot
}

// lane is one account's part of a multi run.
type lane struct {
	Lane
	id  string // the account ID STS reported
	err string // why the lane cannot run; "" when it can
	// wrongID is set when the lane's credentials reach another account
	// than the plan says (id:, or the role ARN's): a mistake in the plan
	// or the profiles, which stops the whole run before any change.
	wrongID bool
	sub     *plan.Plan
	rep     *report.Report
	results []*result
}

func (m *multi) do(parent context.Context, in []Lane) (*report.Report, error) {
	// ctx ends at the run's deadline: it bounds what is done outside the
	// lanes' own runs (identities, consumer checks).
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	stop := afterFunc(m.o.Clock, m.o.Timeout, func() { cancel(errDeadline) })
	defer stop()

	lanes, ids := identifyLanes(ctx, in)
	if ctx.Err() != nil {
		// Interrupted, or past the deadline, while the lanes learnt
		// their identities: an identity that failed for it is not the
		// credentials' fault, and no lane starts.
		m.stopped = true
		for _, ln := range lanes {
			if ln.Lane.Err == nil && ln.id == "" && !ln.wrongID {
				ln.err = "not started: " + m.stopMessage(ctx, parentInterrupted(ctx))
			}
		}
	}
	var wg sync.WaitGroup
	var wrong []string
	for _, ln := range lanes {
		if ln.wrongID {
			wrong = append(wrong, ln.Name)
		}
	}
	if len(wrong) > 0 {
		// The plan does not say what the credentials reach: change
		// nothing in any account (exit 3, like an invalid plan).
		for _, ln := range lanes {
			ln.sub = m.p.ForAccount(ln.Name, ids)
			if !ln.wrongID && ln.err == "" {
				ln.err = fmt.Sprintf("not started: the credentials of account %s reach another account than the plan says; nothing was changed", strings.Join(wrong, ", "))
			}
		}
		rep, _ := m.merge(ctx, lanes, ids)
		return rep, fmt.Errorf("%w: %s", afi.ErrInvalidConfig, rep.Error)
	}
	var running []*lane
	for _, ln := range lanes {
		ln.sub = m.p.ForAccount(ln.Name, ids)
		if ln.err == "" && ctx.Err() == nil && (len(ln.sub.AFIs) > 0 || m.o.Prune) {
			running = append(running, ln)
		}
	}
	var g *gate
	if m.o.ExpectAccounts != nil {
		for _, ln := range lanes {
			if ln.err != "" {
				// A saved plan is applied whole or not at all.
				running = nil
				for _, other := range lanes {
					if other.err == "" {
						other.err = fmt.Sprintf("not started: the saved plan cannot be checked in account %s; nothing was changed", accountLabel(ln.Name, ids[ln.Name]))
					}
				}
				break
			}
		}
		g = newGate(len(running))
	}
	for _, ln := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.runLane(parent, ln, g)
		}()
	}
	wg.Wait()
	if ctx.Err() == nil {
		m.checkConsumers(ctx, lanes)
	}
	return m.merge(ctx, lanes, ids)
}

// identifyLanes learns every lane's identity at once (identify), in name
// order, fails lanes whose credentials reach one account (sameAccount), and
// returns the lanes with the ID of each account that has one: the one STS
// reported, else the plan's.
func identifyLanes(ctx context.Context, in []Lane) ([]*lane, map[string]string) {
	lanes := make([]*lane, len(in))
	var wg sync.WaitGroup
	for i, l := range in {
		ln := &lane{Lane: l}
		lanes[i] = ln
		if l.Err != nil {
			ln.err = laneError(l.Err)
			continue
		}
		wg.Go(func() { ln.identify(ctx) })
	}
	wg.Wait()
	sort.Slice(lanes, func(i, j int) bool { return lanes[i].Name < lanes[j].Name })
	sameAccount(lanes)
	ids := map[string]string{}
	for _, ln := range lanes {
		switch {
		case ln.id != "":
			ids[ln.Name] = ln.id
		case ln.Account.ID != "":
			ids[ln.Name] = ln.Account.ID
		}
	}
	return lanes, ids
}

// identify learns the lane's account ID and checks it against the plan's.
func (ln *lane) identify(ctx context.Context) {
	id, err := ln.Client.Account(ctx)
	if err == nil {
		if err = afi.CheckAccountID(ln.Account, id); err != nil {
			ln.wrongID = true
		}
	}
	if err != nil {
		ln.err = laneError(err)
		return
	}
	ln.id = id
}

// laneError words why a lane cannot run, on one line, without the
// account's name (the report adds it).
func laneError(err error) string {
	var ae *afi.AccountError
	if errors.As(err, &ae) {
		err = ae.Err
	}
	msg := afi.Explain(err).Error()
	return strings.TrimPrefix(msg, afi.ErrInvalidConfig.Error()+": ")
}

// sameAccount fails every lane whose credentials reach the same account
// as another lane's: both runs would take the other's copies (same plan,
// same claims) for their own, and --prune would delete them.
func sameAccount(lanes []*lane) {
	by := map[string][]string{}
	for _, ln := range lanes {
		if ln.id != "" {
			by[ln.id] = append(by[ln.id], accountLabel(ln.Name, ln.id))
		}
	}
	for _, ln := range lanes {
		if names := by[ln.id]; ln.id != "" && len(names) > 1 {
			ln.err = fmt.Sprintf("the credentials of accounts %s all reach account %s: give each account of the plan its own (their runs would take each other's copies for their own, and --prune would delete them)",
				strings.Join(names, " and "), ln.id)
			ln.id = ""
		}
	}
}

// runLane runs the lane's share of the plan through its client, within
// what is left of the run's time.
func (m *multi) runLane(ctx context.Context, ln *lane, g *gate) {
	o := m.o
	o.spent = o.Clock.Now().Sub(m.started)
	if m.o.DecidedAccount != nil {
		o.Decided = func(account string, ds []reconcile.Decision) {
			m.progressMu.Lock()
			defer m.progressMu.Unlock()
			m.o.DecidedAccount(ln.Name, account, ds)
		}
	}
	if g != nil {
		o.Expect = m.o.ExpectAccounts[ln.Name]
		if o.Expect == nil {
			o.Expect = &Expectation{Account: "(none: the saved plan has no decisions for account " + ln.Name + ")"}
		}
		o.gate = func(stale error) error { return g.pass(ln.Name, stale) }
		defer g.leave(ln.Name)
	}
	o.Logger = o.Logger.With("account", accountLabel(ln.Name, ln.id))
	if m.o.Progress != nil {
		o.Progress = func(p Progress) { m.progress(ln.Name, p) }
	}
	r := &run{c: ln.Client, p: ln.sub, o: o, log: o.Logger, known: ln.id}
	ln.rep, _ = r.do(ctx)
	ln.results = r.results
}

// accountLabel names an account in logs and messages: its plan name, or
// its ID for the command's own credentials.
func accountLabel(name, id string) string {
	if name != "" {
		return name
	}
	if id != "" {
		return id
	}
	return "(the command's own credentials)"
}

// progress sends Options.Progress the sum of every lane's last snapshot.
func (m *multi) progress(name string, p Progress) {
	m.progressMu.Lock()
	defer m.progressMu.Unlock()
	m.latest[name] = p
	phases := map[string]int{PhaseInventory: 0, PhaseCopying: 1, PhaseWaiting: 2, PhaseDone: 3}
	sum := Progress{Phase: PhaseDone, Started: m.started}
	by := map[string]*RegionProgress{}
	for _, lp := range m.latest {
		if phases[lp.Phase] < phases[sum.Phase] {
			sum.Phase = lp.Phase
		}
		if lp.Now.After(sum.Now) {
			sum.Now = lp.Now
		}
		if lp.Deadline.After(sum.Deadline) {
			sum.Deadline = lp.Deadline
		}
		for _, rp := range lp.Regions {
			s := by[rp.Region]
			if s == nil {
				s = &RegionProgress{Region: rp.Region}
				by[rp.Region] = s
			}
			s.Pending += rp.Pending
			s.Available += rp.Available
			s.Failed += rp.Failed
			s.Other += rp.Other
		}
	}
	for _, rp := range by {
		sum.Regions = append(sum.Regions, *rp)
	}
	sort.Slice(sum.Regions, func(i, j int) bool { return sum.Regions[i].Region < sum.Regions[j].Region })
	m.o.Progress(sum)
}

// merge makes the run's one report out of the lanes' reports: each target
// names its account, a lane that could not run has its targets skipped, and
// the report's Error has one line per account that failed.
func (m *multi) merge(ctx context.Context, lanes []*lane, ids map[string]string) (*report.Report, error) {
	rep := &report.Report{Plan: m.p.Name, StartedAt: m.started, DryRun: m.o.DryRun, Simulated: m.o.Simulated}
	var errs []string
	var runErrs []error
	for _, ln := range lanes {
		id := ids[ln.Name]
		acct := report.Account{Name: ln.Name, ID: id}
		var targets []report.Target
		switch {
		case ln.err != "":
			acct.Error = ln.err
			targets = skippedTargets(ln.sub, "account "+accountLabel(ln.Name, id)+": "+ln.err)
		case ln.rep != nil:
			rep.Interrupted = rep.Interrupted || ln.rep.Interrupted
			// afi words a failure of the account's credentials during
			// the run as `account "NAME": …`; the report names it once.
			acct.Error = strings.TrimPrefix(ln.rep.Error, fmt.Sprintf("account %q: ", ln.Name))
			targets = ln.rep.Targets
			if len(targets) == 0 && ln.rep.Error != "" {
				targets = skippedTargets(ln.sub, "account "+accountLabel(ln.Name, id)+": "+acct.Error)
			}
			for _, q := range ln.rep.Quota {
				q.Account, q.AccountName = id, ln.Name
				rep.Quota = append(rep.Quota, q)
			}
			for _, w := range ln.rep.Warnings {
				rep.Warnings = append(rep.Warnings, "account "+accountLabel(ln.Name, id)+": "+w)
			}
		case ctx.Err() != nil:
			acct.Error = m.stopMessage(ctx, parentInterrupted(ctx))
			targets = skippedTargets(ln.sub, "account "+accountLabel(ln.Name, id)+": not started: "+acct.Error)
		}
		if acct.Error != "" {
			errs = append(errs, "account "+accountLabel(ln.Name, id)+": "+acct.Error)
			runErrs = append(runErrs, errors.New(acct.Error))
		}
		for _, t := range targets {
			t.Account, t.AccountName = id, ln.Name
			rep.Targets = append(rep.Targets, t)
		}
		rep.Accounts = append(rep.Accounts, acct)
	}
	if ctx.Err() != nil && parentInterrupted(ctx) {
		rep.Interrupted = true
	}
	if !m.stopped {
		rep.Warnings = append(rep.Warnings, unresolvedShares(m.p, ids)...)
	}
	rep.Error = strings.Join(errs, "\n")
	if len(lanes) == 1 {
		rep.Account = ids[lanes[0].Name]
	}
	rep.FinishedAt = m.o.Clock.Now()
	rep.Finish()
	if len(runErrs) == len(lanes) && len(runErrs) > 0 {
		return rep, errors.Join(runErrs...)
	}
	return rep, nil
}

// parentInterrupted reports whether ctx ended because the run was
// interrupted (its parent was cancelled) rather than by the deadline.
func parentInterrupted(ctx context.Context) bool {
	return !errors.Is(context.Cause(ctx), errDeadline)
}

// stopMessage says why a lane did not start.
func (m *multi) stopMessage(ctx context.Context, interrupted bool) string {
	if interrupted {
		return "interrupted"
	}
	return fmt.Sprintf("the run's --timeout of %s passed", m.o.Timeout)
}

// skippedTargets is every target of p, skipped with msg.
func skippedTargets(p *plan.Plan, msg string) []report.Target {
	var out []report.Target
	for _, t := range p.Targets() {
		rt := report.Target{SourceAFI: t.SourceAFI, SourceRegion: t.SourceRegion, Region: t.Region, Status: report.StatusSkipped, Message: msg}
		if t.Selector != nil {
			rt.Selector = t.Selector.String()
		}
		if t.Build != nil {
			rt.Build = t.Build.Input
		}
		out = append(out, rt)
	}
	return out
}

// unresolvedShares warns of share_with names whose account ID is not known
// (its lane failed before STS answered, and the plan gives no id): the
// copies were not shared with them.
func unresolvedShares(p *plan.Plan, ids map[string]string) []string {
	var names []string
	for _, e := range p.AFIs {
		for _, n := range e.ShareWithAccounts {
			if ids[n] == "" && !contains(names, n) {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		out = append(out, fmt.Sprintf("share_with %s: the account's ID is unknown (its credentials failed and the plan gives no id), so no copy was shared with it", n))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// gate holds the accounts of a saved plan being applied until each has
// checked its decisions (or ended without getting there), so that no
// account changes anything unless all of them still hold.
type gate struct {
	mu      sync.Mutex
	waiting int             // accounts yet to arrive
	arrived map[string]bool // by account name
	stale   []string        // accounts whose decisions no longer hold
	open    chan struct{}   // closed once every account has arrived
}

func newGate(n int) *gate {
	g := &gate{waiting: n, arrived: map[string]bool{}, open: make(chan struct{})}
	if n == 0 {
		close(g.open)
	}
	return g
}

// arrive records account name's arrival (ok: its decisions hold).
func (g *gate) arrive(name string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.arrived[name] {
		return
	}
	g.arrived[name] = true
	if !ok {
		g.stale = append(g.stale, name)
	}
	if g.waiting--; g.waiting == 0 {
		close(g.open)
	}
}

// pass is where account name's run waits, its own staleness known, for
// the others; it returns the error that run must stop with, if any.
func (g *gate) pass(name string, stale error) error {
	g.arrive(name, stale == nil)
	<-g.open
	if stale != nil {
		return stale
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.stale) > 0 {
		sort.Strings(g.stale)
		return fmt.Errorf("the saved plan is stale in account %s; nothing was changed", strings.Join(g.stale, ", "))
	}
	return nil
}

// leave records that account name's run ended; one that ended before
// checking its decisions (its inventory failed) counts as stale.
func (g *gate) leave(name string) { g.arrive(name, false) }

// PreviewPruneAccounts is PreviewPrune over a plan's accounts: a dry run
// of every account (RunAccounts; pruning as o.Prune says, retention rules
// always), and what its prune and expirations would do,
// each copy naming its account. An account that cannot run prunes nothing
// (the real run skips it too); its error is the report's.
func PreviewPruneAccounts(ctx context.Context, lanes []Lane, p *plan.Plan, o Options) (*PruneSet, error) {
	o.DryRun, o.Progress, o.Decided, o.DecidedAccount = true, nil, nil, nil
	rep, err := RunAccounts(ctx, lanes, p, o)
	if err != nil {
		return nil, err
	}
	return pruneSet(rep), nil
}
