package reconcile

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/afisync/afisync/plan"
)

// Action says what a Change will do to its target.
type Action string

// The actions Diff can plan.
const (
	ActionNone  Action = "none"  // the copy exists and is available
	ActionCopy  Action = "copy"  // no copy exists: copy it
	ActionWait  Action = "wait"  // a copy of ours is pending
	ActionRetry Action = "retry" // our earlier copy failed for a transient reason: copy again
	ActionSkip  Action = "skip"  // the source cannot be copied (missing, not owned, not available)
	// ActionAwaitSource: the source is the caller's and still pending
	// (being built, or a copy in flight): copy it once it is available.
	ActionAwaitSource Action = "await-source"
	ActionFail        Action = "fail" // our earlier copy failed for a reason a retry will not cure
	// ActionUpdate: the copy is available but its tags, name, description or
	// sharing differ from the plan (Change.Updates says how).
	ActionUpdate Action = "update"
	// ActionAdopt: an available copy with the source's AGFI that afisync
	// did not make; it gets the management tags (and the plan's attributes)
	// so that later runs manage it.
	ActionAdopt Action = "adopt"
	// ActionBuild: the target's source is a build that no AFI in the
	// source region carries the key of (plan.TagBuild): build it
	// (CreateFpgaImage, once for all the targets of the entry), then copy
	// it once it is available.
	ActionBuild Action = "build"
)

// Change is the planned action for one concrete target.
type Change struct {
	Target plan.Target // concrete: SourceAFI is always set
	Action Action
	// Reason is a user-facing sentence; it quotes AWS's own message where
	// there is one.
	Reason string
	// Source is the source AFI as described (nil when it does not exist).
	Source *Image
	// Copy is the existing copy Diff found in the destination region, if any.
	Copy *Image
	// Attempt is the attempt number the next CopyFpgaImage uses (1 for a
	// first copy); it is part of the ClientToken.
	Attempt int
	// Selector is the selector that produced this target, if any.
	Selector *plan.Selector
	// Updates lists the attribute changes of ActionUpdate and ActionAdopt,
	// and, for ActionWait, this plan's claim when the pending copy lacks it.
	Updates Updates
	// Kept says what Converge left alone on a copy other plans claim too.
	Kept []string
	// Failed lists the IDs of this target's copies that ended failed,
	// oldest first: a ClientToken that leads back to one of them is used
	// up.
	Failed []string
}

// DiffResult is Diff's answer: one change per concrete target, in the order
// of the plan, and warnings (such as a selector that matched nothing).
type DiffResult struct {
	Changes  []Change
	Warnings []string
	// NeedPermissions lists available copies whose sharing Diff could not
	// judge without their load permissions: look them up, put them in
	// Inventory.LoadPermissions and call Diff again.
	NeedPermissions []Image
	// Prunes lists this plan's copies that the plan no longer asks for (with
	// DiffOptions.Prune).
	Prunes []Prune
}

// Prune is a copy this plan claims that the plan no longer lists (or a
// failed copy of a target that is now satisfied). When Others is not
// empty, other plans claim the copy too: only this plan's claim goes, and
// the copy stays.
type Prune struct {
	Copy         Image
	SourceRegion string
	SourceAFI    string
	Reason       string
	Others       []string
	// Expire is set on a copy of a source an entry's retention rule
	// expired (plan.Retain): it goes without --prune, with the same
	// safety (claims, public copies, the AFIs the plan lists).
	Expire bool
}

// DiffOptions tune Diff.
type DiffOptions struct {
	// Retries is how many new attempts a target gets after copies of it
	// failed for a transient reason (so at most Retries+1 failed copies).
	Retries int
	// PlanName is the plan's name: the afisync:plan tag value.
	PlanName string
	// Prune asks for DiffResult.Prunes.
	Prune bool
	// Refresh reads the load permissions of every copy whose sharing the
	// plan sets, even where the plan.TagSharing digest says they were
	// applied.
	Refresh bool
	// Now is the time retention rules measure keep_newer_than from.
	Now time.Time
}

// Diff compares desired targets (from Plan.Targets) with the inventory and
// returns the change each target needs. It is pure: no I/O, no clock.
//
// Copies in a destination region are recognised first by the afisync:source
// management tag (which also finds pending and failed copies, which AWS shows
// without a global ID) and then by the source's AGFI (copies made by hand or
// by other tools count as present).
func Diff(targets []plan.Target, inv *Inventory, opt DiffOptions) *DiffResult {
	idx := newInventoryIndex(inv)
	matches, n := resolveSelectors(targets, idx)
	res := &DiffResult{Changes: make([]Change, 0, n)}
	seen := make(map[string]bool, n) // source key + "→" + region
	add := func(t plan.Target, sel *plan.Selector, src *Image, srcErr string) {
		key := plan.SourceKey(t.SourceRegion, t.SourceAFI) + "→" + t.Region
		if seen[key] {
			return
		}
		seen[key] = true
		c := diffOne(t, src, srcErr, idx, inv, opt)
		c.Selector = sel
		if c.Copy != nil && (c.Action == ActionNone || c.Action == ActionUpdate || c.Action == ActionAdopt) &&
			needsLoadPermissions(c.Target) && inv.LoadPermissions[plan.SourceKey(c.Copy.Region, c.Copy.ID)] == nil &&
			!digestTrusted(c.Target, c.Copy, opt) {
			res.NeedPermissions = append(res.NeedPermissions, *c.Copy)
		}
		res.Changes = append(res.Changes, c)
	}
	// Explicit entries and builds first, so that they win over a selector
	// that matches the same AFI.
	for _, t := range targets {
		switch {
		case t.Selector != nil:
			continue
		case t.Build != nil:
			src, why := idx.build(inv, t)
			if src == nil {
				// Not built yet, or not known whether it is.
				key := "build:" + t.SourceRegion + "/" + BuildKey(t.Build, t.Name) + "→" + t.Region
				if !seen[key] {
					seen[key] = true
					c := Change{Target: t, Action: ActionBuild, Attempt: 1,
						Reason: fmt.Sprintf("build %q in %s (CreateFpgaImage), then copy it", t.Name, t.SourceRegion)}
					if why != "" {
						c.Action, c.Reason = ActionFail, why
					}
					res.Changes = append(res.Changes, c)
				}
				continue
			}
			t.SourceAFI = src.ID
			add(t, nil, src, why)
		default:
			src, why := idx.source(inv, t.SourceRegion, t.SourceAFI)
			add(t, nil, src, why)
		}
	}
	warned := map[string]bool{}
	// expired: the sources retention rules expired, with the rule.
	expired := map[string]*plan.Retain{}
	refused := map[string]bool{}
	for _, t := range targets {
		if t.Selector == nil {
			continue
		}
		if why, ok := inv.Unlisted[t.SourceRegion]; ok {
			// The selector cannot be resolved: the target fails rather
			// than silently matching nothing.
			key := "select:" + t.Selector.String() + "@" + t.SourceRegion + "→" + t.Region
			if !seen[key] {
				seen[key] = true
				res.Changes = append(res.Changes, Change{Target: t, Selector: t.Selector, Action: ActionFail,
					Reason: "could not list the AFIs in " + t.SourceRegion + " to resolve the selector: " + why})
			}
			continue
		}
		ms := matches[selKey{t.SourceRegion, t.Selector.String()}]
		if len(ms) == 0 {
			w := fmt.Sprintf("selector %s in %s matched no owned, available AFI", t.Selector, t.SourceRegion)
			if !warned[w] {
				warned[w] = true
				res.Warnings = append(res.Warnings, w)
			}
			continue
		}
		if t.Retain != nil {
			kept, gone := retained(t.Retain, ms, opt.Now)
			if len(kept) == 0 {
				// The rule would delete every AFI the entry lists:
				// refuse it rather than empty the regions.
				key := "retain:" + t.Selector.String() + "@" + t.SourceRegion + "→" + t.Region
				if !seen[key] {
					seen[key] = true
					res.Changes = append(res.Changes, Change{Target: t, Selector: t.Selector, Action: ActionFail,
						Reason: fmt.Sprintf("retain %s would expire all %d AFIs that select %s matches in %s: nothing expired, nothing copied; keep more (keep_last, keep_newer_than) or narrow match", t.Retain, len(ms), t.Selector, t.SourceRegion)})
				}
				refused[t.SourceRegion+"\x00"+t.Selector.String()] = true
				continue
			}
			if !refused[t.SourceRegion+"\x00"+t.Selector.String()] {
				for _, g := range gone {
					expired[plan.SourceKey(t.SourceRegion, g.ID)] = t.Retain
				}
			}
			ms = kept
		}
		for _, m := range ms {
			ct := t
			ct.SourceAFI = m.ID
			ct.Selector = nil
			add(ct, t.Selector, m, "")
		}
	}
	switch {
	case (opt.Prune || len(expired) > 0) && len(inv.Unlisted) > 0:
		// What the plan still wants cannot be known everywhere: deleting
		// now could delete a copy that a selector still wants.
		what := "pruning"
		if !opt.Prune {
			what = "expiring"
		}
		res.Warnings = append(res.Warnings, "not "+what+": the AFIs of "+strings.Join(sortedKeys(inv.Unlisted), ", ")+" could not be listed")
	case opt.Prune || len(expired) > 0:
		for _, p := range prunes(res.Changes, idx, opt.PlanName) {
			if r, ok := expired[plan.SourceKey(p.SourceRegion, p.SourceAFI)]; ok {
				p.Expire = true
				p.Reason = "retain " + r.String() + " expired " + plan.SourceKey(p.SourceRegion, p.SourceAFI)
			} else if !opt.Prune {
				continue
			}
			res.Prunes = append(res.Prunes, p)
		}
	}
	return res
}

// selKey names a selector in a source region.
type selKey struct{ region, selector string }

// resolveSelectors resolves each selector once per source region (every
// destination region of an entry shares the matches) and counts the concrete
// targets, so that Diff sizes its result up front: growing a slice of 200,000
// Changes by doubling copies it, and keeps the copies alive, several times
// over.
func resolveSelectors(targets []plan.Target, idx *inventoryIndex) (matches map[selKey][]*Image, n int) {
	matches = map[selKey][]*Image{}
	for _, t := range targets {
		if t.Selector == nil {
			n++
			continue
		}
		k := selKey{t.SourceRegion, t.Selector.String()}
		m, ok := matches[k]
		if !ok {
			m = idx.match(t.SourceRegion, t.Selector)
			matches[k] = m
		}
		n += len(m)
	}
	return matches, n
}

// prunes finds the copies this plan claims whose (source, region) no plan
// target names any more, and failed copies of targets that now have an
// available copy. It never names a source of any target, nor an AFI
// without this plan's claim.
func prunes(changes []Change, idx *inventoryIndex, planName string) []Prune {
	byKey := map[string]*Change{}
	sources := map[string]bool{}
	for i := range changes {
		c := &changes[i]
		byKey[plan.SourceKey(c.Target.SourceRegion, c.Target.SourceAFI)+"→"+c.Target.Region] = c
		sources[plan.SourceKey(c.Target.SourceRegion, c.Target.SourceAFI)] = true
	}
	var out []Prune
	regions := make([]string, 0, len(idx.sorted))
	for r := range idx.sorted {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, region := range regions {
		for _, im := range idx.sorted[region] {
			src := im.Tags[plan.TagSource]
			if !plan.HasClaim(im.Tags, planName) || src == "" || sources[plan.SourceKey(region, im.ID)] {
				continue
			}
			srcRegion, srcAFI, _ := strings.Cut(src, "/")
			p := Prune{Copy: *im, SourceRegion: srcRegion, SourceAFI: srcAFI, Others: plan.OtherClaims(im.Tags, planName)}
			c := byKey[src+"→"+region]
			switch {
			case c == nil:
				p.Reason = "the plan no longer copies " + src + " to " + region
			case im.State == StateFailed && c.Copy != nil && c.Copy.State == StateAvailable:
				p.Reason = "failed copy; " + c.Copy.ID + " is available"
			default:
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

func diffOne(t plan.Target, src *Image, srcErr string, idx *inventoryIndex, inv *Inventory, opt DiffOptions) Change {
	c := Change{Target: t, Source: src}
	for _, r := range []string{t.SourceRegion, t.Region} {
		if why, ok := inv.Unlisted[r]; ok {
			c.Action, c.Reason = ActionFail, "could not list the AFIs in "+r+": "+why
			return c
		}
	}
	if src != nil && src.State == StatePending && src.OwnerID == inv.Account && srcErr != "" {
		what := "source "
		if t.Build != nil {
			what = "build "
		}
		c.Action, c.Reason, c.Attempt = ActionAwaitSource, what+src.ID+" in "+t.SourceRegion+" is still pending", 1
		return c
	}
	if srcErr != "" {
		c.Action, c.Reason = ActionSkip, srcErr
		return c
	}
	ours := idx.byTag[t.Region][plan.SourceKey(t.SourceRegion, t.SourceAFI)]
	var failed []*Image
	var live *Image
	for _, im := range ours {
		switch {
		case im.State == StateFailed:
			failed = append(failed, im)
			c.Failed = append(c.Failed, im.ID)
		case im.State == StateAvailable:
			live = im
		case im.State == StatePending && (live == nil || live.State != StateAvailable):
			live = im
		}
	}
	// Attempt numbers count copies: the k-th copy of a target, after k-1
	// failed ones, is attempt k.
	c.Attempt = len(failed) + 1
	if live != nil {
		c.Copy = live
		if live.State != StateAvailable {
			c.Action, c.Reason = ActionWait, "copy "+live.ID+" is pending"
			if !plan.HasClaim(live.Tags, opt.PlanName) {
				// Another plan's copy in flight: claim it, and wait.
				k := plan.ClaimKey(opt.PlanName)
				c.Updates = Updates{{Kind: UpdateTag, Key: k, Value: opt.PlanName}}
			}
			return c
		}
		c.Updates, c.Kept = ConvergeShared(t, src, live, inv.LoadPermissions[plan.SourceKey(live.Region, live.ID)], opt.PlanName)
		if len(c.Updates) == 0 || c.Updates.bookkeeping() {
			// Recording the sharing digest is bookkeeping, not a change
			// the plan asks for: the sync writes it, the diff is clean.
			c.Action, c.Reason = ActionNone, "copy "+live.ID+" is available"
		} else {
			c.Action, c.Reason = ActionUpdate, c.Updates.String()
		}
		if len(c.Kept) > 0 {
			c.Reason += "; " + strings.Join(c.Kept, "; ")
		}
		return c
	}
	if src.AGFI != "" {
		for _, im := range idx.byAGFI[t.Region][src.AGFI] {
			if im.State == StateAvailable {
				c.Action, c.Copy, c.Attempt = ActionAdopt, im, 0
				c.Updates = Converge(t, src, im, inv.LoadPermissions[plan.SourceKey(im.Region, im.ID)], opt.PlanName)
				c.Reason = "adopt " + im.ID + " (same AGFI, not made by afisync): " + c.Updates.String()
				return c
			}
		}
	}
	if len(failed) == 0 {
		c.Action, c.Reason = ActionCopy, "no copy in "+t.Region
		return c
	}
	last := failed[len(failed)-1]
	c.Copy = last
	retry, reason := NextAfterFailure(len(failed), opt.Retries, last.ID, last.Message)
	c.Action, c.Reason = ActionRetry, reason
	if !retry {
		c.Action, c.Attempt = ActionFail, len(failed)
	}
	return c
}
