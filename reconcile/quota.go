package reconcile

import (
	"fmt"
	"sort"
	"time"

	"github.com/afisync/afisync/plan"
)

// Where a region's AFI limit comes from (Limit.Source).
const (
	LimitFromFlag          = "flag"           // --afi-limit
	LimitFromPlan          = "plan"           // settings.quota
	LimitFromServiceQuotas = "service-quotas" // the account's Service Quota
	LimitFromDefault       = "default"        // plan.DefaultAFILimit
)

// Limit is the number of AFIs the account may hold in one region, and where
// the number comes from (LimitFrom…).
type Limit struct {
	AFIs   int
	Source string
}

// Headroom is one region's AFI quota as this run sees it: what the account
// holds there (owned AFIs in any state; deleted ones are gone), the limit,
// what the run would add and delete, and what is left after it.
type Headroom struct {
	Region string
	Held   int
	Limit  Limit
	// Copies counts the AFIs the run would create in the region: copies
	// (and retries) into it, and builds whose source region it is.
	Copies int
	// Deletes counts the copies the run would delete there first: prunes
	// and expirations, not releases (the copy stays) nor public copies
	// without PrunePublic.
	Deletes int
}

// After is what the region would hold after the run.
func (h Headroom) After() int { return h.Held + h.Copies - h.Deletes }

// Room is what is left under the limit after the run (negative: over).
func (h Headroom) Room() int { return h.Limit.AFIs - h.After() }

// Over reports whether the run would leave the region over its limit.
func (h Headroom) Over() bool { return h.After() > h.Limit.AFIs }

// Enforced reports whether afisync refuses copies past the limit: a limit
// the user gave (flag, plan) or Service Quotas reported. The documented
// default is only a guess at the account's quota (it may have been raised),
// so past it the run warns and AWS has the last word.
func (h Headroom) Enforced() bool { return h.Limit.Source != LimitFromDefault }

// DefaultWarning is the warning of a region the run would leave past the
// default limit, which afisync does not enforce.
func (h Headroom) DefaultWarning() string {
	return fmt.Sprintf("%s would hold %d AFIs, past the default limit of %d (the account's quota may be higher): AWS refuses copies past the real quota; set settings.quota or --afi-limit to have afisync refuse them first",
		h.Region, h.After(), h.Limit.AFIs)
}

// OverAtStart reports whether the region already holds more than its limit.
func (h Headroom) OverAtStart() bool { return h.Held > h.Limit.AFIs }

// Refusal is the message of a copy refused for h's region.
func (h Headroom) Refusal() string {
	return fmt.Sprintf("not copied: %s holds %d AFIs and its limit is %d (%s); this run would create %d and delete %d, leaving %d, %d over. "+
		"Raise the limit (--afi-limit, settings.quota), delete the copies the plan no longer lists (--prune), or add a retain: rule",
		h.Region, h.Held, h.Limit.AFIs, h.Limit.Source, h.Copies, h.Deletes, h.After(), -h.Room())
}

// Warning is the report warning of a region that holds more than its limit
// at the start of the run.
func (h Headroom) Warning() string {
	return fmt.Sprintf("%s holds %d AFIs, over its limit of %d (%s): no copy can be made there until %d are deleted",
		h.Region, h.Held, h.Limit.AFIs, h.Limit.Source, h.Held-h.Limit.AFIs)
}

// creates reports whether a change would create an AFI in its region.
func creates(a Action) bool {
	switch a {
	case ActionCopy, ActionRetry, ActionBuild, ActionAwaitSource:
		return true
	}
	return false
}

// Headrooms computes the quota of every region the run reads that holds an
// AFI or would get one, sorted by region, from the inventory and the diff.
// It is pure.
func Headrooms(inv *Inventory, d *DiffResult, limit func(region string) Limit, prunePublic bool) []Headroom {
	hs := map[string]*Headroom{}
	get := func(region string) *Headroom {
		h, ok := hs[region]
		if !ok {
			h = &Headroom{Region: region, Held: len(inv.Owned[region]), Limit: limit(region)}
			hs[region] = h
		}
		return h
	}
	for region, ims := range inv.Owned {
		if len(ims) > 0 {
			get(region)
		}
	}
	builds := map[string]bool{}
	for _, c := range d.Changes {
		if !creates(c.Action) {
			continue
		}
		get(c.Target.Region).Copies++
		if c.Action == ActionBuild {
			k := c.Target.SourceRegion + "/" + BuildKey(c.Target.Build, c.Target.Name)
			if !builds[k] {
				builds[k] = true
				get(c.Target.SourceRegion).Copies++
			}
		}
	}
	for _, p := range d.Prunes {
		if len(p.Others) == 0 && (!p.Copy.Public || prunePublic) {
			get(p.Copy.Region).Deletes++
		}
	}
	out := make([]Headroom, 0, len(hs))
	for _, h := range hs {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

// Refuse turns every change that would create an AFI in a region the run
// would leave over its enforced limit into ActionFail with the region's Refusal:
// such a region gets no copy at all, the others go on. A build whose source
// region is over is refused with it. It returns the regions refused.
func Refuse(d *DiffResult, hs []Headroom) []string {
	over := map[string]*Headroom{}
	var regions []string
	for i := range hs {
		if hs[i].Over() && hs[i].Copies > 0 && hs[i].Enforced() {
			over[hs[i].Region] = &hs[i]
			regions = append(regions, hs[i].Region)
		}
	}
	if len(over) == 0 {
		return nil
	}
	for i := range d.Changes {
		c := &d.Changes[i]
		if !creates(c.Action) {
			continue
		}
		h := over[c.Target.Region]
		if h == nil && c.Action == ActionBuild {
			h = over[c.Target.SourceRegion]
		}
		if h != nil {
			c.Action, c.Reason = ActionFail, h.Refusal()
		}
	}
	return regions
}

// retained applies a retention rule to the sources a selector matched: it
// returns those the rule keeps (every source whose name the rule's match
// does not pick, the KeepLast newest of the others, and those created
// less than KeepNewerThan before now) and those that expire. A source of
// unknown age counts as new.
func retained(r *plan.Retain, ms []*Image, now time.Time) (kept, gone []*Image) {
	var picked []*Image
	for _, m := range ms {
		if r.NamePrefix != "" && !hasPrefix(m.Name, r.NamePrefix) {
			kept = append(kept, m)
			continue
		}
		picked = append(picked, m)
	}
	sort.SliceStable(picked, func(i, j int) bool {
		a, b := picked[i].CreateTime, picked[j].CreateTime
		if !a.Equal(b) {
			return a.After(b)
		}
		return picked[i].ID > picked[j].ID
	})
	for i, m := range picked {
		keep := (r.KeepLast > 0 && i < r.KeepLast) ||
			(r.KeepNewerThan > 0 && (m.CreateTime.IsZero() || now.Sub(m.CreateTime) < r.KeepNewerThan))
		if keep {
			kept = append(kept, m)
		} else {
			gone = append(gone, m)
		}
	}
	// Keep the selector's order (by ID) for the targets.
	sort.Slice(kept, func(i, j int) bool { return kept[i].ID < kept[j].ID })
	return kept, gone
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
