package bench

import (
	"fmt"
	"strings"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// ScaleWorld is an in-memory plan and inventory for planning benchmarks:
// AFIs sources in SourceRegion, each wanted in Regions destinations.
type ScaleWorld struct {
	// Targets are the explicit targets (one per source and destination),
	// as Plan.Targets returns them for a plan that lists every source.
	Targets []plan.Target
	// Selector is a parsed plan with one name selector that picks every
	// source; its Targets are resolved by reconcile.Diff.
	Selector *plan.Plan
	Inv      *reconcile.Inventory
}

// NewScaleWorld builds a ScaleWorld. With copied, every target already has
// its copy, available and tagged (the nightly no-op sync); without, none
// has (every target is a copy to make).
func NewScaleWorld(afis, regions int, copied bool) (*ScaleWorld, error) {
	dests := Regions(regions)
	inv := &reconcile.Inventory{Account: "111122223333", Owned: map[string][]reconcile.Image{}, Foreign: map[string]reconcile.SourceInfo{}}
	srcs := make([]reconcile.Image, afis)
	for i := range srcs {
		srcs[i] = reconcile.Image{
			ID:      fmt.Sprintf("afi-0%016x", 0x1000000+i),
			AGFI:    fmt.Sprintf("agfi-0%016x", 0x1000000+i),
			Region:  SourceRegion,
			OwnerID: inv.Account,
			State:   reconcile.StateAvailable,
			Name:    fmt.Sprintf("bench-%05d", i),
			Tags:    map[string]string{"team": "fpga", "release": "2026.11"},
		}
	}
	inv.Owned[SourceRegion] = srcs
	w := &ScaleWorld{Inv: inv}
	for ri, r := range dests {
		if copied {
			ims := make([]reconcile.Image, afis)
			for i := range ims {
				src := &srcs[i]
				ims[i] = reconcile.Image{
					ID:      fmt.Sprintf("afi-0%016x", (ri+1)<<32+i),
					AGFI:    src.AGFI,
					Region:  r,
					OwnerID: inv.Account,
					State:   reconcile.StateAvailable,
					Name:    src.Name,
					Tags: map[string]string{
						"team": "fpga", "release": "2026.11", "env": "bench",
						plan.TagSource:          plan.SourceKey(SourceRegion, src.ID),
						plan.ClaimKey(PlanName): PlanName,
					},
				}
			}
			inv.Owned[r] = ims
		} else {
			inv.Owned[r] = nil
		}
	}
	w.Targets = make([]plan.Target, 0, afis*regions)
	for i := range srcs {
		for _, r := range dests {
			w.Targets = append(w.Targets, plan.Target{
				SourceRegion:   SourceRegion,
				SourceAFI:      srcs[i].ID,
				Region:         r,
				Tags:           map[string]string{"env": "bench"},
				CopySourceTags: true,
				Entry:          i,
			})
		}
	}
	yaml := fmt.Sprintf("version: 1\nname: %s\ndefaults:\n  source_region: %s\n  regions: [%s]\n  tags: {env: bench}\nafis:\n  - select: {name: \"bench-*\"}\n",
		PlanName, SourceRegion, strings.Join(dests, ", "))
	p, err := plan.Parse("scale.yaml", []byte(yaml))
	if err != nil {
		return nil, err
	}
	w.Selector = p
	return w, nil
}
