package executor

import (
	"context"
	"fmt"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// Builds. A build entry's targets share one source, which the first sync
// makes with CreateFpgaImage (reconcile.ActionBuild); from then on it is a
// source like any other, awaited while pending (reconcile.ActionAwaitSource,
// awaitSource) and copied once available. The argument that a build is
// made at most once is in docs/copies.md.
//
//	build ──▶ pending ──available──▶ copy … (target.go)
//	               └────failed─────▶ failed, with AWS's State.Message

// buildAll starts one build per build key and source region among rs (the
// targets of one entry share it), each in a step of its own.
func (r *run) buildAll(rs []*result) {
	groups := map[string][]*result{}
	var order []string
	for _, res := range rs {
		t := res.ch.Target
		k := t.SourceRegion + "/" + reconcile.BuildKey(t.Build, t.Name)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], res)
	}
	for _, k := range order {
		group := groups[k]
		r.step(group[0], func(ctx context.Context) { r.buildOne(ctx, group) })
	}
}

// buildOne calls CreateFpgaImage for the targets of one build, tagged with
// the build's key and this plan's claim from its creation on, with the
// build's one ClientToken. The call may finish after the run is stopped,
// within Options.StopGrace; a call cut short is safe, as the next run finds
// the build by its tag or gets it back by its token.
func (r *run) buildOne(ctx context.Context, group []*result) {
	t := group[0].ch.Target
	key := reconcile.BuildKey(t.Build, t.Name)
	id, agfi, err := r.c.Build(r.fin, t.SourceRegion, afi.BuildInput{
		Input:       t.Build.Input,
		Logs:        t.Build.Logs,
		Name:        t.Name,
		Description: t.Description,
		Tags:        reconcile.BuildTags(key, r.p.Name),
		ClientToken: reconcile.BuildToken(key),
	})
	if afi.ErrorCode(err) == "IdempotentParameterMismatch" {
		// The token was used with other parameters: by another plan
		// with the same build (its claim is in the tags), or by this
		// plan before its description changed. That AFI carries the
		// build's key from its creation on: it is this build.
		id, agfi, err = r.findBuild(ctx, t.SourceRegion, key)
	}
	if err != nil {
		for _, res := range group {
			r.set(res, r.failStatus(), "build "+t.Build.Input+": "+r.callMessage(err))
		}
		return
	}
	r.log.Info("build started", "input", t.Build.Input, "name", t.Name, "region", t.SourceRegion, "afi", id)
	im, err := r.describeBuild(ctx, t.SourceRegion, id)
	for _, res := range group {
		r.mu.Lock()
		res.ch.Target.SourceAFI, res.agfi = id, agfi
		r.mu.Unlock()
		switch {
		case err != nil:
			r.set(res, r.failStatus(), "build "+id+" started, but could not be described: "+r.callMessage(err))
		case im == nil:
			// EC2 answered the token with an AFI that is gone.
			r.set(res, report.StatusFailed, fmt.Sprintf("build %s, made earlier for this input with the same ClientToken, "+
				"was deleted since; afisync builds an input once: upload the DCP under a new key and point build.input at it", id))
		case im.State == reconcile.StatePending:
			r.mu.Lock()
			res.ch.Source = im
			r.mu.Unlock()
			r.awaitBuild(res, "build "+id+" started")
		default:
			r.step(res, func(ctx context.Context) { r.sourceSettled(ctx, res, im) })
		}
	}
	r.progress(PhaseCopying)
}

// findBuild finds the AFI of a build whose ClientToken was used with other
// parameters, after a short wait for EC2 to show it.
func (r *run) findBuild(ctx context.Context, region, key string) (id, agfi string, err error) {
	if err := r.o.Clock.Sleep(ctx, mismatchWait); err != nil {
		return "", "", err
	}
	ims, err := r.c.ListTagged(ctx, region, plan.TagBuild, key)
	if err != nil {
		return "", "", err
	}
	if len(ims) == 0 {
		return "", "", fmt.Errorf("its ClientToken %s was used with other parameters, and no AFI in %s carries %s=%s",
			reconcile.BuildToken(key), region, plan.TagBuild, key)
	}
	return ims[0].ID, ims[0].AGFI, nil
}

// describeBuild describes the AFI a build call answered with: nil when it
// does not exist (looked for twice, mismatchWait apart, in case EC2 does
// not show a new AFI at once).
func (r *run) describeBuild(ctx context.Context, region, id string) (*reconcile.Image, error) {
	for try := 0; ; try++ {
		found, _, err := r.c.Describe(ctx, region, []string{id})
		switch {
		case err != nil:
			return nil, err
		case len(found) > 0:
			return &found[0], nil
		case try == 1:
			return nil, nil
		}
		if err := r.o.Clock.Sleep(ctx, mismatchWait); err != nil {
			return nil, err
		}
	}
}

// awaitBuild makes res wait, with --wait, for its source's build (pending);
// without, it is reported building: the build goes on in AWS, and a later
// run copies it.
func (r *run) awaitBuild(res *result, what string) {
	if !r.o.Wait {
		r.set(res, report.StatusBuilding, what+" (a rerun, or --wait, copies it once it is available)")
		return
	}
	r.set(res, report.StatusBuilding, what)
	r.watch(res.ch.Target.SourceRegion, res.ch.Target.SourceAFI, res, r.sourceSettled)
}

// settleStoppedBuild records, for a run stopped early, what became of a
// build target whose work was cut short; status is timed-out or failed.
// r.mu is held.
func (r *run) settleStoppedBuild(res *result, status report.Status, why string) {
	switch {
	case res.status == report.StatusWouldBuild && !r.o.DryRun:
		res.status, res.msg = status, "build not started: "+why
	case res.status == report.StatusBuilding && r.o.Wait && status == report.StatusTimedOut:
		res.status = status
		res.msg = fmt.Sprintf("build %s still pending after %s", res.ch.Target.SourceAFI, r.o.Timeout)
	}
}

// notAvailable says why a source that was pending is not available now,
// with AWS's State.Message (the report adds which DCP a build was built
// from).
func notAvailable(t plan.Target, im *reconcile.Image) string {
	msg := "source " + im.ID + " is " + im.State
	switch {
	case t.Build != nil && im.State == reconcile.StateFailed:
		msg = "build " + im.ID + " failed"
	case t.Build != nil:
		msg = "build " + im.ID + " is " + im.State
	}
	if im.Message != "" {
		msg += ": " + im.Message
	}
	return msg
}
