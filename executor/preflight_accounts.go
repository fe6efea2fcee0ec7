package executor

import (
	"context"
	"sort"
	"sync"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// CheckCredentials is the Action of a preflight check that stands for an
// account whose credentials failed: its other checks could not be made.
const CheckCredentials = "credentials"

// PreflightAccounts is Preflight over a plan's accounts: each lane checks
// its own share of the plan with its own credentials, every lane at once,
// and each check and quota row names its account. A lane whose credentials fail (or
// whose ID is not the plan's) has one denied check, Action
// CheckCredentials, whose message says why. A plan without accounts: run
// through one lane named "" is exactly Preflight.
func PreflightAccounts(ctx context.Context, lanes []Lane, p *plan.Plan, o Options) (*report.Preflight, error) {
	if len(p.Accounts) == 0 && len(lanes) == 1 && lanes[0].Name == "" && lanes[0].Err == nil {
		return Preflight(ctx, lanes[0].Client, p, o)
	}
	o.fill()
	ls, ids := identifyLanes(ctx, lanes)
	var wg sync.WaitGroup
	pf := &report.Preflight{Plan: p.Name, Simulated: o.Simulated}
	var mu sync.Mutex
	for _, ln := range ls {
		sub := p.ForAccount(ln.Name, ids)
		if ln.err != "" {
			mu.Lock()
			pf.Checks = append(pf.Checks, report.Check{Action: CheckCredentials, Result: report.CheckDenied, Message: ln.err,
				Account: ids[ln.Name], AccountName: ln.Name})
			mu.Unlock()
			continue
		}
		if len(sub.AFIs) == 0 && !o.Prune {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo := o
			lo.Logger = o.Logger.With("account", accountLabel(ln.Name, ln.id))
			one, err := Preflight(ctx, ln.Client, sub, lo)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				pf.Checks = append(pf.Checks, report.Check{Action: CheckCredentials, Result: report.CheckUnknown, Message: laneError(err),
					Account: ln.id, AccountName: ln.Name})
				return
			}
			for _, c := range one.Checks {
				c.Account, c.AccountName = ln.id, ln.Name
				pf.Checks = append(pf.Checks, c)
			}
			// The AFI quota is per account and region: each row names
			// its account, so a region one account would be refused in
			// fails the check (Preflight.ExitCode).
			for _, q := range one.Quota {
				q.Account, q.AccountName = ln.id, ln.Name
				pf.Quota = append(pf.Quota, q)
			}
		}()
	}
	wg.Wait()
	pf.Sort()
	sort.SliceStable(pf.Checks, func(i, j int) bool { return pf.Checks[i].AccountName < pf.Checks[j].AccountName })
	sort.Slice(pf.Quota, func(i, j int) bool {
		a, b := pf.Quota[i], pf.Quota[j]
		if a.AccountName != b.AccountName {
			return a.AccountName < b.AccountName
		}
		return a.Region < b.Region
	})
	return pf, nil
}
