package executor

import (
	"context"
	"errors"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// initialPrune turns a copy the plan no longer wants into a result.
func (r *run) initialPrune(p *reconcile.Prune) *result {
	cp := p.Copy
	res := &result{
		ch:     reconcile.Change{Target: plan.Target{SourceRegion: p.SourceRegion, SourceAFI: p.SourceAFI, Region: cp.Region}},
		status: report.StatusWouldPrune,
		msg:    p.Reason,
		copyID: cp.ID,
		agfi:   cp.AGFI,
		prune:  p,
	}
	switch {
	case !r.o.DryRun && !r.confirmed(cp.Region, cp.ID):
		res.msg, res.prune = p.Reason+"; "+notConfirmed, nil
	case len(p.Others) > 0:
		res.status, res.msg = report.StatusWouldRelease, p.Reason+"; "+alsoClaimed(p.Others)
	case cp.Public && !r.o.PrunePublic:
		res.msg = p.Reason + "; " + publicKept
	}
	if p.Expire {
		res.status = expireStatus(res.status)
	}
	return res
}

const publicKept = "public, so left in place (use --prune-public)"

func alsoClaimed(others []string) string {
	return "kept for plan " + strings.Join(others, ", plan ") + ", which claims it too"
}

// prunes lists the results that stand for copies to prune (taken before
// copies start, like updates).
func (r *run) prunes() []*result {
	var todo []*result
	for _, res := range r.results {
		if res.prune != nil {
			todo = append(todo, res)
		}
	}
	return todo
}

// pruneAll deletes the copies the plan no longer wants, or, where other
// plans claim a copy too, removes only this plan's claim. Each copy is read
// again right before it is touched, so that a claim or a public grant made
// since the inventory is honoured.
func (r *run) pruneAll(ctx context.Context, todo []*result) {
	if len(todo) == 0 {
		return
	}
	r.log.Info("pruning", "copies", len(todo))
	var g errgroup.Group
	g.SetLimit(r.o.Concurrency)
	for _, res := range todo {
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil // interrupted: leave it as would-prune
			}
			status, msg, err := r.pruneOne(ctx, res.prune)
			if err != nil {
				status, msg = report.StatusFailed, "prune "+res.prune.Copy.ID+": "+r.callMessage(err)
			}
			if res.prune.Expire {
				status = expireStatus(status)
			}
			r.set(res, status, msg)
			return nil
		})
	}
	_ = g.Wait()
	r.progress(PhaseCopying)
}

// pruneOne reads a copy again and then releases this plan's claim on it,
// deletes it, or leaves it, and says which.
func (r *run) pruneOne(ctx context.Context, p *reconcile.Prune) (report.Status, string, error) {
	cp, err := r.reread(ctx, p.Copy)
	switch {
	case err != nil:
		return "", "", err
	case cp == nil:
		return report.StatusPruned, p.Reason + "; already deleted", nil
	case !plan.HasClaim(cp.Tags, r.p.Name):
		return report.StatusInSync, "no longer claimed by this plan; left in place", nil
	}
	if others := plan.OtherClaims(cp.Tags, r.p.Name); len(others) > 0 {
		keys := []string{plan.ClaimKey(r.p.Name)}
		if cp.Tags[plan.TagPlan] == r.p.Name {
			keys = append(keys, plan.TagPlan)
		}
		if err := r.c.DeleteTags(r.fin, cp.Region, []string{cp.ID}, keys); err != nil {
			return "", "", err
		}
		return report.StatusReleased, p.Reason + "; " + alsoClaimed(others), nil
	}
	if cp.Public && !r.o.PrunePublic {
		return report.StatusWouldPrune, p.Reason + "; " + publicKept, nil
	}
	switch err := r.deleteCopy(ctx, cp); {
	case errors.Is(err, errMadePublic):
		return report.StatusWouldPrune, p.Reason + "; made public since the inventory: left in place (use --prune-public)", nil
	case err != nil:
		return "", "", err
	}
	return report.StatusPruned, p.Reason, nil
}

// errMadePublic: a copy became public between its last read and its
// deletion.
var errMadePublic = errors.New("made public")

// reread describes one copy again; nil when it no longer exists.
func (r *run) reread(ctx context.Context, cp reconcile.Image) (*reconcile.Image, error) {
	found, _, err := r.c.Describe(ctx, cp.Region, []string{cp.ID})
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return &found[0], nil
}

// deleteCopy deletes a copy that nobody else claims. AWS refuses to delete
// an AFI that is shared: a public one is reset (only with --prune-public);
// one shared with accounts loses exactly the accounts read just before, so
// that a public grant made meanwhile makes the delete fail rather than be
// undone.
func (r *run) deleteCopy(ctx context.Context, cp *reconcile.Image) error {
	if cp.Public {
		if err := r.c.ResetSharing(r.fin, cp.Region, cp.ID); err != nil {
			return err
		}
	}
	err := r.c.Delete(r.fin, cp.Region, cp.ID)
	if afi.ErrorCode(err) != "OperationNotPermitted" {
		return err
	}
	lp, lerr := r.c.LoadPermissions(ctx, cp.Region, cp.ID)
	if lerr != nil {
		return lerr
	}
	if slices.Contains(lp.Groups, plan.GroupAll) && !r.o.PrunePublic {
		return errMadePublic
	}
	if err := r.c.ModifySharing(r.fin, cp.Region, cp.ID, afi.Sharing{RemoveUsers: lp.Users, RemoveGroups: lp.Groups}); err != nil {
		return err
	}
	return r.c.Delete(r.fin, cp.Region, cp.ID)
}
