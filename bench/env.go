package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// SourceRegion is where every generated source AFI lives.
const SourceRegion = "us-east-1"

// PlanName is the name of every generated plan (the afisync:plan tag).
const PlanName = "bench"

// maxExplicitEntries is the plan format's limit on entries; larger
// scenarios select their sources by name instead of listing them.
const maxExplicitEntries = 1000

// Regions returns n destination regions (not SourceRegion): ec2sim's default
// FPGA regions first, then the other commercial regions in name order.
func Regions(n int) []string {
	var out []string
	seen := map[string]bool{SourceRegion: true}
	for _, r := range ec2sim.DefaultFPGARegions {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	rest := make([]string, 0, len(ec2sim.Regions))
	for r := range ec2sim.Regions {
		if !seen[r] {
			rest = append(rest, r)
		}
	}
	sort.Strings(rest)
	out = append(out, rest...)
	if n > len(out) {
		panic(fmt.Sprintf("bench: %d regions asked for, %d known", n, len(out)))
	}
	return out[:n]
}

// Spike adds a latency spike to a fraction of calls.
type Spike struct {
	Fraction float64       // share of calls that get the extra delay
	Extra    time.Duration // the extra delay (a real sleep)
}

// EnvOptions describe a simulated world.
type EnvOptions struct {
	AFIs, Regions int
	// Sim configures the simulator; FPGARegions is filled in from Regions.
	Sim ec2sim.Options
	// Spike, if Fraction > 0, delays that share of calls by Extra.
	Spike Spike
	// Selector writes the plan as one name selector even when it could
	// list every source.
	Selector bool
	// InMemory serves the simulator without a socket: the clients of
	// Client and HTTPClient hand each request to it in-process. A run
	// then involves no network I/O, so a test can run it inside a
	// testing/synctest bubble, where every timer (the simulator's latency
	// and buckets, afisync's pacing, the SDK's backoff) is on a fake clock
	// that advances only when every goroutine waits.
	InMemory bool
	// Outage, if set, takes the endpoint down or stalls it for a stretch
	// of the run.
	Outage Outage
}

// Env is a simulator served on a loopback port, seeded with AFIs source AFIs
// in SourceRegion, and the plan that copies each of them to Regions
// destinations.
type Env struct {
	Sim     *ec2sim.Sim
	URL     string
	Sources []string // source AFI IDs, in plan order
	AGFIs   []string // the sources' global IDs, same order
	Dests   []string // destination regions
	Plan    *plan.Plan
	YAML    string // the plan's text
	srv     *httptest.Server
	hc      *http.Client // InMemory: the in-process client
	outage  *outageState
	mu      sync.Mutex
	extra   []net.Listener // listeners of a revived endpoint
	closed  bool
	hooks   *hooks
}

// NewEnv starts a simulator and seeds it. Close it when done.
func NewEnv(o EnvOptions) (*Env, error) {
	dests := Regions(o.Regions)
	so := o.Sim
	so.FPGARegions = append([]string{SourceRegion}, dests...)
	if so.Seed == 0 {
		so.Seed = 7
	}
	sim := ec2sim.New(so)
	e := &Env{Sim: sim, Dests: dests, hooks: &hooks{}}
	for i := range o.AFIs {
		im, err := sim.AddImage(ec2sim.Image{
			Region: SourceRegion,
			Name:   fmt.Sprintf("bench-%05d", i),
			Tags:   map[string]string{"team": "fpga"},
		})
		if err != nil {
			return nil, err
		}
		e.Sources = append(e.Sources, im.ID)
		e.AGFIs = append(e.AGFIs, im.AGFI)
	}
	e.YAML = planYAML(PlanName, e.Sources, dests, o.Selector, nil)
	p, err := plan.Parse("bench.yaml", []byte(e.YAML))
	if err != nil {
		return nil, fmt.Errorf("bench plan: %w", err)
	}
	e.Plan = p
	var h http.Handler = hookHandler{h: sim, hs: e.hooks}
	if o.Spike.Fraction > 0 {
		h = &spiky{h: h, sp: o.Spike, rng: rand.New(rand.NewPCG(uint64(so.Seed), 99))}
	}
	if o.Outage.On() {
		e.outage = &outageState{o: o.Outage, quit: make(chan struct{})}
		h = outageHandler{h: h, s: e.outage, inMemory: o.InMemory}
	}
	if o.InMemory {
		e.hc = &http.Client{Transport: handlerTransport{h}}
		e.URL = inProcessURL
		return e, nil
	}
	e.srv = httptest.NewServer(h)
	e.URL = e.srv.URL
	if e.outage != nil {
		e.outage.down, e.outage.up = e.kill, e.revive
	}
	return e, nil
}

// EndOutage ends the outage, if one is going on: the endpoint answers again.
func (e *Env) EndOutage() {
	if e.outage != nil {
		e.outage.clear()
	}
}

// OutageHits counts the API calls that met the outage.
func (e *Env) OutageHits() int {
	if e.outage == nil {
		return 0
	}
	return e.outage.Hits()
}

// inProcessURL is the endpoint of an InMemory Env.
const inProcessURL = "http://ec2sim.in-process"

// HTTPClient is the client that reaches the simulator: the in-process one
// of an InMemory Env, else nil (the SDK's default, through e.URL).
func (e *Env) HTTPClient() *http.Client { return e.hc }

// handlerTransport is an http.RoundTripper that serves each request with a
// handler, in the caller's goroutine.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context())
	sr.RequestURI = r.URL.RequestURI()
	sr.RemoteAddr = "127.0.0.1:1"
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	rec := httptest.NewRecorder()
	if err := serveRecovering(t.h, rec, sr); err != nil {
		return nil, err
	}
	if r.Body != nil {
		r.Body.Close()
	}
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// PlanYAML is the plan that copies every source to every destination: one
// entry per source, or, beyond the plan format's 1000 entries, one name
// selector that picks them all.
func PlanYAML(sources, dests []string) string { return planYAML(PlanName, sources, dests, false, nil) }

// planYAML writes the plan called name that copies sources (or, with
// selector, every bench-* AFI) to dests; entry, if set, gives the lines
// that follow a source's "- id:" line (indented four spaces).
func planYAML(name string, sources, dests []string, selector bool, entry func(src string) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nname: %s\ndefaults:\n  source_region: %s\n  regions: [%s]\n  tags: {env: bench}\nafis:\n",
		name, SourceRegion, strings.Join(dests, ", "))
	if selector || len(sources) > maxExplicitEntries {
		b.WriteString("  - select: {name: \"bench-*\"}\n")
		return b.String()
	}
	for _, s := range sources {
		fmt.Fprintf(&b, "  - id: %s\n", s)
		if entry != nil {
			b.WriteString(entry(s))
		}
	}
	return b.String()
}

// NamedPlan parses the plan called name that copies sources (explicit
// entries, at most 1000) to the Env's destinations; entry, if set, gives
// each source's settings lines (such as "    name: x\n").
func (e *Env) NamedPlan(name string, sources []string, entry func(src string) string) (*plan.Plan, error) {
	text := planYAML(name, sources, e.Dests, false, entry)
	p, err := plan.Parse(name+".yaml", []byte(text))
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w\n%s", name, err, text)
	}
	return p, nil
}

// OnCall registers f to be called with each API request's action and
// parameters before the simulator serves it, in the request's goroutine
// (requests to the simulator's /_sim/ control endpoints excepted). f may
// make API calls of its own: they pass through OnCall's hooks too.
func (e *Env) OnCall(f func(action string, params url.Values)) { e.hooks.add(f) }

// hooks are the functions OnCall registered.
type hooks struct {
	mu sync.Mutex
	fs []func(string, url.Values)
}

func (h *hooks) add(f func(string, url.Values)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fs = append(h.fs, f)
}

func (h *hooks) list() []func(string, url.Values) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fs
}

// hookHandler calls the hooks with each request's parameters, then h.
type hookHandler struct {
	h  http.Handler
	hs *hooks
}

func (x hookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs := x.hs.list()
	if len(fs) == 0 || strings.HasPrefix(r.URL.Path, "/_sim/") {
		x.h.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	params, _ := url.ParseQuery(string(body))
	for k, v := range r.URL.Query() {
		params[k] = append(params[k], v...)
	}
	for _, f := range fs {
		f(params.Get("Action"), params)
	}
	x.h.ServeHTTP(w, r)
}

// serveRecovering runs h, turning the outage handler's errDown panic into
// the error a client sees when the connection is refused.
func serveRecovering(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v != errDown {
				panic(v)
			}
			err = errDown
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// Close stops the server.
func (e *Env) Close() {
	if e.outage != nil {
		close(e.outage.quit)
	}
	if e.srv != nil {
		e.mu.Lock()
		e.closed = true
		for _, ln := range e.extra {
			ln.Close()
		}
		e.mu.Unlock()
		e.srv.Close()
	}
}

// Targets is the number of (source, destination) pairs.
func (e *Env) Targets() int { return len(e.Sources) * len(e.Dests) }

// Client returns an afisync AWS client pointed at the simulator. cfg's
// endpoint, credentials and region are filled in.
func (e *Env) Client(ctx context.Context, cfg afi.Config) (*afi.Client, error) {
	cfg.Region = SourceRegion
	cfg.EndpointURL = e.URL
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", "")
	if e.hc != nil {
		cfg.HTTPClient = e.hc
	}
	return afi.New(ctx, cfg)
}

// Invariants are what afisync promises about the state it leaves behind.
type Invariants struct {
	Targets int // (source, destination) pairs the plan asks for
	// Converged counts targets with exactly one live copy that carries
	// afisync's management tags.
	Converged int
	// Available counts converged targets whose copy is available.
	Available int
	// Duplicates counts targets with more than one live (pending or
	// available) copy of the source in the region. Must be 0.
	Duplicates int
	// Failed counts targets with no live copy that a run reported as
	// failed, skipped or timed out: afisync said so (exit 1).
	Failed int
	// Lost counts targets with no live copy that no run reported as bad:
	// afisync claimed success for them. Must be 0.
	Lost int
}

// Check inspects the simulator's world for the invariants. Only copies
// owned by the default account count. A target without a live copy is
// Failed if one of reps reported it bad, else Lost.
func (e *Env) Check(reps ...*report.Report) Invariants {
	inv := Invariants{Targets: e.Targets()}
	reported := map[string]bool{}
	for _, r := range reps {
		for _, t := range r.Targets {
			if t.Status.Bad() {
				reported[t.SourceAFI+" "+t.Region] = true
			}
		}
	}
	want := map[string]bool{}
	for _, s := range e.Sources {
		want[s] = true
	}
	for _, r := range e.Dests {
		live := map[string][]ec2sim.Image{}
		for _, im := range e.Sim.Images(ec2sim.DefaultAccount, r) {
			if !want[im.SourceID] {
				continue
			}
			if im.State == ec2sim.StatePending || im.State == ec2sim.StateAvailable {
				live[im.SourceID] = append(live[im.SourceID], im)
			}
		}
		for _, s := range e.Sources {
			ims := live[s]
			switch {
			case len(ims) == 0 && reported[s+" "+r]:
				inv.Failed++
			case len(ims) == 0:
				inv.Lost++
			case len(ims) > 1:
				inv.Duplicates++
			case ims[0].Tags[plan.TagSource] == plan.SourceKey(SourceRegion, s) && plan.HasClaim(ims[0].Tags, PlanName):
				inv.Converged++
				if ims[0].State == ec2sim.StateAvailable {
					inv.Available++
				}
			}
		}
	}
	return inv
}

// CallCounts are the simulator's counters for one run: attempts by action
// (every outcome), throttled responses and other error responses, of the
// EC2 and STS calls. Service Quotas lookups of the AFI quota (one per
// region a run creates AFIs in; the simulator without --afi-limit answers
// NoSuchResourceException) are counted apart, in Quotas: they spend none of
// EC2's buckets.
type CallCounts struct {
	ByAction  map[string]int
	Total     int
	Throttled int
	Errors    int
	Quotas    int
}

// Calls summarises the simulator's counters.
func (e *Env) Calls() CallCounts {
	st := e.Sim.Stats()
	c := CallCounts{ByAction: map[string]int{}}
	for _, cc := range st.Calls {
		if cc.Action == "GetServiceQuota" {
			c.Quotas += cc.Count
			continue
		}
		c.ByAction[cc.Action] += cc.Count
		c.Total += cc.Count
		switch cc.Outcome {
		case "ok":
		case "RequestLimitExceeded":
			c.Throttled += cc.Count
		default:
			c.Errors += cc.Count
		}
	}
	return c
}

// MinCalls is the fewest calls a sync from the current state can make when
// no call fails: one GetCallerIdentity, one DescribeFpgaImages page (of up
// to 1000) per region involved, and one CopyFpgaImage and one CreateTags
// per missing copy.
func (e *Env) MinCalls() int {
	n := 1
	inv := e.Check()
	for _, r := range append([]string{SourceRegion}, e.Dests...) {
		owned := len(e.Sim.Images(ec2sim.DefaultAccount, r))
		n += max(1, (owned+999)/1000)
	}
	missing := inv.Targets - inv.Converged - inv.Duplicates
	return n + 2*missing
}

// MissingPerRegion counts, per destination, the targets without a live copy:
// the copies a sync from the current state must make.
func (e *Env) MissingPerRegion() map[string]int {
	out := map[string]int{}
	for _, r := range e.Dests {
		have := map[string]bool{}
		for _, im := range e.Sim.Images(ec2sim.DefaultAccount, r) {
			if im.State == ec2sim.StatePending || im.State == ec2sim.StateAvailable {
				have[im.SourceID] = true
			}
		}
		for _, s := range e.Sources {
			if !have[s] {
				out[r]++
			}
		}
	}
	return out
}

// Ideal is the throttle-bound lower bound on the time to make copies[r]
// copies in each region r, each followed by one CreateTags: per region,
// max(0, C-capacity)/refill for the CopyFpgaImage bucket (50, 5/s) and the
// CreateTags bucket (100, 10/s); regions run in parallel, so the largest
// region decides; divided by scale. Inventory and polling describes are
// left out (their bucket is 100, 20/s and a sync needs a handful).
func Ideal(copies map[string]int, scale float64) time.Duration {
	if scale <= 0 {
		scale = 1
	}
	cb, tb := ec2sim.Buckets["CopyFpgaImage"], ec2sim.Buckets["CreateTags"]
	var worst float64
	for _, c := range copies {
		n := float64(c)
		worst = max(worst, max(0, n-cb.Capacity)/cb.Refill, max(0, n-tb.Capacity)/tb.Refill)
	}
	return time.Duration(worst / scale * float64(time.Second))
}

// spiky delays a random share of requests before passing them on.
type spiky struct {
	h   http.Handler
	sp  Spike
	mu  sync.Mutex
	rng *rand.Rand
}

func (s *spiky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hit := !strings.HasPrefix(r.URL.Path, "/_sim/") && s.rng.Float64() < s.sp.Fraction
	s.mu.Unlock()
	if hit {
		t := time.NewTimer(s.sp.Extra)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.h.ServeHTTP(w, r)
}
