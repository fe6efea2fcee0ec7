package importer

import (
	"context"
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
	if err := o.Check(); err != nil {
		return nil, err
	}
	account, err := c.Account(ctx)
	if err != nil {
		return nil, err
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
