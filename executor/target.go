package executor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// A target's life in a sync, in the order it is lived:
//
//	await source ──available──▶ copy ──▶ tag ──▶ pending ──available──▶ converge ──▶ done
//	     │                       ▲                  │
//	     └──failed──▶ failed      └──────retry──────┴──failed──▶ failed (no retries left)
//
// Each arrow is taken as soon as AWS allows it: the copy is tagged in the
// same step that makes it, a per-region poller (poll.go) reports the moment
// a pending AFI settles, and the next step starts at once in the target's
// own goroutine, holding one of the run's Concurrency slots for its calls.
// Without --wait a target stops at "pending" (copying). The run's deadline
// or an interrupt stops every target where it stands (settleStopped).

// step runs f for res in a goroutine of its own, holding a slot; the target
// stays active (the run waits for it) until f returns. It is how every
// event moves a target on.
func (r *run) step(res *result, f func(ctx context.Context)) {
	r.active.Add(1)
	r.steps.Add(1)
	r.busy.Add(1)
	go func() {
		defer r.steps.Done()
		defer r.active.Done()
		defer r.busy.Done()
		select {
		case r.slots <- struct{}{}:
		case <-r.runCtx.Done():
			return
		}
		defer func() { <-r.slots }()
		if r.runCtx.Err() != nil {
			return
		}
		f(r.runCtx)
	}()
}

// follow makes a sync with --wait hear when res's copy settles.
func (r *run) follow(res *result) {
	if r.o.Wait && res.pending {
		r.watch(res.ch.Target.Region, res.copyID, res, r.settled)
	}
}

// awaitSource makes res wait, with --wait, for its pending source; without,
// it is reported as waiting.
func (r *run) awaitSource(res *result) {
	if res.ch.Target.Build != nil {
		r.awaitBuild(res, res.ch.Reason)
		return
	}
	if !r.o.Wait {
		r.set(res, report.StatusWaiting, res.ch.Reason+" (a rerun, or --wait, copies it once it is available)")
		return
	}
	src := res.ch.Source
	r.set(res, report.StatusWaiting, res.ch.Reason)
	r.watch(res.ch.Target.SourceRegion, src.ID, res, r.sourceSettled)
}

// sourceSettled moves on a target whose source was pending: a source now
// available is copied; one that failed fails its targets with AWS's words.
func (r *run) sourceSettled(ctx context.Context, res *result, im *reconcile.Image) {
	switch {
	case im == nil:
		r.set(res, report.StatusFailed, "source "+res.ch.Target.SourceAFI+" disappeared while afisync waited for it")
		return
	case im.State != reconcile.StateAvailable:
		r.set(res, report.StatusFailed, notAvailable(res.ch.Target, im))
		return
	}
	r.mu.Lock()
	res.ch.Source = im
	res.agfi = im.AGFI
	res.ch.Action = reconcile.ActionCopy
	r.mu.Unlock()
	if err := r.copyOne(ctx, res); err == nil {
		r.follow(res)
	}
	r.progress(PhaseCopying)
}

// copyAll starts every copy the diff asked for, and, with --wait, sets
// pending copies and sources on their way. Copies start round-robin over
// destination regions: each region has its own EC2 buckets, and a
// selector's targets come region by region, which would fill every slot
// with one region's paced copies while the other regions' buckets sat full
// (docs/performance.md).
func (r *run) copyAll(ctx context.Context) {
	queues := map[string][]*result{}
	var regions []string
	var builds []*result
	for _, res := range r.results {
		switch res.ch.Action {
		case reconcile.ActionCopy, reconcile.ActionRetry:
			rg := res.ch.Target.Region
			if _, ok := queues[rg]; !ok {
				regions = append(regions, rg)
			}
			queues[rg] = append(queues[rg], res)
		case reconcile.ActionWait:
			r.follow(res)
		case reconcile.ActionAwaitSource:
			r.awaitSource(res)
		case reconcile.ActionBuild:
			builds = append(builds, res)
		}
	}
	r.buildAll(builds)
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
	r.busy.Add(len(todo))
	for _, res := range todo {
		if r.notStarted(ctx, gctx, res) {
			r.busy.Done()
			continue
		}
		g.Go(func() error {
			defer r.busy.Done()
			select {
			case r.slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			defer func() { <-r.slots }()
			if r.notStarted(ctx, gctx, res) {
				return nil
			}
			err := r.copyOne(gctx, res)
			if err == nil {
				r.follow(res)
			}
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

// settled moves on a target whose copy is no longer pending: an available
// copy is converged (shared, named: AWS refuses load permissions on pending
// AFIs), a failed one retried or given up, a vanished one failed.
func (r *run) settled(ctx context.Context, res *result, im *reconcile.Image) {
	switch {
	case im == nil:
		r.set(res, report.StatusFailed, "copy "+res.copyID+" disappeared while afisync waited for it")
	case im.State == reconcile.StateAvailable:
		r.available(ctx, res, im)
	default:
		r.failed(ctx, res, im)
	}
	r.progress(PhaseWaiting)
}

// available records a copy that became available and converges it.
func (r *run) available(ctx context.Context, res *result, im *reconcile.Image) {
	r.mu.Lock()
	res.status, res.pending, res.msg = report.StatusCopied, false, ""
	if im.AGFI != "" {
		res.agfi = im.AGFI
	}
	r.mu.Unlock()
	// A copy that was pending has no load permissions yet.
	us := reconcile.Converge(res.ch.Target, res.ch.Source, im, &reconcile.LoadPermissions{}, r.p.Name)
	// The sharing digest waits for the region's next polling round, to be
	// written for every copy converged meanwhile in one CreateTags.
	var digest reconcile.Updates
	us = slices.DeleteFunc(us, func(u reconcile.Update) bool {
		if u.Key == plan.TagSharing {
			digest = append(digest, u)
			return true
		}
		return false
	})
	if len(us) > 0 {
		if err := r.apply(ctx, []update{{res: res, region: im.Region, id: im.ID, updates: us}})[res]; err != nil {
			r.set(res, report.StatusFailed, "copy "+res.copyID+" is available but could not be converged: "+r.callMessage(err))
			return
		}
	}
	if len(digest) > 0 {
		r.queueDigest(update{res: res, region: im.Region, id: im.ID, updates: digest})
	}
	r.mu.Lock()
	res.msg = us.String()
	r.mu.Unlock()
}

// queueDigest holds a copy's sharing digest for flushDigests.
func (r *run) queueDigest(u update) {
	r.digestMu.Lock()
	defer r.digestMu.Unlock()
	r.digests[u.region] = append(r.digests[u.region], u)
}

// flushDigests writes the queued sharing digests of region ("" for every
// region): one CreateTags per region and digest value. A digest that is not
// written costs the next run one DescribeFpgaImageAttribute, nothing more.
func (r *run) flushDigests(ctx context.Context, region string) {
	r.digestMu.Lock()
	var us []update
	for rg, q := range r.digests {
		if region == "" || rg == region {
			us = append(us, q...)
			delete(r.digests, rg)
		}
	}
	r.digestMu.Unlock()
	if len(us) == 0 {
		return
	}
	for res, err := range r.call(ctx, r.ops(us)) {
		r.log.Debug("sharing digest not recorded; the next run reads the load permissions", "copy", res.copyID, "err", apiMessage(err))
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
	if err := r.copyOne(ctx, res); err == nil {
		r.follow(res)
	}
}
