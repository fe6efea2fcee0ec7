package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// concurrency bounds Gather's calls in flight (afi's pacing keeps them
// under EC2's rate limits).
const concurrency = 16

// Gather takes what Build needs from AWS: the caller's account
// (GetCallerIdentity), the regions the account has enabled
// (DescribeRegions), every AFI it owns in each of them (one paginated
// DescribeFpgaImages per region, all regions at once), and the load
// permissions of each copy Build will judge (DescribeFpgaImageAttribute).
//
// A region without FPGA support (InvalidAction) holds no AFIs and is left
// out; another region that cannot be listed is recorded in
// Inventory.Unlisted (its copies are not imported, and the plan says so).
// The source region must be listed, and every permission read must work:
// otherwise Gather fails.
func Gather(ctx context.Context, c *afi.Client, o Options) (*reconcile.Inventory, error) {
	return gather(ctx, c, o, nil)
}

// gather is Gather; check, when set, judges the caller's account before
// anything is listed.
func gather(ctx context.Context, c *afi.Client, o Options, check func(account string) error) (*reconcile.Inventory, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(account); err != nil {
			return nil, err
		}
	}
	regions, err := c.Regions(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(regions, o.SourceRegion) {
		return nil, fmt.Errorf("--source-region %s is not among the regions account %s has enabled (DescribeRegions)", o.SourceRegion, account)
	}
	inv := &reconcile.Inventory{Account: account, Owned: map[string][]reconcile.Image{},
		LoadPermissions: map[string]*reconcile.LoadPermissions{}, Unlisted: map[string]string{}}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(concurrency)
	var srcErr error
	for _, region := range regions {
		if plan.Partition(region) != plan.Partition(o.SourceRegion) {
			continue
		}
		g.Go(func() error {
			ims, err := c.ListOwned(ctx, region)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				inv.Owned[region] = ims
			case region == o.SourceRegion:
				srcErr = err
			case afi.ErrorCode(err) == "InvalidAction":
				// No FPGA support there: no AFIs either.
			default:
				inv.Unlisted[region] = afi.Explain(err).Error()
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if srcErr != nil {
		return nil, afi.Explain(srcErr)
	}

	var errs []error
	for _, cp := range NeedPermissions(inv, o) {
		g.Go(func() error {
			lp, err := c.LoadPermissions(ctx, cp.Region, cp.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, afi.Explain(err))
				return nil
			}
			inv.LoadPermissions[plan.SourceKey(cp.Region, cp.ID)] = lp
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		err := fmt.Errorf("read the sharing of the copies: %w", errs[0])
		if len(errs) > 1 {
			err = fmt.Errorf("%w (and %d more like it)", err, len(errs)-1)
		}
		return nil, err
	}
	return inv, nil
}

// GatherAccounts gathers, as Gather does, the inventory of each account
// with its own credentials (afi.AccountConfig of base), all accounts at
// once. An account whose credentials reach another account than its id:
// (or its role ARN's) fails before anything is listed. It returns the
// accounts for BuildAccounts, in the order of accts, or one error per
// account that failed, each an *afi.AccountError naming the account and
// worded by afi.Explain.
func GatherAccounts(ctx context.Context, base afi.Config, accts []plan.Account, o Options) ([]Account, []error) {
	out := make([]Account, len(accts))
	errs := make([]error, len(accts))
	var g errgroup.Group
	g.SetLimit(accountConcurrency)
	for i, a := range accts {
		g.Go(func() error {
			inv, err := gatherAccount(ctx, base, a, o)
			out[i], errs[i] = Account{Account: a, Inv: inv}, err
			return nil
		})
	}
	_ = g.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return nil, failed
	}
	return out, nil
}

// accountConcurrency bounds the accounts GatherAccounts reads at once
// (each has its own EC2 buckets, and Gather its own bound).
const accountConcurrency = 8

func gatherAccount(ctx context.Context, base afi.Config, a plan.Account, o Options) (*reconcile.Inventory, error) {
	c, err := afi.New(ctx, afi.AccountConfig(base, a))
	if err == nil {
		var inv *reconcile.Inventory
		inv, err = gather(ctx, c, o, func(got string) error { return afi.CheckAccountID(a, got) })
		if err == nil {
			return inv, nil
		}
	}
	err = afi.Explain(err)
	var ae *afi.AccountError
	if !errors.As(err, &ae) {
		err = &afi.AccountError{Account: a.Name, Err: err}
	}
	return nil, err
}
