package executor

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// A consumer check: a copy made in one lane and shared with another lane's
// account, looked for with that account's credentials.
type consumerCheck struct {
	owner  *lane
	res    *result
	target *report.Target // in owner.rep.Targets
}

// checkConsumers looks, for every available copy shared with an account
// of the plan, whether that account sees it with its own credentials: one
// batched DescribeFpgaImages per consumer account and region, and one more
// a poll interval later for the copies not seen at first (EC2 is
// eventually consistent). A copy the consumer still cannot see fails its
// target; one it sees says so in the target's message; one the run was
// stopped (interrupted, deadline) before seeing says it was not checked.
func (m *multi) checkConsumers(ctx context.Context, lanes []*lane) {
	byName := map[string]*lane{}
	for _, ln := range lanes {
		byName[ln.Name] = ln
	}
	type key struct{ consumer, region string }
	checks := map[key][]consumerCheck{}
	for _, owner := range lanes {
		if owner.rep == nil {
			continue
		}
		index := map[string]*report.Target{}
		for i := range owner.rep.Targets {
			t := &owner.rep.Targets[i]
			index[targetKey(t.SourceRegion, t.SourceAFI, t.Region)] = t
		}
		for _, res := range owner.results {
			if res.prune != nil || res.copyID == "" {
				continue
			}
			t := res.ch.Target
			rt := index[targetKey(t.SourceRegion, t.SourceAFI, t.Region)]
			if rt == nil || !rt.Status.Available() || t.Entry >= len(owner.sub.AFIs) {
				continue
			}
			for _, name := range owner.sub.AFIs[t.Entry].ShareWithAccounts {
				c := byName[name]
				switch {
				case name == owner.Name || c == nil:
					continue
				case c.err != "":
					appendNote(rt, fmt.Sprintf("not checked from %s's side: its credentials failed", name))
					continue
				}
				k := key{name, t.Region}
				checks[k] = append(checks[k], consumerCheck{owner: owner, res: res, target: rt})
			}
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k, cs := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := byName[k.consumer]
			ids := make([]string, 0, len(cs))
			for _, ch := range cs {
				if !contains(ids, ch.res.copyID) {
					ids = append(ids, ch.res.copyID)
				}
			}
			sort.Strings(ids)
			seen, err := c.Client.Visible(ctx, k.region, ids)
			if missing := unseen(seen, ids); err == nil && len(missing) > 0 && m.o.Clock.Sleep(ctx, m.o.PollInterval) == nil {
				// EC2 is eventually consistent: a load permission just
				// granted may show on the consumer's side a moment
				// later. Look once more, a poll interval on, for the
				// copies not seen.
				if again, err := c.Client.Visible(ctx, k.region, missing); err == nil {
					for id, ok := range again {
						seen[id] = seen[id] || ok
					}
				}
			}
			// Stopped (interrupted, deadline) during the check: what was
			// not seen is not known to be unseen.
			stopped := ctx.Err() != nil
			mu.Lock()
			defer mu.Unlock()
			who := fmt.Sprintf("%s (%s)", k.consumer, c.id)
			for _, ch := range cs {
				switch {
				case stopped && (err != nil || !seen[ch.res.copyID]):
					appendNote(ch.target, fmt.Sprintf("not checked from %s's side: the run was stopped first", k.consumer))
				case err != nil:
					ch.target.Status = report.StatusFailed
					appendNote(ch.target, fmt.Sprintf("shared with %s but %s could not check it: %s", who, k.consumer, apiMessage(err)))
				case seen[ch.res.copyID]:
					appendNote(ch.target, k.consumer+" sees it")
				default:
					ch.target.Status = report.StatusFailed
					appendNote(ch.target, fmt.Sprintf("shared with %s but %s cannot see it: DescribeFpgaImages in %s with %s's credentials does not find %s",
						who, k.consumer, k.region, k.consumer, ch.res.copyID))
				}
			}
		}()
	}
	wg.Wait()
	for _, ln := range lanes {
		if ln.rep != nil {
			ln.rep.Finish()
		}
	}
}

// unseen lists the ids that seen does not mark as seen.
func unseen(seen map[string]bool, ids []string) []string {
	var out []string
	for _, id := range ids {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out
}

// appendNote adds a sentence to a target's message.
func appendNote(t *report.Target, s string) {
	if t.Message == "" {
		t.Message = s
		return
	}
	t.Message += "; " + s
}

func targetKey(sourceRegion, sourceAFI, region string) string {
	return plan.SourceKey(sourceRegion, sourceAFI) + ">" + region
}
