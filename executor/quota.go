package executor

import (
	"context"
	"sync"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// The AFI quota step of a run, between the plan and the copies: the
// headroom of each region (reconcile.Headrooms), the refusal of every copy
// into a region that would pass its limit (reconcile.Refuse), and the
// deletions that make room, which run before the copies that need it.

// limit is the AFI limit of region: --afi-limit, else the plan's
// settings.quota, else what Service Quotas said, else
// plan.DefaultAFILimit. What the user wrote wins over the lookup: a plan
// may keep room for AFIs made by other means.
func (r *run) limit(region string) reconcile.Limit {
	if r.o.AFILimit > 0 {
		return reconcile.Limit{AFIs: r.o.AFILimit, Source: reconcile.LimitFromFlag}
	}
	if n, ok := r.p.Settings.Quota.Limit(region); ok {
		return reconcile.Limit{AFIs: n, Source: reconcile.LimitFromPlan}
	}
	if n, ok := r.sq[region]; ok {
		return reconcile.Limit{AFIs: n, Source: reconcile.LimitFromServiceQuotas}
	}
	return reconcile.Limit{AFIs: plan.DefaultAFILimit, Source: reconcile.LimitFromDefault}
}

// serviceQuotas asks Service Quotas for the AFI quota of every region the
// run would create an AFI in and that neither --afi-limit nor the plan
// gives a limit for, all at once, each asked once (afi.QuotaTimeout): a run
// that creates nothing asks nothing. A region whose lookup fails (no
// permission, no such quota, no answer) falls back to the default.
func (r *run) serviceQuotas(ctx context.Context, d *reconcile.DiffResult) {
	r.sq = map[string]int{}
	if r.o.AFILimit > 0 || r.o.NoServiceQuotas {
		return
	}
	ask := map[string]bool{}
	for _, c := range d.Changes {
		switch c.Action {
		case reconcile.ActionCopy, reconcile.ActionRetry, reconcile.ActionAwaitSource:
			ask[c.Target.Region] = true
		case reconcile.ActionBuild:
			ask[c.Target.Region], ask[c.Target.SourceRegion] = true, true
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for region := range ask {
		if _, ok := r.p.Settings.Quota.Limit(region); ok {
			continue
		}
		wg.Go(func() {
			n, err := r.c.AFIQuota(ctx, region)
			if err != nil {
				r.log.Debug("service quotas: no AFI quota; using the plan's or the default", "region", region, "err", afi.Explain(err).Error())
				return
			}
			mu.Lock()
			r.sq[region] = n
			mu.Unlock()
		})
	}
	wg.Wait()
}

// quota works out the headroom of every region from the inventory and the
// diff, refuses the copies of the regions that would pass their limit, and
// warns of the regions already over it.
func (r *run) quota(inv *reconcile.Inventory, d *reconcile.DiffResult) {
	r.headroom = reconcile.Headrooms(inv, d, r.limit, r.o.PrunePublic)
	r.refused = map[string]bool{}
	for _, region := range reconcile.Refuse(d, r.headroom) {
		r.refused[region] = true
	}
	for _, h := range r.headroom {
		switch {
		case r.refused[h.Region]:
			r.log.Warn("AFI quota: no copy in region", "region", h.Region, "held", h.Held, "limit", h.Limit.AFIs, "copies", h.Copies, "deletes", h.Deletes)
		case !h.Enforced() && h.Over() && h.Copies > 0:
			d.Warnings = append(d.Warnings, h.DefaultWarning())
		case h.OverAtStart() && h.Enforced():
			d.Warnings = append(d.Warnings, h.Warning())
		}
	}
}

// roomFirst splits the prunes into those in regions this run copies into
// (they make room, so they run before the copies) and the others.
func (r *run) roomFirst(todo []*result) (first, later []*result) {
	copies := map[string]bool{}
	for _, h := range r.headroom {
		if h.Copies > 0 && !r.refused[h.Region] {
			copies[h.Region] = true
		}
	}
	for _, res := range todo {
		if copies[res.ch.Target.Region] {
			first = append(first, res)
		} else {
			later = append(later, res)
		}
	}
	return first, later
}

// recheckRoom, once the deletions that make room are done, refuses the
// copies of a region whose limit they did not bring the run under (a
// deletion failed, was not confirmed, or found the copy claimed or made
// public since). A run stopped meanwhile (interrupted, deadline) starts
// no copy: settleStopped says so, not a refusal.
func (r *run) recheckRoom(done []*result) {
	if r.runCtx.Err() != nil {
		return
	}
	deleted := map[string]int{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range done {
		if res.status == report.StatusPruned || res.status == report.StatusExpired {
			deleted[res.ch.Target.Region]++
		}
	}
	for i := range r.headroom {
		h := &r.headroom[i]
		if h.Copies == 0 || r.refused[h.Region] || h.Deletes == 0 || deleted[h.Region] >= h.Deletes || !h.Enforced() {
			continue
		}
		h.Deletes = deleted[h.Region]
		if !h.Over() {
			continue
		}
		r.refused[h.Region] = true
		for _, res := range r.results {
			if res.prune == nil && res.ch.Target.Region == h.Region && res.status == report.StatusWouldCopy {
				res.status, res.msg = report.StatusFailed, h.Refusal()
				res.ch.Action = reconcile.ActionFail
			}
		}
	}
}

// quotaReport is the report's quota section.
func (r *run) quotaReport() []report.Quota {
	var out []report.Quota
	for _, h := range r.headroom {
		out = append(out, report.Quota{Region: h.Region, Held: h.Held, Limit: h.Limit.AFIs, Source: h.Limit.Source,
			Copies: h.Copies, Deletes: h.Deletes, After: h.After(), Headroom: h.Room(), Refused: r.refused[h.Region],
			Over: h.OverAtStart() && h.Enforced()})
	}
	return out
}

// expireStatus is the status of an expiration (a prune a retention rule
// asked for) where a prune would have status s.
func expireStatus(s report.Status) report.Status {
	switch s {
	case report.StatusPruned:
		return report.StatusExpired
	case report.StatusWouldPrune:
		return report.StatusWouldExpire
	}
	return s
}
