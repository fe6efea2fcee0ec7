package executor

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// initialPrune turns a copy the plan no longer wants into a result.
func (r *run) initialPrune(p *plan.Prune) *result {
	cp := p.Copy
	res := &result{
		ch:     plan.Change{Target: plan.Target{SourceRegion: p.SourceRegion, SourceAFI: p.SourceAFI, Region: cp.Region}},
		status: report.StatusWouldPrune,
		msg:    p.Reason,
		copyID: cp.ID,
		agfi:   cp.AGFI,
		prune:  p,
	}
	if cp.Public && !r.o.PrunePublic {
		res.msg = p.Reason + "; public, so left in place (use --prune-public)"
	}
	return res
}

// pruneAll deletes the copies the plan no longer wants. A shared copy has its
// load permissions reset first (AWS refuses to delete shared AFIs); a public
// one only with --prune-public.
func (r *run) pruneAll(ctx context.Context) {
	var todo []*result
	for _, res := range r.results {
		if res.prune != nil && (!res.prune.Copy.Public || r.o.PrunePublic) {
			todo = append(todo, res)
		}
	}
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
			cp := res.prune.Copy
			octx := r.fin
			var err error
			if cp.Public {
				err = r.c.ResetSharing(octx, cp.Region, cp.ID)
			}
			if err == nil {
				err = r.c.Delete(octx, cp.Region, cp.ID)
				if afi.ErrorCode(err) == "OperationNotPermitted" {
					// Shared with accounts: unshare, then delete.
					if err = r.c.ResetSharing(octx, cp.Region, cp.ID); err == nil {
						err = r.c.Delete(octx, cp.Region, cp.ID)
					}
				}
			}
			if err != nil {
				r.set(res, report.StatusFailed, "prune "+cp.ID+": "+apiMessage(err))
				return nil
			}
			r.set(res, report.StatusPruned, res.prune.Reason)
			return nil
		})
	}
	_ = g.Wait()
	r.progress(PhaseCopying)
}
