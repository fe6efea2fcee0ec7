package executor

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// Preflight asks EC2, with DryRun=true, whether each mutating call that
// syncing plan p may need is allowed, per destination region: CopyFpgaImage
// and CreateTags always; ModifyFpgaImageAttribute when the plan shares
// copies or sets names or descriptions; DeleteTags with exclusive_tags;
// DeleteFpgaImage and ResetFpgaImageAttribute with Options.Prune; and
// CreateFpgaImage in the source region of each build entry; and the AFI
// quota of each region (Preflight.Quota), as sync would judge it. Nothing
// changes in AWS. Learning the account and listing AFIs also prove
// sts:GetCallerIdentity and ec2:DescribeFpgaImages.
func Preflight(ctx context.Context, c *afi.Client, p *plan.Plan, o Options) (*report.Preflight, error) {
	o.fill()
	r := &run{c: c, p: p, o: o, log: o.Logger}
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	targets := p.Targets()
	inv, err := r.inventory(ctx, account, targets)
	if err != nil {
		return nil, err
	}
	needs := preflightNeeds(targets, o.Prune)
	// Selector targets have no source AFI until sync resolves them: use one
	// that the selector matches now, if any.
	// The quota below is judged on this diff: it asks what sync's would
	// (its prunes with Options.Prune, its expirations as of now).
	d := reconcile.Diff(targets, inv, reconcile.DiffOptions{Retries: o.Retries, PlanName: p.Name, Prune: o.Prune, Refresh: o.Refresh, Now: o.Clock.Now()})
	for _, ch := range d.Changes {
		if n := needs[ch.Target.Region]; n != nil && n.source.SourceAFI == "" {
			n.source = ch.Target
		}
	}
	pf := &report.Preflight{Plan: p.Name, Account: account, Simulated: o.Simulated}
	// The AFI quota: which regions a sync would refuse for it.
	r.serviceQuotas(ctx, d)
	r.quota(inv, d)
	pf.Quota = r.quotaReport()
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(o.Concurrency)
	for region, n := range needs {
		// Calls on an existing AFI name one the caller owns in the region
		// if there is one; else the source's ID, which EC2 may not know
		// there (then the answer is "unknown").
		subject := n.source.SourceAFI
		if ims := inv.Owned[region]; len(ims) > 0 {
			subject = ims[0].ID
		}
		for action := range n.actions {
			id, src := subject, ""
			if action == afi.ActionCopy {
				id, src = n.source.SourceAFI, n.source.SourceRegion
			}
			g.Go(func() error {
				ck := report.Check{Region: region, Action: action, AFI: id, Result: report.CheckAllowed}
				switch {
				case id == "":
					ck.Result, ck.Message = report.CheckUnknown, "no AFI to name in the call (the selector matches nothing yet)"
				default:
					if err := c.DryRun(ctx, region, action, id, src); err != nil {
						ck.Result, ck.Message = report.CheckUnknown, apiMessage(err)
						if afi.ErrorCode(err) == "UnauthorizedOperation" {
							ck.Result = report.CheckDenied
						}
					}
				}
				mu.Lock()
				pf.Checks = append(pf.Checks, ck)
				mu.Unlock()
				return nil
			})
		}
	}
	for _, ck := range buildChecks(targets) {
		g.Go(func() error {
			if err := c.DryRun(ctx, ck.Region, afi.ActionBuild, ck.AFI, ""); err != nil {
				ck.Result, ck.Message = report.CheckUnknown, apiMessage(err)
				if afi.ErrorCode(err) == "UnauthorizedOperation" {
					ck.Result = report.CheckDenied
				}
			}
			mu.Lock()
			pf.Checks = append(pf.Checks, ck)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	pf.Sort()
	return pf, nil
}

// preflightNeed is what a sync may call in one destination region.
type preflightNeed struct {
	actions map[string]bool
	source  plan.Target // a target into this region, for CopyFpgaImage
}

// preflightNeeds lists, per destination region, the mutating calls a sync of
// targets may make, and a target whose source CopyFpgaImage can name (an
// explicit one if there is one).
func preflightNeeds(targets []plan.Target, prune bool) map[string]*preflightNeed {
	needs := map[string]*preflightNeed{}
	for _, t := range targets {
		n := needs[t.Region]
		if n == nil {
			n = &preflightNeed{actions: map[string]bool{afi.ActionCopy: true, afi.ActionTag: true}, source: t}
			needs[t.Region] = n
		}
		if n.source.SourceAFI == "" && t.SourceAFI != "" {
			n.source = t
		}
		if len(t.ShareWith) > 0 || len(t.ShareWithGroups) > 0 || t.ExclusiveSharing || t.Name != "" || t.Description != "" {
			n.actions[afi.ActionModify] = true
		}
		if t.ExclusiveTags {
			n.actions[afi.ActionUntag] = true
		}
		if prune {
			n.actions[afi.ActionDelete] = true
			n.actions[afi.ActionReset] = true
		}
	}
	return needs
}

// buildChecks lists one CreateFpgaImage check per source region that has
// build entries, naming the first build's input (whether EC2 may read it is
// not part of a DryRun: S3 is read when the build runs).
func buildChecks(targets []plan.Target) []report.Check {
	var out []report.Check
	seen := map[string]bool{}
	for _, t := range targets {
		if t.Build != nil && !seen[t.SourceRegion] {
			seen[t.SourceRegion] = true
			out = append(out, report.Check{Region: t.SourceRegion, Action: afi.ActionBuild, AFI: t.Build.Input, Result: report.CheckAllowed})
		}
	}
	return out
}
