package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
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
	c   *afi.Client
	p   *plan.Plan
	o   Options
	log interface {
		Info(string, ...any)
		Debug(string, ...any)
		Warn(string, ...any)
	}

	started  time.Time
	deadline time.Time // started + Timeout, on o.Clock

	// parent is the caller's context: done means interrupted.
	parent context.Context
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
	r.deadline = r.started.Add(r.o.Timeout)
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	stopDeadline := afterFunc(r.o.Clock, r.o.Timeout, func() { cancel(errDeadline) })
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
			r.copyAll(ctx)
			r.updateAll(ctx)
			r.pruneAll(ctx)
			if r.o.Wait {
				r.wait(ctx)
			}
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
	rep.FinishedAt = r.o.Clock.Now()
	rep.Finish()
	r.progress(PhaseDone)
	return rep, err
}

// plan takes the inventory and asks reconcile.Diff what each target needs,
// filling r.results.
func (r *run) plan(ctx context.Context, rep *report.Report) error {
	account, err := r.c.Account(ctx)
	if err != nil {
		return err
	}
	rep.Account = account
	targets := r.p.Targets()
	inv, err := r.inventory(ctx, account, targets)
	if err != nil {
		return err
	}
	dopt := reconcile.DiffOptions{Retries: r.o.Retries, PlanName: r.p.Name, Prune: r.o.Prune}
	d := reconcile.Diff(targets, inv, dopt)
	permErrs := map[string]string{}
	if len(d.NeedPermissions) > 0 {
		// Sharing needs the copies' load permissions: look them up and
		// plan again.
		permErrs = r.loadPermissions(ctx, inv, d.NeedPermissions)
		d = reconcile.Diff(targets, inv, dopt)
	}
	rep.Warnings = d.Warnings
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
		if t.Selector == nil && !owned[k] && !slices.Contains(foreign[t.SourceRegion], t.SourceAFI) {
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
	switch ch.Action {
	case reconcile.ActionNone:
		res.status, res.msg = report.StatusInSync, ""
		if ch.Copy != nil && ch.Copy.Tags[plan.TagSource] == "" {
			res.msg = "found by AGFI; not tagged by afisync"
		}
		if len(ch.Kept) > 0 {
			res.msg = strings.Join(ch.Kept, "; ")
		}
	case reconcile.ActionWait:
		res.status, res.pending = report.StatusCopying, true
	case reconcile.ActionSkip:
		res.status = report.StatusSkipped
	case reconcile.ActionFail:
		res.status = report.StatusFailed
	case reconcile.ActionUpdate:
		res.status = report.StatusWouldUpdate
	case reconcile.ActionAdopt:
		res.status = report.StatusWouldAdopt
	case reconcile.ActionCopy, reconcile.ActionRetry:
		res.status = report.StatusWouldCopy
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

// copyAll starts every copy the diff asked for, at most Concurrency at once.
func (r *run) copyAll(ctx context.Context) {
	// Start copies round-robin over destination regions: each region has
	// its own EC2 buckets, and a selector's targets come region by region,
	// which would fill every slot with one region's paced copies while the
	// other regions' buckets sat full (docs/performance.md).
	queues := map[string][]*result{}
	var regions []string
	for _, res := range r.results {
		if res.ch.Action == reconcile.ActionCopy || res.ch.Action == reconcile.ActionRetry {
			rg := res.ch.Target.Region
			if _, ok := queues[rg]; !ok {
				regions = append(regions, rg)
			}
			queues[rg] = append(queues[rg], res)
		}
	}
	var todo []*result
	for i, more := 0, true; more; i++ {
		more = false
		for _, rg := range regions {
			if i < len(queues[rg]) {
				todo, more = append(todo, queues[rg][i]), true
			}
		}
	}
	if len(todo) == 0 {
		return
	}
	r.log.Info("copying", "targets", len(todo), "concurrency", r.o.Concurrency)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Concurrency)
	for _, res := range todo {
		if r.notStarted(ctx, gctx, res) {
			continue
		}
		g.Go(func() error {
			if r.notStarted(ctx, gctx, res) {
				return nil
			}
			err := r.copyOne(gctx, res)
			r.progress(PhaseCopying)
			if err != nil && r.o.FailFast {
				return err
			}
			return nil
		})
	}
	_ = g.Wait()
}

// notStarted reports whether a copy should not start: the run was stopped
// (the copy is settled with the others when the run ends), its deadline
// passed on the run's clock, or an earlier target failed under --fail-fast.
func (r *run) notStarted(ctx, gctx context.Context, res *result) bool {
	switch {
	case ctx.Err() != nil || r.expired(ctx):
		return true
	case gctx.Err() != nil:
		r.set(res, report.StatusFailed, "not started: an earlier target failed and --fail-fast is set")
		return true
	}
	return false
}

// maxUsedUpTokens bounds how many used-up ClientTokens copyOne steps over
// in one run: tokens whose copy was deleted since (by --prune or by hand),
// whose copy failed, or that were used with other parameters. Each costs a
// CopyFpgaImage call; a rerun goes on from where this one stopped.
const maxUsedUpTokens = 100

// mismatchWait is how long copyOne waits, after IdempotentParameterMismatch,
// for the run that used the token to tag its copy.
const mismatchWait = 10 * time.Second

// copyOne makes one copy and tags it. Once started, the copy call and the
// tagging may finish after the run is stopped, within Options.StopGrace, so
// that a copy just made is tagged; a call cut short is safe, as a rerun
// repeats it with the same ClientToken and gets the same copy back.
//
// The CopyFpgaImage request carries only the source, the destination and
// the ClientToken, never a name or description: every plan, run and edit
// then sends the same request for a given attempt, so a token cannot be
// turned against its own target (IdempotentParameterMismatch). The copy's
// name and description are converged once it is available. The argument
// for "no duplicates, no jam" is docs/copies.md.
func (r *run) copyOne(ctx context.Context, res *result) error {
	t := res.ch.Target
	tags := reconcile.DesiredTags(t, res.ch.Source, r.p.Name)
	for used := 0; ; used++ {
		if used == maxUsedUpTokens {
			err := fmt.Errorf("stepped over %d used-up ClientTokens (copies deleted since, failed, or made with other parameters); a rerun goes on from attempt %d", used, res.attempt)
			r.set(res, report.StatusFailed, err.Error())
			return err
		}
		token := reconcile.ClientToken(t.SourceRegion, t.SourceAFI, t.Region, res.attempt)
		id, err := r.c.Copy(r.fin, afi.CopyInput{
			SourceRegion: t.SourceRegion,
			SourceAFI:    t.SourceAFI,
			Region:       t.Region,
			ClientToken:  token,
		})
		if afi.ErrorCode(err) == "IdempotentParameterMismatch" {
			// The token was used with other parameters: by an afisync
			// that still named copies in the copy call, or another tool.
			// If that copy is live, it is this target's: claim it.
			if found, ferr := r.claimInFlight(ctx, res, tags); found || ferr != nil {
				return ferr
			}
			r.log.Info("ClientToken used with other parameters; trying the next attempt", "attempt", res.attempt)
			res.attempt++
			continue
		}
		if err != nil {
			r.set(res, r.failStatus(), r.callMessage(err))
			return err
		}
		if slices.Contains(res.usedUp, id) {
			// This attempt's copy failed before: the next one makes a
			// new copy.
			res.attempt++
			continue
		}
		r.log.Debug("copy started", "source", plan.SourceKey(t.SourceRegion, t.SourceAFI), "region", t.Region, "copy", id, "attempt", res.attempt)
		tctx, cancel := context.WithTimeout(r.fin, tagTimeout)
		terr := r.c.CreateTags(tctx, t.Region, []string{id}, tags)
		cancel()
		if afi.ErrorCode(terr) == "InvalidFpgaImageID.NotFound" {
			// EC2 remembered this attempt's token, but the copy it made
			// was deleted since (by hand, or by --prune): the next
			// attempt's token makes a new copy.
			r.log.Info("copy for this token was deleted; trying the next attempt", "copy", id, "attempt", res.attempt)
			res.attempt++
			continue
		}
		r.copyStarted(res, id, terr)
		return terr
	}
}

// copyStarted records a copy just made (and tagged, unless terr).
func (r *run) copyStarted(res *result, id string, terr error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.copyID, res.pending = id, true
	res.status, res.msg = report.StatusCopying, ""
	if res.ch.Action == reconcile.ActionRetry {
		res.msg = "retry: " + res.ch.Reason
		if !r.o.Wait {
			// Without --wait the run does not see this attempt end: the
			// failure it found is the target's state.
			res.status, res.pending = report.StatusFailed, false
			res.msg = fmt.Sprintf("%s; attempt %d started as %s (a rerun, or --wait, follows it)", res.ch.Reason, res.attempt, id)
		}
	}
	if terr != nil {
		res.status, res.pending = report.StatusFailed, false
		res.msg = "copy " + id + " started but not tagged (a rerun tags it): " + apiMessage(terr)
	}
}

// claimInFlight looks, after a short wait, for a live copy of res's target
// that another run is making, and claims it. found is false when there is
// none: the token's copy is gone, and the next attempt may copy.
func (r *run) claimInFlight(ctx context.Context, res *result, tags map[string]string) (found bool, err error) {
	t := res.ch.Target
	if err := r.o.Clock.Sleep(ctx, mismatchWait); err != nil {
		r.set(res, r.failStatus(), r.callMessage(err))
		return false, err
	}
	ims, err := r.c.ListBySource(ctx, t.Region, plan.SourceKey(t.SourceRegion, t.SourceAFI))
	if err != nil {
		r.set(res, report.StatusFailed, r.callMessage(err))
		return false, err
	}
	for _, im := range ims {
		if im.State != reconcile.StatePending && im.State != reconcile.StateAvailable {
			continue
		}
		terr := r.c.CreateTags(r.fin, t.Region, []string{im.ID}, map[string]string{plan.ClaimKey(r.p.Name): r.p.Name})
		r.copyStarted(res, im.ID, terr)
		return true, terr
	}
	return false, nil
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

// wait polls the pending copies, one batched DescribeFpgaImages per region
// per round, until each is available or failed, or the deadline passes.
// Copies that fail for a transient reason are copied again with the next
// attempt's ClientToken, up to Retries new attempts.
func (r *run) wait(ctx context.Context) {
	deadline := r.deadline
	interval := r.o.PollInterval
	for {
		byRegion := r.pendingByRegion()
		if len(byRegion) == 0 {
			return
		}
		now := r.o.Clock.Now()
		if !now.Before(deadline) {
			return // the run settles what is still pending
		}
		n := 0
		for _, v := range byRegion {
			n += len(v)
		}
		r.progress(PhaseWaiting)
		r.log.Debug("waiting", "pending", n, "regions", len(byRegion), "next_poll", interval.Round(100*time.Millisecond).String(), "deadline", deadline.Format(time.RFC3339))
		if err := r.o.Clock.Sleep(ctx, min(interval, deadline.Sub(now))); err != nil {
			return
		}
		interval = min(time.Duration(float64(interval)*PollFactor), r.o.PollMax)
		var g errgroup.Group
		for region, rs := range byRegion {
			g.Go(func() error {
				r.poll(ctx, region, rs)
				return nil
			})
		}
		_ = g.Wait()
		if ctx.Err() != nil {
			return
		}
	}
}

func (r *run) pendingByRegion() map[string][]*result {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string][]*result{}
	for _, res := range r.results {
		if res.pending {
			m[res.ch.Target.Region] = append(m[res.ch.Target.Region], res)
		}
	}
	return m
}

// poll describes one region's pending copies in one call and settles each.
func (r *run) poll(ctx context.Context, region string, rs []*result) {
	ids := make([]string, len(rs))
	for i, res := range rs {
		ids[i] = res.copyID
	}
	sort.Strings(ids)
	found, missing, err := r.c.Describe(ctx, region, ids)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("poll failed; will try again", "region", region, "err", apiMessage(err))
		}
		return
	}
	var ready []update
	byID := map[string]*reconcile.Image{}
	for i := range found {
		byID[found[i].ID] = &found[i]
	}
	for _, res := range rs {
		if slices.Contains(missing, res.copyID) {
			r.set(res, report.StatusFailed, "copy "+res.copyID+" disappeared while afisync waited for it")
			continue
		}
		im := byID[res.copyID]
		if im == nil {
			continue
		}
		switch im.State {
		case reconcile.StateAvailable:
			r.mu.Lock()
			res.status, res.pending, res.msg = report.StatusCopied, false, ""
			if im.AGFI != "" {
				res.agfi = im.AGFI
			}
			r.mu.Unlock()
			// Now that it is available, the copy can be shared (AWS
			// refuses load permissions on pending AFIs). A pending copy
			// has none yet.
			if us := reconcile.Converge(res.ch.Target, res.ch.Source, im, &reconcile.LoadPermissions{}, r.p.Name); len(us) > 0 {
				ready = append(ready, update{res: res, region: region, id: im.ID, updates: us})
			}
		case reconcile.StateFailed, reconcile.StateUnavailable:
			r.failed(ctx, res, im)
		}
	}
	for res, err := range r.apply(ctx, ready) {
		r.set(res, report.StatusFailed, "copy "+res.copyID+" is available but could not be converged: "+apiMessage(err))
	}
	for _, u := range ready {
		r.mu.Lock()
		if u.res.status == report.StatusCopied {
			u.res.msg = u.updates.String()
		}
		r.mu.Unlock()
	}
}

// failed handles a copy that ended failed or unavailable: what follows is
// reconcile.NextAfterFailure's decision (a new attempt, or final), unless the
// run was stopped.
func (r *run) failed(ctx context.Context, res *result, im *reconcile.Image) {
	if im.State != reconcile.StateFailed {
		msg := im.Message
		if msg == "" {
			msg = "copy is " + im.State
		}
		r.set(res, report.StatusFailed, msg)
		return
	}
	r.mu.Lock()
	res.failures++
	res.usedUp = append(res.usedUp, im.ID)
	failures := res.failures
	r.mu.Unlock()
	retry, reason := reconcile.NextAfterFailure(failures, r.o.Retries, im.ID, im.Message)
	switch {
	case !retry:
		r.set(res, report.StatusFailed, reason)
		return
	case ctx.Err() != nil:
		r.set(res, report.StatusFailed, reason+"; not retried: interrupted")
		return
	}
	r.mu.Lock()
	res.attempt++
	res.ch.Action = reconcile.ActionRetry
	res.ch.Reason = reason
	r.mu.Unlock()
	r.log.Info("retrying failed copy", "copy", im.ID, "attempt", res.attempt, "message", im.Message)
	_ = r.copyOne(ctx, res)
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
