package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// scaled runs syncs against an Env the way the CLI does, each with its own
// client (its own pacer, as a process of its own has), with afisync's
// pacing, retry backoff, per-attempt deadline, run deadline, --wait
// polling and stop grace scaled like the simulator's buckets.
type scaled struct {
	e     *Env
	scale float64
}

func (s scaled) d(d time.Duration) time.Duration { return time.Duration(float64(d) / s.scale) }

// backoff is afisync's wait before another round of throttled attempts
// (afi's throttleBackoff: 1 s doubling to afi.DefaultMaxBackoff, jittered
// between half and all of it), scaled; it stands in for the SDK's delay
// between attempts too, which is of the same size (up to 2^attempt s,
// capped at the same maximum).
func (s scaled) backoff(n int, _ error) time.Duration {
	d := min(time.Second<<min(max(n, 1)-1, 5), afi.DefaultMaxBackoff)
	return s.d(d/2 + rand.N(d/2+1))
}

// sync runs one sync of p with o's flags (Wait, Prune, PrunePublic,
// DryRun) and the CLI's defaults for the rest.
func (s scaled) sync(ctx context.Context, p *plan.Plan, o executor.Options) (*report.Report, error) {
	cl, err := s.e.Client(ctx, afi.Config{RateScale: s.scale, AttemptTimeout: s.d(afi.DefaultAttemptTimeout), Backoff: s.backoff})
	if err != nil {
		return nil, err
	}
	o = executor.Resolve(p, executor.Overrides{}, o)
	o.Timeout = s.d(o.Timeout)
	o.PollInterval = s.d(executor.DefaultPollInterval)
	o.RateScale = s.scale
	o.StopGrace = s.d(executor.DefaultStopGrace)
	rep, err := executor.Run(ctx, cl, p, o)
	if err != nil {
		return rep, fmt.Errorf("plan %s: %w", p.Name, err)
	}
	return rep, nil
}

// syncAll runs one sync of each plan at once, as separate processes would,
// os[i] being plan i's flags.
func (s scaled) syncAll(ctx context.Context, ps []*plan.Plan, os []executor.Options) ([]*report.Report, error) {
	reps := make([]*report.Report, len(ps))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = s.sync(ctx, p, os[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return reps, err
		}
	}
	return reps, nil
}

// same is n copies of o.
func same(n int, o executor.Options) []executor.Options {
	out := make([]executor.Options, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// changed counts the targets the reports changed (copied, updated,
// adopted, pruned, released, or would in a dry run).
func changed(reps ...*report.Report) int {
	n := 0
	for _, r := range reps {
		for _, t := range r.Targets {
			if t.Status.Changed() {
				n++
			}
		}
	}
	return n
}

// deletion is a DeleteFpgaImage request as the simulator received it, and
// the copy as it was just before.
type deletion struct {
	id, source, region string
	claims             []string
	public             bool
}

// deletions records every DeleteFpgaImage request sent to e. Register it
// after the hooks that change the world in the middle of a run, so that it
// sees the copy as the simulator does when it serves the request.
type deletions struct {
	e  *Env
	mu sync.Mutex
	ds []deletion
}

func trackDeletions(e *Env) *deletions {
	d := &deletions{e: e}
	e.OnCall(func(action string, params url.Values) {
		if action != "DeleteFpgaImage" {
			return
		}
		im, ok := e.Sim.Image(params.Get("FpgaImageId"))
		if !ok {
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.ds = append(d.ds, deletion{id: im.ID, source: im.SourceID, region: im.Region, claims: plan.Claims(im.Tags), public: im.Public})
	})
	return d
}

// done returns the recorded requests whose copy is gone, one per copy.
func (d *deletions) done() []deletion {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []deletion
	seen := map[string]bool{}
	for i := len(d.ds) - 1; i >= 0; i-- { // the last request before the copy went
		x := d.ds[i]
		if _, live := d.e.Sim.Image(x.id); live || seen[x.id] {
			continue
		}
		seen[x.id] = true
		out = append(out, x)
	}
	return out
}

// ClaimInvariants are what several plans promise together about the
// copies they list.
type ClaimInvariants struct {
	// Targets counts the distinct (source, destination) pairs that at
	// least one plan lists.
	Targets int
	// Converged counts targets with exactly one live copy that carries
	// afisync:source and the claim of every plan that lists the target.
	Converged int
	// Duplicates counts targets with more than one live copy. Must be 0.
	Duplicates int
	// Failed counts targets without a live copy that a report said were
	// bad; Lost those that no report did. Lost must be 0.
	Failed, Lost int
	// MissingClaims counts (plan, target) pairs where the plan lists the
	// target and its live copy lacks the plan's claim.
	MissingClaims int
	// StaleClaims counts claims, on live copies, of plans that pruned and
	// no longer list the copy's target.
	StaleClaims int
	// WrongDeletions counts copies deleted whose target a plan still
	// lists, or that carried another plan's claim when deleted. Must be 0.
	WrongDeletions int
}

// checkClaims inspects the world against plans as they now read; pruned
// names the plans that ran with --prune (their claims must not outlive
// their entries); mayDelete names the plans whose claims a deleted copy
// may have carried.
func (e *Env) checkClaims(plans []*plan.Plan, pruned []string, d *deletions, mayDelete []string, reps ...*report.Report) ClaimInvariants {
	type key struct{ src, region string }
	listers := map[key][]string{}
	for _, p := range plans {
		for _, t := range p.Targets() {
			k := key{t.SourceAFI, t.Region}
			if !slices.Contains(listers[k], p.Name) {
				listers[k] = append(listers[k], p.Name)
			}
		}
	}
	reported := map[key]bool{}
	for _, r := range reps {
		for _, t := range r.Targets {
			if t.Status.Bad() {
				reported[key{t.SourceAFI, t.Region}] = true
			}
		}
	}
	live := map[key][]ec2sim.Image{}
	for _, im := range e.Sim.Images(ec2sim.DefaultAccount, "") {
		if im.SourceID != "" && (im.State == ec2sim.StatePending || im.State == ec2sim.StateAvailable) {
			k := key{im.SourceID, im.Region}
			live[k] = append(live[k], im)
		}
	}
	inv := ClaimInvariants{Targets: len(listers)}
	for k, names := range listers {
		ims := live[k]
		switch {
		case len(ims) == 0 && reported[k]:
			inv.Failed++
		case len(ims) == 0:
			inv.Lost++
		case len(ims) > 1:
			inv.Duplicates++
		default:
			ok := ims[0].Tags[plan.TagSource] == plan.SourceKey(SourceRegion, k.src)
			for _, n := range names {
				if !plan.HasClaim(ims[0].Tags, n) {
					inv.MissingClaims++
					ok = false
				}
			}
			if ok {
				inv.Converged++
			}
		}
	}
	for k, ims := range live {
		for _, im := range ims {
			for _, n := range pruned {
				if plan.HasClaim(im.Tags, n) && !slices.Contains(listers[k], n) {
					inv.StaleClaims++
				}
			}
		}
	}
	if d != nil {
		for _, x := range d.done() {
			wrong := len(listers[key{x.source, x.region}]) > 0
			for _, c := range x.claims {
				if !slices.Contains(mayDelete, c) {
					wrong = true
				}
			}
			if wrong {
				inv.WrongDeletions++
			}
		}
	}
	return inv
}

// MultiPlanCase is several plans in one account: each lists Shared AFIs
// that every plan lists (giving them a copy name and an owner tag of its
// own, so that the plans' settings conflict) and Own AFIs of its own, into
// Regions regions. Against one simulator with EC2's buckets (scaled), it
//
//  1. syncs every plan at once (--wait), each as its own process;
//  2. reruns every plan at once, twice: the second round must change
//     nothing (no flip-flop), and a diff of each plan after it must have
//     nothing to do;
//  3. the first plan drops the shared AFIs and syncs with --prune while the
//     others rerun: its claims are released, nothing another plan lists is
//     deleted;
//  4. the first plan lists the shared AFIs again and syncs: it claims the
//     copies that are there and copies nothing.
type MultiPlanCase struct {
	Name                 string
	Plans, Shared, Own   int
	Regions              int
	Scale                float64       // 0: DefaultScale
	Latency              time.Duration // unscaled; 0: none
	Seed                 int64
	InMemory             bool
	CopyTime             time.Duration // how long a copy is pending; 0: 10 s ÷ Scale
	DifferentSettingsOff bool          // give the shared AFIs no per-plan name or tags
}

// MultiPlanResult is the outcome of a MultiPlanCase.
type MultiPlanResult struct {
	Name string
	// Plans, Runs: plans, and syncs run in all (dry runs included).
	Plans, Runs int
	// Together holds the invariants after step 1, Final after step 3
	// (against the plans as they then read).
	Together, Final ClaimInvariants
	// SharedCopies counts the (shared source, region) pairs;
	// ClaimedByAll those whose copy every plan claimed after step 2.
	SharedCopies, ClaimedByAll int
	// Changes1 and Changes2 count the targets changed by the first and
	// the second round of reruns; Changes2 must be 0.
	Changes1, Changes2 int
	// DiffNotClean counts plans whose diff after step 2 would change
	// something (diff --detailed-exitcode 2).
	DiffNotClean int
	// Conflicts counts targets whose step-2 diff reports a setting left
	// to another plan.
	Conflicts int
	// Released and Pruned count the first plan's prune statuses.
	Released, Pruned int
	// ReaddCopies counts CopyFpgaImage calls of step 4 (must be 0);
	// ReaddClaimed the shared copies the first plan claims after it.
	ReaddCopies, ReaddClaimed int
	// Failed counts bad targets in every report.
	Failed int
	// Why is the first bad target's message or run error.
	Why   string
	Calls CallCounts
	// Wall is the time step 1 took (scaled).
	Wall time.Duration
}

// RunMultiPlan runs a MultiPlanCase.
func RunMultiPlan(ctx context.Context, c MultiPlanCase) (MultiPlanResult, error) {
	if c.Scale <= 0 {
		c.Scale = DefaultScale
	}
	if c.Plans < 2 {
		return MultiPlanResult{}, fmt.Errorf("multi-plan: %d plans, want 2 or more", c.Plans)
	}
	so := ec2sim.Options{Throttle: true, ThrottleScale: c.Scale, Seed: c.Seed, CopyTime: c.CopyTime}
	if so.CopyTime <= 0 {
		so.CopyTime = time.Duration(float64(10*time.Second) / c.Scale)
	}
	if c.Latency > 0 {
		so.Latency = time.Duration(float64(c.Latency) / c.Scale)
	}
	e, err := NewEnv(EnvOptions{AFIs: c.Shared + c.Plans*c.Own, Regions: c.Regions, Sim: so, InMemory: c.InMemory})
	if err != nil {
		return MultiPlanResult{}, err
	}
	defer e.Close()
	dels := trackDeletions(e)
	s := scaled{e: e, scale: c.Scale}
	shared := e.Sources[:c.Shared]
	isShared := map[string]bool{}
	for _, id := range shared {
		isShared[id] = true
	}
	names := make([]string, c.Plans)
	own := make([][]string, c.Plans)
	plans := make([]*plan.Plan, c.Plans)
	for i := range c.Plans {
		names[i] = fmt.Sprintf("team-%d", i)
		own[i] = e.Sources[c.Shared+i*c.Own : c.Shared+(i+1)*c.Own]
		entry := func(src string) string {
			if !isShared[src] || c.DifferentSettingsOff {
				return ""
			}
			return fmt.Sprintf("    name: %s-copy\n    tags: {owner: %s}\n", names[i], names[i])
		}
		if plans[i], err = e.NamedPlan(names[i], append(slices.Clone(shared), own[i]...), entry); err != nil {
			return MultiPlanResult{}, err
		}
	}
	res := MultiPlanResult{Name: c.Name, Plans: c.Plans, SharedCopies: c.Shared * c.Regions}
	var all []*report.Report
	note := func(reps ...*report.Report) {
		for _, r := range reps {
			if r == nil {
				continue
			}
			res.Runs++
			res.Failed += badTargets(r)
			if res.Why == "" {
				res.Why = why(r)
			}
			all = append(all, r)
		}
	}
	wait := executor.Options{Wait: true}

	// 1. Every plan at once.
	start := time.Now()
	reps, err := s.syncAll(ctx, plans, same(c.Plans, wait))
	res.Wall = time.Since(start)
	note(reps...)
	if err != nil {
		return res, err
	}
	res.Together = e.checkClaims(plans, nil, dels, nil, all...)

	// 2. Two rounds of reruns, then a diff of each.
	for round := range 2 {
		reps, err := s.syncAll(ctx, plans, same(c.Plans, wait))
		note(reps...)
		if err != nil {
			return res, err
		}
		if round == 0 {
			res.Changes1 = changed(reps...)
		} else {
			res.Changes2 = changed(reps...)
		}
	}
	diffs, err := s.syncAll(ctx, plans, same(c.Plans, executor.Options{DryRun: true}))
	note(diffs...)
	if err != nil {
		return res, err
	}
	for _, d := range diffs {
		if d.ExitCode(true) != 0 {
			res.DiffNotClean++
		}
		for _, t := range d.Targets {
			if strings.Contains(t.Message, "also claimed by plan") {
				res.Conflicts++
			}
		}
	}
	for _, src := range shared {
		for _, r := range e.Dests {
			cs := liveCopiesOf(e, src, r)
			if len(cs) == 1 && sameSet(plan.Claims(cs[0].Tags), names) {
				res.ClaimedByAll++
			}
		}
	}

	// 3. The first plan drops the shared AFIs and prunes while the others
	// rerun.
	dropped, err := e.NamedPlan(names[0], own[0], nil)
	if err != nil {
		return res, err
	}
	now := append([]*plan.Plan{dropped}, plans[1:]...)
	opts := same(c.Plans, wait)
	opts[0] = executor.Options{Wait: true, Prune: true}
	reps, err = s.syncAll(ctx, now, opts)
	note(reps...)
	if err != nil {
		return res, err
	}
	res.Released = reps[0].Summary[report.StatusReleased]
	res.Pruned = reps[0].Summary[report.StatusPruned]
	res.Final = e.checkClaims(now, names[:1], dels, nil, all...)

	// 4. The first plan lists them again.
	before := e.Sim.Stats().Count("CopyFpgaImage", "", "")
	rep, err := s.sync(ctx, plans[0], wait)
	note(rep)
	if err != nil {
		return res, err
	}
	res.ReaddCopies = e.Sim.Stats().Count("CopyFpgaImage", "", "") - before
	for _, src := range shared {
		for _, r := range e.Dests {
			if cs := liveCopiesOf(e, src, r); len(cs) == 1 && plan.HasClaim(cs[0].Tags, names[0]) {
				res.ReaddClaimed++
			}
		}
	}
	res.Calls = e.Calls()
	return res, nil
}

// liveCopiesOf returns the live copies of src in region.
func liveCopiesOf(e *Env, src, region string) []ec2sim.Image {
	var out []ec2sim.Image
	for _, im := range e.Sim.Images(ec2sim.DefaultAccount, region) {
		if im.SourceID == src && (im.State == ec2sim.StatePending || im.State == ec2sim.StateAvailable) {
			out = append(out, im)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// PruneRaceCase races sync --prune: a plan copies AFIs sources into Regions
// regions (--wait), then drops all but one and prunes; while it prunes,
// between its inventory and its deletes, someone else
//
//   - makes one dropped copy public before afisync reads it again,
//   - makes another public after that read, just before DeleteFpgaImage,
//   - and has another plan ("other") claim a third before afisync reads it
//     again.
//
// Without PrunePublic, neither public copy may be deleted nor lose public
// access; with it, both are deleted. The claimed copy is released, never
// deleted, either way. The other dropped copies are pruned.
type PruneRaceCase struct {
	Name        string
	AFIs        int // at least 4
	Regions     int
	PrunePublic bool
	Scale       float64       // 0: DefaultScale
	Latency     time.Duration // unscaled; 0: none
	Seed        int64
	InMemory    bool
}

// PruneRaceResult is the outcome of a PruneRaceCase.
type PruneRaceResult struct {
	Name string
	// Dropped counts the copies the plan no longer lists; Raced those
	// changed during the prune (3).
	Dropped, Raced int
	// Pruned, Released, Kept: the prune's statuses (pruned; released;
	// would-prune, left in place).
	Pruned, Released, Kept int
	// Deleted counts dropped copies gone after the prune.
	Deleted int
	// PublicDeleted counts copies made public during the prune that were
	// deleted; PublicRemoved those that are still there but no longer
	// public. Both must be 0 without --prune-public.
	PublicDeleted, PublicRemoved int
	// Resets counts ResetFpgaImageAttribute calls.
	Resets int
	// ClaimKept is 1 when the copy another plan claimed is still there,
	// claimed by it and no longer by the pruning plan.
	ClaimKept int
	Inv       ClaimInvariants
	Failed    int
	Why       string
	Calls     CallCounts
	// Wall is the time the prune took (scaled).
	Wall time.Duration
}

// RunPruneRace runs a PruneRaceCase.
func RunPruneRace(ctx context.Context, c PruneRaceCase) (PruneRaceResult, error) {
	if c.Scale <= 0 {
		c.Scale = DefaultScale
	}
	if c.AFIs < 4 {
		return PruneRaceResult{}, fmt.Errorf("prune race: %d AFIs, want 4 or more", c.AFIs)
	}
	so := ec2sim.Options{Throttle: true, ThrottleScale: c.Scale, Seed: c.Seed, CopyTime: time.Duration(float64(10*time.Second) / c.Scale)}
	if c.Latency > 0 {
		so.Latency = time.Duration(float64(c.Latency) / c.Scale)
	}
	e, err := NewEnv(EnvOptions{AFIs: c.AFIs, Regions: c.Regions, Sim: so, InMemory: c.InMemory})
	if err != nil {
		return PruneRaceResult{}, err
	}
	defer e.Close()
	s := scaled{e: e, scale: c.Scale}
	res := PruneRaceResult{Name: c.Name, Dropped: (c.AFIs - 1) * c.Regions}
	rep, err := s.sync(ctx, e.Plan, executor.Options{Wait: true})
	if err != nil {
		return res, err
	}
	if n := badTargets(rep); n > 0 {
		return res, fmt.Errorf("prune race: the first sync failed %d targets: %s", n, why(rep))
	}
	region := e.Dests[0]
	copyOf := func(src string) string {
		cs := liveCopiesOf(e, src, region)
		if len(cs) != 1 {
			return ""
		}
		return cs[0].ID
	}
	pubEarly, pubLate, claimed := copyOf(e.Sources[0]), copyOf(e.Sources[1]), copyOf(e.Sources[2])
	if pubEarly == "" || pubLate == "" || claimed == "" {
		return res, fmt.Errorf("prune race: the first sync left no copy to race")
	}
	res.Raced = 3
	// Someone else's calls, as the account owner, not paced by afisync.
	owner, err := e.Client(ctx, afi.Config{Limits: map[string]afi.Limit{}})
	if err != nil {
		return res, err
	}
	var hookErrs []error
	var mu sync.Mutex
	once := map[string]*sync.Once{pubEarly: {}, pubLate: {}, claimed: {}}
	do := func(id string, f func() error) {
		once[id].Do(func() {
			if err := f(); err != nil {
				mu.Lock()
				hookErrs = append(hookErrs, err)
				mu.Unlock()
			}
		})
	}
	e.OnCall(func(action string, params url.Values) {
		switch action {
		case "DescribeFpgaImages":
			// afisync reads each copy again before touching it.
			if slices.Contains(params["FpgaImageId.1"], pubEarly) {
				do(pubEarly, func() error {
					return owner.ModifySharing(ctx, region, pubEarly, afi.Sharing{AddGroups: []string{plan.GroupAll}})
				})
			}
			if slices.Contains(params["FpgaImageId.1"], claimed) {
				do(claimed, func() error {
					return owner.CreateTags(ctx, region, []string{claimed}, map[string]string{plan.ClaimKey("other"): "other"})
				})
			}
		case "DeleteFpgaImage":
			if params.Get("FpgaImageId") == pubLate {
				do(pubLate, func() error {
					return owner.ModifySharing(ctx, region, pubLate, afi.Sharing{AddGroups: []string{plan.GroupAll}})
				})
			}
		}
	})
	dels := trackDeletions(e)
	e.Sim.ResetStats()
	dropped, err := e.NamedPlan(PlanName, e.Sources[c.AFIs-1:], nil)
	if err != nil {
		return res, err
	}
	start := time.Now()
	rep, err = s.sync(ctx, dropped, executor.Options{Prune: true, PrunePublic: c.PrunePublic})
	res.Wall = time.Since(start)
	if err != nil {
		return res, err
	}
	if err := joinErrs(hookErrs); err != nil {
		return res, fmt.Errorf("prune race: racing the prune: %w", err)
	}
	res.Failed = badTargets(rep)
	res.Why = why(rep)
	res.Pruned = rep.Summary[report.StatusPruned]
	res.Released = rep.Summary[report.StatusReleased]
	res.Kept = rep.Summary[report.StatusWouldPrune]
	for _, src := range e.Sources[:c.AFIs-1] {
		for _, r := range e.Dests {
			if len(liveCopiesOf(e, src, r)) == 0 {
				res.Deleted++
			}
		}
	}
	for _, id := range []string{pubEarly, pubLate} {
		im, ok := e.Sim.Image(id)
		switch {
		case !ok:
			res.PublicDeleted++
		case !im.Public:
			res.PublicRemoved++
		}
	}
	if im, ok := e.Sim.Image(claimed); ok && plan.HasClaim(im.Tags, "other") && !plan.HasClaim(im.Tags, PlanName) {
		res.ClaimKept = 1
	}
	res.Calls = e.Calls()
	res.Resets = res.Calls.ByAction["ResetFpgaImageAttribute"]
	// A deleted copy may have carried only this plan's claim; a public
	// one, only with --prune-public.
	res.Inv = e.checkClaims([]*plan.Plan{dropped}, nil, dels, []string{PlanName}, rep)
	if !c.PrunePublic {
		for _, x := range dels.done() {
			if x.public {
				res.Inv.WrongDeletions++
			}
		}
	}
	return res, nil
}

func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d calls failed, the first: %w", len(errs), errs[0])
}
