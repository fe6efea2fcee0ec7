package executor

import (
	"context"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// update is a set of attribute changes for one copy.
type update struct {
	res     *result
	region  string
	id      string
	updates reconcile.Updates
}

// op is one AWS call that applies (part of) the updates of one or more
// copies.
type op struct {
	res []*result
	do  func(context.Context) error
}

// apply makes the calls that carry out a set of updates, batching where AWS
// allows: one CreateTags for every copy in a region that needs the same tags
// (likewise DeleteTags), one ModifyFpgaImageAttribute per copy for all its
// sharing changes, one per name or description. It returns the first error
// of each result whose updates did not all apply.
//
// Tags are written last, in one CreateTags per region and tag set, after
// every other call of the copies succeeded or failed: the sharing digest
// (plan.TagSharing) says sharing was applied, so it goes only on copies
// whose other calls all succeeded (failing to write it is not the copy's
// failure: the next run reads the copy's load permissions instead).
func (r *run) apply(ctx context.Context, us []update) map[*result]error {
	first := make([]update, 0, len(us))
	for _, u := range us {
		f := u
		f.updates = nil
		for _, x := range u.updates {
			if x.Kind != reconcile.UpdateTag {
				f.updates = append(f.updates, x)
			}
		}
		first = append(first, f)
	}
	errs := r.call(ctx, r.ops(first))
	tags := make([]update, 0, len(us))
	for _, u := range us {
		t := u
		t.updates = nil
		for _, x := range u.updates {
			if x.Kind == reconcile.UpdateTag && (x.Key != plan.TagSharing || errs[u.res] == nil) {
				t.updates = append(t.updates, x)
			}
		}
		tags = append(tags, t)
	}
	for res, err := range r.call(ctx, r.ops(tags)) {
		if errs[res] == nil {
			errs[res] = err
		}
	}
	return errs
}

// ops turns updates into calls, tags batched by region and tag set.
func (r *run) ops(us []update) []op {
	var ops []op
	type group struct {
		region string
		ids    []string
		res    []*result
		tags   map[string]string
		keys   []string
	}
	tagGroups := map[string]*group{}
	untagGroups := map[string]*group{}
	var order []string // keys of both maps in first-seen order
	for _, u := range us {
		adds, removes, own := r.copyOps(u)
		ops = append(ops, own...)
		if len(adds) > 0 {
			k := "tag\x00" + u.region + "\x00" + canonical(adds)
			g := tagGroups[k]
			if g == nil {
				g = &group{region: u.region, tags: adds}
				tagGroups[k] = g
				order = append(order, k)
			}
			g.ids, g.res = append(g.ids, u.id), append(g.res, u.res)
		}
		if len(removes) > 0 {
			sort.Strings(removes)
			k := "untag\x00" + u.region + "\x00" + strings.Join(removes, "\x00")
			g := untagGroups[k]
			if g == nil {
				g = &group{region: u.region, keys: removes}
				untagGroups[k] = g
				order = append(order, k)
			}
			g.ids, g.res = append(g.ids, u.id), append(g.res, u.res)
		}
	}
	for _, k := range order {
		g, untag := tagGroups[k], false
		if g == nil {
			g, untag = untagGroups[k], true
		}
		for start := 0; start < len(g.ids); start += afi.MaxTagResources {
			end := min(start+afi.MaxTagResources, len(g.ids))
			ids, res := g.ids[start:end], g.res[start:end]
			if untag {
				ops = append(ops, op{res, func(ctx context.Context) error { return r.c.DeleteTags(ctx, g.region, ids, g.keys) }})
			} else {
				ops = append(ops, op{res, func(ctx context.Context) error { return r.c.CreateTags(ctx, g.region, ids, g.tags) }})
			}
		}
	}
	return ops
}

// copyOps sorts one copy's updates: the tags to add and the keys to remove
// (which ops batches with other copies'), and the calls of its own: one for
// all its sharing changes, one per name or description.
func (r *run) copyOps(u update) (adds map[string]string, removes []string, ops []op) {
	adds = map[string]string{}
	var sh afi.Sharing
	for _, x := range u.updates {
		switch x.Kind {
		case reconcile.UpdateTag:
			adds[x.Key] = x.Value
		case reconcile.UpdateUntag:
			removes = append(removes, x.Key)
		case reconcile.UpdateShare:
			if x.Group {
				sh.AddGroups = append(sh.AddGroups, x.Key)
			} else {
				sh.AddUsers = append(sh.AddUsers, x.Key)
			}
		case reconcile.UpdateUnshare:
			if x.Group {
				sh.RemoveGroups = append(sh.RemoveGroups, x.Key)
			} else {
				sh.RemoveUsers = append(sh.RemoveUsers, x.Key)
			}
		case reconcile.UpdateName:
			ops = append(ops, op{[]*result{u.res}, func(ctx context.Context) error { return r.c.SetName(ctx, u.region, u.id, x.Value) }})
		case reconcile.UpdateDescription:
			ops = append(ops, op{[]*result{u.res}, func(ctx context.Context) error { return r.c.SetDescription(ctx, u.region, u.id, x.Value) }})
		}
	}
	if !sh.Empty() {
		ops = append(ops, op{[]*result{u.res}, func(ctx context.Context) error { return r.c.ModifySharing(ctx, u.region, u.id, sh) }})
	}
	return adds, removes, ops
}

// call makes the calls, at most Concurrency at once, and returns the first
// error of each result whose calls did not all succeed (or did not run, when
// ctx is done first).
func (r *run) call(ctx context.Context, ops []op) map[*result]error {
	var mu sync.Mutex
	errs := map[*result]error{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.Concurrency)
	for _, o := range ops {
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil
			}
			if err := o.do(r.fin); err != nil {
				mu.Lock()
				for _, res := range o.res {
					if errs[res] == nil {
						errs[res] = err
					}
				}
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	if ctx.Err() != nil {
		// Interrupted before every call was made: say so for the copies
		// whose calls did not run.
		for _, o := range ops {
			for _, res := range o.res {
				if errs[res] == nil {
					errs[res] = ctx.Err()
				}
			}
		}
	}
	return errs
}

// canonical renders a tag map in a stable order, as a grouping key.
func canonical(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	return b.String()
}

// updates lists the updates the diff planned. It is taken before copies
// start: their steps then change the results.
func (r *run) updates() []update {
	var us []update
	for _, res := range r.results {
		switch a := res.ch.Action; {
		case a == reconcile.ActionUpdate || a == reconcile.ActionAdopt,
			a == reconcile.ActionWait && len(res.ch.Updates) > 0, // claiming another plan's copy in flight
			a == reconcile.ActionNone && len(res.ch.Updates) > 0: // recording the sharing digest
			us = append(us, update{res: res, region: res.ch.Copy.Region, id: res.ch.Copy.ID, updates: res.ch.Updates})
		}
	}
	return us
}

// updateAll converges the attributes of every available copy the diff found
// out of line with the plan, and adopts copies made by others.
func (r *run) updateAll(ctx context.Context, us []update) {
	if len(us) == 0 {
		return
	}
	r.log.Info("updating", "copies", len(us))
	errs := r.apply(ctx, us)
	for _, u := range us {
		if err := errs[u.res]; err != nil {
			r.set(u.res, report.StatusFailed, "update "+u.id+" ("+u.updates.String()+"): "+r.callMessage(err))
			continue
		}
		if u.res.ch.Action == reconcile.ActionNone {
			continue // bookkeeping: still in sync
		}
		if u.res.ch.Action == reconcile.ActionWait {
			r.mu.Lock()
			u.res.msg = u.res.ch.Reason + "; claimed (" + u.updates.String() + ")"
			r.mu.Unlock()
			continue
		}
		s := report.StatusUpdated
		if u.res.ch.Action == reconcile.ActionAdopt {
			s = report.StatusAdopted
		}
		msg := u.updates.String()
		if len(u.res.ch.Kept) > 0 {
			msg += "; " + strings.Join(u.res.ch.Kept, "; ")
		}
		r.set(u.res, s, msg)
	}
	r.progress(PhaseCopying)
}

// loadPermissions looks up the load permissions of copies whose sharing the
// diff must judge, at most Concurrency at once, into inv. It returns a
// message for each copy (keyed like Inventory.LoadPermissions) whose lookup
// failed.
func (r *run) loadPermissions(ctx context.Context, inv *reconcile.Inventory, copies []reconcile.Image) map[string]string {
	var mu sync.Mutex
	failed := map[string]string{}
	var g errgroup.Group
	g.SetLimit(r.o.Concurrency)
	for _, cp := range copies {
		g.Go(func() error {
			lp, err := r.c.LoadPermissions(ctx, cp.Region, cp.ID)
			mu.Lock()
			defer mu.Unlock()
			k := plan.SourceKey(cp.Region, cp.ID)
			if err != nil {
				failed[k] = "could not read the load permissions of " + cp.ID + ": " + apiMessage(err)
				return nil
			}
			inv.LoadPermissions[k] = lp
			return nil
		})
	}
	_ = g.Wait()
	return failed
}
