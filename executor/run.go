package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// Run syncs (or, with DryRun, diffs) plan p through client c and returns the
// report, always: per-target problems are recorded in the report and never
// stop the other targets. When nothing can be planned at all (the caller's
// account cannot be learned, a listing fails, the run is stopped before the
// inventory is complete), the report has no targets, its Error says why,
// and Run returns that error as well.
//
// Options.Timeout bounds the whole run. When it passes, or ctx is
// cancelled, Run starts nothing new, gives the calls in flight
// Options.StopGrace to finish (a copy just made is still tagged), records
// every target's state and returns.
func Run(ctx context.Context, c *afi.Client, p *plan.Plan, o Options) (*report.Report, error) {
	o.fill()
	r := &run{c: c, p: p, o: o, log: o.Logger}
	return r.do(ctx)
}

type run struct {
	c *afi.Client
	p *plan.Plan
	o Options
	// known is the caller's account when RunAccounts has learnt it
	// already; "": ask STS.
	known string
	log   interface {
		Info(string, ...any)
		Debug(string, ...any)
		Warn(string, ...any)
	}

	started  time.Time
	deadline time.Time // started + Timeout, on o.Clock

	// parent is the caller's context: done means interrupted.
	parent context.Context
	// runCtx is the run's context: done when the deadline passes or the
	// run is interrupted; cancel ends it with a cause.
	runCtx context.Context
	cancel context.CancelCauseFunc
	// slots holds one token per call in flight: Options.Concurrency.
	slots chan struct{}
	// active counts what a sync with --wait still waits for: AFIs being
	// watched and steps running; steps counts the steps alone.
	active counter
	steps  sync.WaitGroup
	// digests holds sharing digests to write, per region (flushDigests).
	digestMu sync.Mutex
	digests  map[string][]update
	// busy counts copies being started and steps running: what a poller
	// on an InstantClock lets finish before it sleeps.
	busy counter
	// pollers follow pending AFIs, one per region (poll.go).
	pollMu  sync.Mutex
	pollers map[string]*poller
	pollCtx context.Context
	pollWG  sync.WaitGroup
	// fin carries calls that should finish after the run is stopped
	// (tagging a copy just made): it ends StopGrace after the run's
	// context does.
	fin context.Context

	mu      sync.Mutex
	results []*result
	// slow is what the run was waiting for when its deadline passed.
	slow []afi.InFlight
	// progressMu serialises calls to Options.Progress.
	progressMu sync.Mutex
	// headroom is each region's AFI quota (quota.go); refused names the
	// regions that get no copy.
	headroom []reconcile.Headroom
	refused  map[string]bool
	// sq holds the AFI quotas Service Quotas reported, by region.
	sq map[string]int
}

// result is the state of one target during a run.
type result struct {
	ch      reconcile.Change
	status  report.Status
	msg     string
	copyID  string
	agfi    string
	attempt int
	// failures counts this target's copies known to have failed: what
	// reconcile.NextAfterFailure bounds (attempt can be higher: tokens
	// whose copies were deleted are stepped over).
	failures int
	// usedUp lists copies a ClientToken must not lead back to: this
	// target's failed copies.
	usedUp []string
	// pending is set while a copy of this target is pending in AWS.
	pending bool
	// prune is set on results that stand for a copy to delete.
	prune *reconcile.Prune
}

// errDeadline is the cause of the run's context when Options.Timeout passes.
var errDeadline = errors.New("the run's deadline passed")

func (r *run) do(parent context.Context) (*report.Report, error) {
	r.parent = parent
	r.started = r.o.Clock.Now()
	r.deadline = r.started.Add(r.o.Timeout - r.o.spent)
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r.runCtx, r.cancel = ctx, cancel
	r.slots = make(chan struct{}, r.o.Concurrency)
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	r.pollCtx, r.pollers = pollCtx, map[string]*poller{}
	r.digests = map[string][]update{}
	stopDeadline := afterFunc(r.o.Clock, r.o.Timeout-r.o.spent, func() { cancel(errDeadline) })
	defer stopDeadline()
	stopWatch := context.AfterFunc(ctx, func() {
		if parent.Err() == nil {
			r.mu.Lock()
			r.slow = r.c.InFlight()
			r.mu.Unlock()
		}
	})
	defer stopWatch()
	fin, finCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer finCancel()
	stopGrace := context.AfterFunc(ctx, func() {
		stop := afterFunc(r.o.Clock, r.o.StopGrace, finCancel)
		context.AfterFunc(fin, func() { stop() })
	})
	defer stopGrace()
	r.fin = fin

	rep := &report.Report{Plan: r.p.Name, StartedAt: r.started, DryRun: r.o.DryRun, Simulated: r.o.Simulated}
	err := r.plan(ctx, rep)
	if err == nil {
		r.progress(PhaseInventory)
		if !r.o.DryRun {
			us, ps := r.updates(), r.prunes()
			first, later := r.roomFirst(ps)
			r.pruneAll(ctx, first)
			r.recheckRoom(first)
			r.copyAll(ctx)
			r.updateAll(ctx, us)
			r.pruneAll(ctx, later)
			r.settle(ctx)
			stopPolling()
			r.pollWG.Wait()
		}
	}
	stop := r.stopReason(ctx)
	if parent.Err() != nil {
		rep.Interrupted = true
	}
	if stop != "" && err == nil {
		r.settleStopped(stop)
	}
	switch {
	case r.expired(ctx):
		rep.Error = r.deadlineMessage()
		if err != nil {
			err = errors.New(rep.Error)
		}
	case err != nil:
		err = afi.Explain(err)
		rep.Error = err.Error()
		if stop != "" {
			rep.Error = "interrupted before the inventory was complete"
			err = errors.New(rep.Error)
		}
	}
	for _, res := range r.results {
		rep.Targets = append(rep.Targets, res.target())
	}
	rep.Quota = r.quotaReport()
	rep.FinishedAt = r.o.Clock.Now()
	rep.Finish()
	r.progress(PhaseDone)
	return rep, err
}

// settle waits, with --wait, until every target has settled, or the run
// stops; then for the steps still running (calls in flight get StopGrace).
func (r *run) settle(ctx context.Context) {
	if r.o.Wait {
		select {
		case <-r.active.zero():
		case <-ctx.Done():
		}
	}
	r.steps.Wait()
	r.flushDigests(ctx, "")
}

// counter is a WaitGroup that can be waited for in a select.
type counter struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n is 0
}

// Add adds d to the count.
func (c *counter) Add(d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle == nil {
		c.idle = make(chan struct{})
		close(c.idle)
	}
	if c.n == 0 && d > 0 {
		c.idle = make(chan struct{})
	}
	c.n += d
	if c.n == 0 {
		close(c.idle)
	}
}

// Done subtracts one.
func (c *counter) Done() { c.Add(-1) }

// zero returns a channel that is closed once the count is 0.
func (c *counter) zero() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle == nil {
		c.idle = make(chan struct{})
		close(c.idle)
	}
	return c.idle
}

// plan takes the inventory and asks reconcile.Diff what each target needs,
// filling r.results.
func (r *run) plan(ctx context.Context, rep *report.Report) error {
	account := r.known
	if account == "" {
		var err error
		if account, err = r.c.Account(ctx); err != nil {
			return err
		}
	}
	rep.Account = account
	targets := r.p.Targets()
	inv, err := r.inventory(ctx, account, targets)
	if err != nil {
		return err
	}
	dopt := reconcile.DiffOptions{Retries: r.o.Retries, PlanName: r.p.Name, Prune: r.o.Prune, Refresh: r.o.Refresh, Now: r.o.Clock.Now()}
	d := reconcile.Diff(targets, inv, dopt)
	permErrs := map[string]string{}
	if len(d.NeedPermissions) > 0 {
		// Sharing needs the copies' load permissions: look them up and
		// plan again.
		permErrs = r.loadPermissions(ctx, inv, d.NeedPermissions)
		d = reconcile.Diff(targets, inv, dopt)
	}
	r.serviceQuotas(ctx, d)
	r.quota(inv, d)
	rep.Warnings = d.Warnings
	if r.o.Decided != nil || r.o.Expect != nil {
		ds := reconcile.Decisions(d)
		if r.o.Decided != nil {
			r.o.Decided(account, ds)
		}
		if r.o.Expect != nil {
			var stale error
			if diffs := reconcile.Stale(r.o.Expect.Decisions, ds); len(diffs) > 0 || r.o.Expect.Account != account {
				stale = &StaleError{Account: r.o.Expect.Account, Now: account, Diffs: diffs}
			}
			if r.o.gate != nil {
				// A saved plan over several accounts: every account's
				// decisions must hold before any account changes anything.
				stale = r.o.gate(stale)
			}
			if stale != nil {
				return stale
			}
		}
	}
	for _, ch := range d.Changes {
		res := r.initial(ch)
		if ch.Copy != nil {
			if msg, ok := permErrs[plan.SourceKey(ch.Copy.Region, ch.Copy.ID)]; ok {
				res.status, res.msg, res.ch.Action = report.StatusFailed, msg, reconcile.ActionFail
			}
		}
		r.results = append(r.results, res)
	}
	for i := range d.Prunes {
		r.results = append(r.results, r.initialPrune(&d.Prunes[i]))
	}
	return nil
}

// expired reports whether the run's deadline has passed, on the run's clock
// or (for a stalled call) in wall time.
func (r *run) expired(ctx context.Context) bool {
	if r.parent.Err() != nil {
		return false // interrupted first
	}
	return !r.o.Clock.Now().Before(r.deadline) || errors.Is(context.Cause(ctx), errDeadline)
}

// stopReason says why the run stopped early: "" when it did not.
func (r *run) stopReason(ctx context.Context) string {
	switch {
	case r.parent.Err() != nil:
		return "interrupted"
	case r.expired(ctx):
		return fmt.Sprintf("the run's --timeout of %s passed", r.o.Timeout)
	}
	return ""
}

// deadlineMessage says that the deadline passed and what the run was
// waiting for at that moment.
func (r *run) deadlineMessage() string {
	msg := fmt.Sprintf("the run's --timeout of %s passed", r.o.Timeout)
	r.mu.Lock()
	slow := r.slow
	r.mu.Unlock()
	if len(slow) == 0 {
		if f := r.c.LastFailure(); f != nil {
			msg += fmt.Sprintf("; the last failed call was %s in %s at %s: %v", f.Action, f.Region, f.Endpoint, afi.Explain(f.Err))
		}
		return msg
	}
	s := slow[0]
	msg += fmt.Sprintf(" while waiting for %s in %s at %s (no answer for %s)",
		s.Action, s.Region, s.Endpoint, time.Since(s.Since).Round(100*time.Millisecond))
	if len(slow) > 1 {
		msg += fmt.Sprintf(" and %d other calls", len(slow)-1)
	}
	return msg
}

// settleStopped records, for a run stopped early, what became of each target
// whose work was cut short.
func (r *run) settleStopped(why string) {
	status := report.StatusTimedOut
	if why == "interrupted" {
		status = report.StatusFailed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range r.results {
		switch {
		case res.status == report.StatusWouldCopy && (res.ch.Action == reconcile.ActionCopy || res.ch.Action == reconcile.ActionRetry) && !r.o.DryRun:
			res.status, res.msg = status, "not started: "+why
		case res.pending && status == report.StatusTimedOut:
			res.status, res.pending = status, false
			res.msg = fmt.Sprintf("copy %s still pending after %s", res.copyID, r.o.Timeout)
		case res.pending:
			res.msg = "interrupted while waiting; the copy goes on in AWS"
		case res.ch.Target.Build != nil:
			r.settleStoppedBuild(res, status, why)
		}
	}
}

// inventory lists every region involved with one paginated walk each, all
// regions at once, and describes the explicit sources that the caller does
// not own (or that do not exist) in their source regions.
func (r *run) inventory(ctx context.Context, account string, targets []plan.Target) (*reconcile.Inventory, error) {
	regions := map[string]bool{}
	for _, t := range targets {
		regions[t.SourceRegion] = true
		regions[t.Region] = true
	}
	// With --prune, copies may sit in regions the plan no longer names:
	// walk every region the account has enabled.
	extra := map[string]bool{}
	if r.o.Prune {
		all, err := r.c.Regions(ctx)
		if err != nil {
			return nil, err
		}
		for _, region := range all {
			if !regions[region] {
				regions[region], extra[region] = true, true
			}
		}
	}
	inv := &reconcile.Inventory{Account: account, Owned: map[string][]reconcile.Image{}, Foreign: map[string]reconcile.SourceInfo{},
		LoadPermissions: map[string]*reconcile.LoadPermissions{}, Unlisted: map[string]string{}}
	var mu sync.Mutex
	var g errgroup.Group
	for region := range regions {
		g.Go(func() error {
			ims, err := r.c.ListOwned(ctx, region)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				inv.Owned[region] = ims
			case extra[region]:
				// Only pruning looks here: a region without FPGA support
				// (InvalidAction) holds no AFIs, and one that cannot be
				// listed is left alone.
				if afi.ErrorCode(err) != "InvalidAction" {
					r.log.Warn("not pruning in a region that could not be listed", "region", region, "err", apiMessage(err))
				}
			default:
				// The targets that need this region fail; the others go on.
				inv.Unlisted[region] = apiMessage(err)
			}
			return nil
		})
	}
	_ = g.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.log.Info("inventory", "regions", len(regions), "afis", countImages(inv.Owned))
	if err := r.describeForeign(ctx, inv, targets); err != nil {
		return nil, err
	}
	return inv, nil
}

// describeForeign describes the explicit sources the caller does not own
// (in batches, per source region) to tell "shared or public" from
// "missing", into inv.Foreign.
func (r *run) describeForeign(ctx context.Context, inv *reconcile.Inventory, targets []plan.Target) error {
	owned := map[string]bool{}
	for region, ims := range inv.Owned {
		for _, im := range ims {
			owned[plan.SourceKey(region, im.ID)] = true
		}
	}
	foreign := map[string][]string{}
	for _, t := range targets {
		k := plan.SourceKey(t.SourceRegion, t.SourceAFI)
		if _, down := inv.Unlisted[t.SourceRegion]; down {
			continue // its targets fail with the listing error
		}
		if t.Selector == nil && t.Build == nil && !owned[k] && !slices.Contains(foreign[t.SourceRegion], t.SourceAFI) {
			foreign[t.SourceRegion] = append(foreign[t.SourceRegion], t.SourceAFI)
		}
	}
	var mu sync.Mutex
	var g errgroup.Group
	for region, ids := range foreign {
		g.Go(func() error {
			found, missing, err := r.c.Describe(ctx, region, ids)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// These sources' targets are skipped with AWS's words;
				// every other target goes on.
				for _, id := range ids {
					inv.Foreign[plan.SourceKey(region, id)] = reconcile.SourceInfo{Err: r.callMessage(err)}
				}
				return nil
			}
			for i := range found {
				inv.Foreign[plan.SourceKey(region, found[i].ID)] = reconcile.SourceInfo{Image: &found[i]}
			}
			for _, id := range missing {
				inv.Foreign[plan.SourceKey(region, id)] = reconcile.SourceInfo{}
			}
			return nil
		})
	}
	return g.Wait()
}

func countImages(m map[string][]reconcile.Image) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

// initial turns a planned change into the target's starting result; for a
// dry run that is also its final one.
func (r *run) initial(ch reconcile.Change) *result {
	res := &result{ch: ch, attempt: ch.Attempt, msg: ch.Reason, failures: len(ch.Failed), usedUp: ch.Failed}
	if ch.Source != nil {
		res.agfi = ch.Source.AGFI
	}
	if ch.Copy != nil {
		res.copyID = ch.Copy.ID
	}
	res.status = PlannedStatus(ch.Action)
	if ch.Action == reconcile.ActionAwaitSource && ch.Target.Build != nil {
		res.status = report.StatusBuilding // a sync awaits it (awaitBuild)
	}
	res.pending = ch.Action == reconcile.ActionWait
	switch ch.Action {
	case reconcile.ActionNone:
		res.msg = ""
		if ch.Copy != nil && ch.Copy.Tags[plan.TagSource] == "" {
			res.msg = "found by AGFI; not tagged by afisync"
		}
		if len(ch.Kept) > 0 {
			res.msg = strings.Join(ch.Kept, "; ")
		}
	case reconcile.ActionCopy, reconcile.ActionRetry:
		if ch.Action == reconcile.ActionCopy {
			res.msg = ""
		} else {
			res.msg = "retry: " + ch.Reason
		}
		if !r.o.DryRun {
			res.copyID = ""
		}
	}
	return res
}

// PlannedStatus is the status a target has once the diff decided action
// for it: its final status in a dry run (diff).
func PlannedStatus(a reconcile.Action) report.Status {
	switch a {
	case reconcile.ActionNone:
		return report.StatusInSync
	case reconcile.ActionWait:
		return report.StatusCopying
	case reconcile.ActionSkip:
		return report.StatusSkipped
	case reconcile.ActionFail:
		return report.StatusFailed
	case reconcile.ActionUpdate:
		return report.StatusWouldUpdate
	case reconcile.ActionAdopt:
		return report.StatusWouldAdopt
	case reconcile.ActionCopy, reconcile.ActionRetry:
		return report.StatusWouldCopy
	case reconcile.ActionBuild:
		return report.StatusWouldBuild
	case reconcile.ActionAwaitSource:
		return report.StatusWaiting
	case reconcile.ActionPrune:
		return report.StatusWouldPrune
	case reconcile.ActionRelease:
		return report.StatusWouldRelease
	case reconcile.ActionExpire:
		return report.StatusWouldExpire
	}
	return ""
}

// failStatus is the status of a target whose call failed: timed-out when
// the run's deadline cut it short, else failed.
func (r *run) failStatus() report.Status {
	if r.parent.Err() == nil && r.fin.Err() != nil {
		return report.StatusTimedOut
	}
	return report.StatusFailed
}

// callMessage words a failed call for the report: AWS's code and message,
// or, for a call cut short by a stop, why.
func (r *run) callMessage(err error) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		why := "interrupted"
		if r.parent.Err() == nil {
			why = fmt.Sprintf("the run's --timeout of %s passed", r.o.Timeout)
		}
		return "call cut short: " + why + "; a rerun repeats it safely"
	}
	return apiMessage(err)
}

func (r *run) set(res *result, s report.Status, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.status, res.msg, res.pending = s, msg, false
}

func (res *result) target() report.Target {
	t := res.ch.Target
	rt := report.Target{
		SourceAFI:    t.SourceAFI,
		SourceRegion: t.SourceRegion,
		AGFI:         res.agfi,
		Region:       t.Region,
		CopyAFI:      res.copyID,
		Status:       res.status,
		Message:      res.msg,
		Attempts:     res.attempt,
	}
	if res.ch.Selector != nil {
		rt.Selector = res.ch.Selector.String()
	}
	if t.Build != nil {
		rt.Build = t.Build.Input
	}
	return rt
}

// apiMessage shortens an SDK error to what a person needs: the AWS error
// code and message when there is one.
func apiMessage(err error) string {
	var ae interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
