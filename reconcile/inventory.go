package reconcile

import (
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/afisync/afisync/plan"
)

// Image is what afisync knows of one AFI in one region, as DescribeFpgaImages
// showed it. It is plain data so that Diff stays pure.
type Image struct {
	ID          string // afi-…
	AGFI        string // agfi-…; empty while pending or failed
	Region      string
	OwnerID     string
	State       string // pending, available, failed, unavailable
	Message     string // State.Message, set when failed
	Name        string
	Description string
	Tags        map[string]string
	Public      bool
	// CreateTime orders a target's failed copies (AWS's IDs carry no
	// time); zero when unknown.
	CreateTime time.Time
}

// Source state codes used by Diff, as AWS spells them.
const (
	StatePending     = "pending"
	StateAvailable   = "available"
	StateFailed      = "failed"
	StateUnavailable = "unavailable"
)

// SourceInfo is what a lookup of one source AFI in its source region found.
type SourceInfo struct {
	// Image is the source as described; nil when it does not exist (or is
	// not visible to the caller).
	Image *Image
	// Err, when set, is why the source could not be described (AWS's
	// words); its targets are skipped with it, and the others go on.
	Err string
}

// Inventory is everything Diff needs to know about AWS: the caller's account,
// every AFI the caller owns in each region involved, and the explicit source
// AFIs that are not among them (shared with or public to the caller, or
// missing).
type Inventory struct {
	Account string
	// Owned lists, per region, every AFI the caller owns there
	// (DescribeFpgaImages with Owners=[self]).
	Owned map[string][]Image
	// Foreign holds explicit sources that are not in Owned for their source
	// region, keyed by plan.SourceKey(region, id). A key with a nil Image means
	// the source does not exist.
	Foreign map[string]SourceInfo
	// LoadPermissions holds the load permissions of copies that were looked
	// up, keyed by plan.SourceKey(region, copy-id). Diff asks for them through
	// DiffResult.NeedPermissions.
	LoadPermissions map[string]*LoadPermissions
	// Unlisted names the regions whose AFIs could not be listed, with the
	// reason: targets that need one of them fail with that reason.
	Unlisted map[string]string
}

// matches reports whether an image satisfies a selector: its name matches
// the glob (path.Match syntax) and it carries every selector tag.
func matches(s *plan.Selector, im *Image) bool {
	if s.Name != "" {
		ok, err := path.Match(s.Name, im.Name)
		if err != nil || !ok {
			return false
		}
	}
	for k, v := range s.Tags {
		if got, ok := im.Tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

type inventoryIndex struct {
	owned  map[string]map[string]*Image   // region → id → image
	byTag  map[string]map[string][]*Image // region → afisync:source → copies (by ID)
	byAGFI map[string]map[string][]*Image // region → agfi → images
	sorted map[string][]*Image            // region → owned images by ID
	// byBuild: region → plan.TagBuild value → the AFIs built with that
	// key, oldest first (there is one, unless someone copied the tag).
	byBuild map[string]map[string][]*Image
}

func newInventoryIndex(inv *Inventory) *inventoryIndex {
	x := &inventoryIndex{
		owned:   map[string]map[string]*Image{},
		byTag:   map[string]map[string][]*Image{},
		byAGFI:  map[string]map[string][]*Image{},
		sorted:  map[string][]*Image{},
		byBuild: map[string]map[string][]*Image{},
	}
	for region, ims := range inv.Owned {
		// Sized up front: growing maps of 10,000 AFIs a region dominated
		// the diff's allocations (docs/performance.md).
		x.owned[region] = make(map[string]*Image, len(ims))
		x.byTag[region] = make(map[string][]*Image, len(ims))
		x.byAGFI[region] = make(map[string][]*Image, len(ims))
		list := make([]*Image, 0, len(ims))
		for i := range ims {
			im := &ims[i]
			list = append(list, im)
		}
		sort.Slice(list, func(a, b int) bool { return list[a].ID < list[b].ID })
		x.sorted[region] = list
		// A target's copies are indexed oldest first (by creation time,
		// then ID), so that the last failed copy is the latest attempt.
		byAge := append([]*Image(nil), list...)
		sort.SliceStable(byAge, func(a, b int) bool { return byAge[a].CreateTime.Before(byAge[b].CreateTime) })
		for _, im := range byAge {
			x.owned[region][im.ID] = im
			if src := im.Tags[plan.TagSource]; src != "" {
				x.byTag[region][src] = append(x.byTag[region][src], im)
			}
			if im.AGFI != "" {
				x.byAGFI[region][im.AGFI] = append(x.byAGFI[region][im.AGFI], im)
			}
			if k := im.Tags[plan.TagBuild]; k != "" {
				if x.byBuild[region] == nil {
					x.byBuild[region] = map[string][]*Image{}
				}
				x.byBuild[region][k] = append(x.byBuild[region][k], im)
			}
		}
	}
	return x
}

// source finds an explicit source AFI and says why it cannot be copied, if it
// cannot.
func (x *inventoryIndex) source(inv *Inventory, region, id string) (*Image, string) {
	if im, ok := x.owned[region][id]; ok {
		if im.State != StateAvailable {
			msg := fmt.Sprintf("source %s in %s is %s, not available", id, region, im.State)
			if im.Message != "" {
				msg += ": " + im.Message
			}
			return im, msg
		}
		return im, ""
	}
	info, ok := inv.Foreign[plan.SourceKey(region, id)]
	if info.Err != "" {
		return nil, fmt.Sprintf("source %s in %s could not be described: %s", id, region, info.Err)
	}
	if !ok || info.Image == nil {
		return nil, fmt.Sprintf("source %s not found in %s (or not visible to account %s)", id, region, inv.Account)
	}
	im := info.Image
	if im.Public {
		return im, fmt.Sprintf("source %s in %s is public but owned by %s; only the owner can copy an AFI", id, region, im.OwnerID)
	}
	return im, fmt.Sprintf("source %s in %s is shared with this account but owned by %s; only the owner can copy an AFI", id, region, im.OwnerID)
}

// build finds the AFI a build target's build made, by its plan.TagBuild key
// in the source region: an available one, else a pending one, else the
// latest that failed. It returns (nil, "") when there is none: the build is
// still to be made. why says why the AFI cannot be copied (yet), as source
// does; a failed build is final, since afisync builds an input once.
func (x *inventoryIndex) build(inv *Inventory, t plan.Target) (im *Image, why string) {
	if r, ok := inv.Unlisted[t.SourceRegion]; ok {
		// Whether the build exists cannot be known: never build blind.
		return nil, "could not list the AFIs in " + t.SourceRegion + " to find the build: " + r
	}
	for _, b := range x.byBuild[t.SourceRegion][BuildKey(t.Build, t.Name)] {
		switch {
		case b.State == StateAvailable:
			return b, ""
		case im == nil || im.State != StatePending:
			im = b
		}
	}
	switch {
	case im == nil:
		return nil, ""
	case im.State == StateFailed:
		why = "build " + im.ID + " failed"
		if im.Message != "" {
			why += ": " + im.Message
		}
		return im, why + "; afisync builds an input once: upload the fixed DCP under a new key and point build.input at it"
	}
	return im, fmt.Sprintf("build %s in %s is %s, not available", im.ID, t.SourceRegion, im.State)
}

// match returns the owned, available AFIs in region that a selector picks,
// by ID. Copies made by afisync (carrying afisync:source) are not sources.
func (x *inventoryIndex) match(region string, sel *plan.Selector) []*Image {
	var out []*Image
	for _, im := range x.sorted[region] {
		if im.State != StateAvailable || im.Tags[plan.TagSource] != "" {
			continue
		}
		if matches(sel, im) {
			out = append(out, im)
		}
	}
	return out
}
