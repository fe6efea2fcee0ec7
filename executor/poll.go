package executor

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/afisync/afisync/reconcile"
)

// describeShare is the fraction of a region's DescribeFpgaImages bucket
// (20 calls a second) that polling may spend, so that the account's other
// callers, and afisync's own inventory walks, keep the rest.
const describeShare = 0.05

// describeRate is EC2's refill rate of the DescribeFpgaImages bucket.
const describeRate = 20.0

// A poller follows the pending AFIs of one region — the copies afisync
// waits for and the sources still being built — with one batched
// DescribeFpgaImages a round (more only past afi's per-call ID limit), and
// hands each AFI that settled to the targets waiting for it. It never
// waits for what a target does next: that runs in the target's own
// goroutine, so a slow region or a burst of sharing calls never delays
// another region's polling.
type poller struct {
	r      *run
	region string
	mu     sync.Mutex
	// watch maps an AFI to the targets waiting for it: one for a copy,
	// every target of a source being built.
	watch map[string][]watcher
	kick  chan struct{}
}

// watcher is what a target does when the AFI it waits for settles.
type watcher struct {
	res *result
	on  func(ctx context.Context, res *result, im *reconcile.Image)
}

// watch registers res to hear, through on, when AFI id in region is no
// longer pending (or is gone: im is then nil). The region's poller starts
// on first use.
func (r *run) watch(region, id string, res *result, on func(context.Context, *result, *reconcile.Image)) {
	r.pollMu.Lock()
	pl := r.pollers[region]
	if pl == nil {
		pl = &poller{r: r, region: region, watch: map[string][]watcher{}, kick: make(chan struct{}, 1)}
		r.pollers[region] = pl
		r.pollWG.Add(1)
		go func() {
			defer r.pollWG.Done()
			pl.loop(r.pollCtx)
		}()
	}
	r.pollMu.Unlock()
	r.active.Add(1) // until the watcher is handed its AFI
	pl.mu.Lock()
	pl.watch[id] = append(pl.watch[id], watcher{res, on})
	pl.mu.Unlock()
	select {
	case pl.kick <- struct{}{}:
	default:
	}
}

// ids returns the AFIs being watched, sorted.
func (pl *poller) ids() []string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	ids := make([]string, 0, len(pl.watch))
	for id := range pl.watch {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (pl *poller) take(id string) []watcher {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	ws := pl.watch[id]
	delete(pl.watch, id)
	return ws
}

// interval is the pause before the next round: Options.PollInterval, or
// longer when the round needs several calls, so that polling spends at most
// describeShare of the region's bucket; with ±20% jitter, so that pollers
// of several runs do not fall in step.
func (pl *poller) interval(n int) time.Duration {
	calls := float64((n + describeBatch - 1) / describeBatch)
	d := max(pl.r.o.PollInterval, time.Duration(calls/(describeShare*describeRate*pl.r.o.RateScale)*float64(time.Second)))
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// describeBatch is how many IDs one DescribeFpgaImages of a poll names
// (afi.Client.Describe splits larger sets the same way).
const describeBatch = 200

func (pl *poller) loop(ctx context.Context) {
	r := pl.r
	for {
		ids := pl.ids()
		if len(ids) == 0 {
			select {
			case <-pl.kick:
				continue
			case <-ctx.Done():
				return
			}
		}
		if _, ok := r.o.Clock.(InstantClock); ok {
			select {
			case <-r.busy.zero():
			case <-ctx.Done():
				return
			}
		}
		left := r.deadline.Sub(r.o.Clock.Now())
		if err := r.o.Clock.Sleep(ctx, min(pl.interval(len(ids)), max(left, 0))); err != nil {
			return
		}
		if !r.o.Clock.Now().Before(r.deadline) {
			r.cancel(errDeadline) // on the run's clock
			return
		}
		r.progress(PhaseWaiting)
		r.flushDigests(ctx, pl.region)
		ids = pl.ids()
		found, missing, err := r.c.Describe(ctx, pl.region, ids)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("poll failed; will try again", "region", pl.region, "err", apiMessage(err))
			}
			continue
		}
		for i := range found {
			im := &found[i]
			if im.State == reconcile.StatePending {
				continue
			}
			for _, w := range pl.take(im.ID) {
				r.step(w.res, func(ctx context.Context) { w.on(ctx, w.res, im) })
				r.active.Done() // the watch; the step is active now
			}
		}
		for _, id := range ids {
			if slices.Contains(missing, id) {
				for _, w := range pl.take(id) {
					r.step(w.res, func(ctx context.Context) { w.on(ctx, w.res, nil) })
					r.active.Done()
				}
			}
		}
	}
}
