package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

const account = ec2sim.DefaultAccount

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

// world is a simulator on a manual clock and the afisync pieces wired to it.
type world struct {
	t     *testing.T
	clock *ec2sim.ManualClock
	sim   *ec2sim.Sim
	srv   *httptest.Server
	// sleeps counts the executor's pauses between polling rounds.
	sleeps atomic.Int32
	// lose makes the server apply the next n calls of loseAction and then
	// answer 500, as if the response had been lost on the way back.
	loseAction string
	lose       atomic.Int32
}

func newWorld(t *testing.T, o ec2sim.Options) *world {
	t.Helper()
	w := &world{t: t, clock: ec2sim.NewManualClock(t0)}
	o.Clock = w.clock
	if o.CopyTime == 0 {
		o.CopyTime = 10 * time.Minute
	}
	w.sim = ec2sim.New(o)
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) serve(rw http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	if w.loseAction == "" || !strings.Contains(string(body), "Action="+w.loseAction+"&") || w.lose.Add(-1) < 0 {
		w.sim.ServeHTTP(rw, req)
		return
	}
	w.sim.ServeHTTP(httptest.NewRecorder(), req) // applied, answer lost
	rw.WriteHeader(http.StatusInternalServerError)
	io.WriteString(rw, "<Response><Errors><Error><Code>InternalError</Code><Message>lost</Message></Error></Errors><RequestID>x</RequestID></Response>")
}

// simClock is the executor's clock in tests: sleeping advances the
// simulator's manual clock instead of waiting.
type simClock struct {
	c *ec2sim.ManualClock
	n *atomic.Int32
}

func (s simClock) Now() time.Time { return s.c.Now() }

// Instant marks simClock as an executor.InstantClock.
func (simClock) Instant() {}
func (s simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.n.Add(1)
	s.c.Advance(d)
	return nil
}

func (w *world) client(cfg afi.Config) *afi.Client {
	w.t.Helper()
	cfg.Region = "us-east-1"
	cfg.EndpointURL = w.srv.URL
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	if cfg.Backoff == nil {
		// SDK retries wait in simulated time: the simulator's buckets
		// refill while the test does not sleep.
		cfg.Backoff = func(attempt int, err error) time.Duration {
			w.clock.Advance(time.Duration(attempt) * 200 * time.Millisecond)
			return 0
		}
	}
	if cfg.Limits == nil {
		// No client-side pacing in unit tests: it runs on real time.
		cfg.Limits = map[string]afi.Limit{}
	}
	c, err := afi.New(context.Background(), cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) run(ctx context.Context, p *plan.Plan, o executor.Options) *report.Report {
	w.t.Helper()
	return w.runWith(ctx, w.client(afi.Config{}), p, o)
}

func (w *world) runWith(ctx context.Context, c *afi.Client, p *plan.Plan, o executor.Options) *report.Report {
	w.t.Helper()
	o.Clock = simClock{w.clock, &w.sleeps}
	if o.Concurrency == 0 {
		o.Concurrency = 8
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Minute
	}
	rep, err := executor.Run(ctx, c, p, o)
	if err != nil {
		w.t.Fatalf("Run: %v", err)
	}
	return rep
}

// seed adds n available source AFIs in region and returns their IDs.
func (w *world) seed(region string, n int) []string {
	w.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		im, err := w.sim.AddImage(ec2sim.Image{Region: region, Name: fmt.Sprintf("src-%03d", i), Tags: map[string]string{"team": "fpga"}})
		if err != nil {
			w.t.Fatal(err)
		}
		ids[i] = im.ID
	}
	return ids
}

// copies returns the live (pending or available) copies of src in region.
func (w *world) copies(src, region string) []ec2sim.Image {
	var out []ec2sim.Image
	for _, im := range w.sim.Images(account, region) {
		if im.SourceID == src && im.State != ec2sim.StateFailed {
			out = append(out, im)
		}
	}
	return out
}

// assertOneCopyEach checks the simulator holds exactly one live copy per
// target.
func (w *world) assertOneCopyEach(srcs, regions []string) {
	w.t.Helper()
	for _, s := range srcs {
		for _, r := range regions {
			if n := len(w.copies(s, r)); n != 1 {
				w.t.Errorf("%s in %s: %d live copies, want exactly 1", s, r, n)
			}
		}
	}
}

func mkPlan(t *testing.T, srcs []string, regions []string, extra string) *plan.Plan {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nname: test-plan\ndefaults:\n  source_region: us-east-1\n  regions: [%s]\n  tags: {env: test}\n%s\nafis:\n", strings.Join(regions, ", "), extra)
	for _, s := range srcs {
		fmt.Fprintf(&b, "  - id: %s\n", s)
	}
	p, err := plan.Parse("test.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, b.String())
	}
	return p
}

func statuses(r *report.Report) map[report.Status]int { return r.Summary }

func TestSyncCopiesMissingThenNothing(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 3)
	regions := []string{"us-west-2", "eu-west-1"}
	p := mkPlan(t, srcs, regions, "")
	// One copy exists already (made by hand, untagged): it counts.
	if _, err := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", AGFI: agfiOf(t, w, srcs[0]), Name: "by-hand"}); err != nil {
		t.Fatal(err)
	}

	rep := w.run(context.Background(), p, executor.Options{})
	if got := statuses(rep); got[report.StatusCopying] != 5 || got[report.StatusAdopted] != 1 {
		t.Fatalf("first sync: %v\n%s", got, text(rep))
	}
	st := w.sim.Stats()
	if n := st.Count("CopyFpgaImage", "", "ok"); n != 5 {
		t.Errorf("first sync made %d copies, want 5", n)
	}
	if n := st.Count("CreateTags", "", "ok"); n != 6 {
		t.Errorf("first sync made %d CreateTags calls, want 6 (one per copy, one to adopt)", n)
	}
	// Tags: management + plan defaults + source tags.
	for _, c := range w.copies(srcs[1], "eu-west-1") {
		want := map[string]string{"afisync:source": "us-east-1/" + srcs[1], "afisync:plan:test-plan": "test-plan", "env": "test", "team": "fpga"}
		for k, v := range want {
			if c.Tags[k] != v {
				t.Errorf("copy %s tag %s = %q, want %q (tags %v)", c.ID, k, c.Tags[k], v, c.Tags)
			}
		}
	}

	// Second sync while the copies are pending: nothing new.
	w.sim.ResetStats()
	rep = w.run(context.Background(), p, executor.Options{})
	if got := statuses(rep); got[report.StatusCopying] != 5 || got[report.StatusInSync] != 1 {
		t.Fatalf("second sync: %v\n%s", got, text(rep))
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("second sync while pending made %d CopyFpgaImage calls, want 0", n)
	}

	// After the copies are available: in sync, still nothing new.
	w.clock.Advance(time.Hour)
	w.sim.ResetStats()
	rep = w.run(context.Background(), p, executor.Options{})
	if got := statuses(rep); got[report.StatusInSync] != 6 || len(got) != 1 {
		t.Fatalf("third sync: %v\n%s", got, text(rep))
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("third sync made %d CopyFpgaImage calls, want 0", n)
	}
	if rep.ExitCode(false) != 0 {
		t.Errorf("exit code %d, want 0", rep.ExitCode(false))
	}
	w.assertOneCopyEach(srcs[1:], regions)
}

func agfiOf(t *testing.T, w *world, id string) string {
	t.Helper()
	im, ok := w.sim.Image(id)
	if !ok {
		t.Fatalf("no image %s", id)
	}
	return im.AGFI
}

func text(r *report.Report) string {
	var b bytes.Buffer
	_ = r.Write(&b, report.FormatText)
	return b.String()
}

func TestWaitUntilAvailable(t *testing.T) {
	w := newWorld(t, ec2sim.Options{CopyTime: 25 * time.Minute, Jitter: 0.2, Seed: 7})
	srcs := w.seed("us-east-1", 4)
	regions := []string{"us-west-2", "eu-west-1", "eu-west-2"}
	var snaps []executor.Progress
	rep := w.run(context.Background(), mkPlan(t, srcs, regions, ""), executor.Options{Wait: true, PollInterval: time.Minute,
		Progress: func(p executor.Progress) { snaps = append(snaps, p) }})
	if got := statuses(rep); got[report.StatusCopied] != 12 {
		t.Fatalf("after --wait: %v\n%s", got, text(rep))
	}
	phases := map[string]int{}
	for _, p := range snaps {
		phases[p.Phase]++
	}
	if phases[executor.PhaseInventory] != 1 || phases[executor.PhaseCopying] != 12 || phases[executor.PhaseWaiting] < 1 || phases[executor.PhaseDone] != 1 {
		t.Errorf("progress phases = %v", phases)
	}
	if first := snaps[0]; len(first.Regions) != 3 || first.Regions[0].Region != "eu-west-1" || first.Regions[0].Other != 4 {
		t.Errorf("first progress = %+v", first)
	}
	for _, p := range snaps {
		pending := 0
		for _, r := range p.Regions {
			pending += r.Pending
		}
		if p.Phase == executor.PhaseWaiting && p.Deadline.IsZero() {
			t.Errorf("waiting progress without deadline: %+v", p)
			break
		}
	}
	if last := snaps[len(snaps)-1]; last.Phase != executor.PhaseDone || last.Regions[2].Available != 4 || last.Regions[2].Total() != 4 {
		t.Errorf("last progress = %+v", last)
	}
	for _, tg := range rep.Targets {
		if !strings.HasPrefix(tg.AGFI, "agfi-") || !strings.HasPrefix(tg.CopyAFI, "afi-") || tg.Attempts != 1 {
			t.Errorf("target %+v lacks its AGFI, copy ID or attempt", tg)
		}
	}
	// Polling is batched: one DescribeFpgaImages per region per round
	// (every 1m ± 20% here), plus the inventory walk. Copies take 25m ±
	// 20%, so each region needs at most 30m / 48s = 38 rounds; the
	// pollers share the test's clock, so each round also moves it.
	st := w.sim.Stats()
	for _, r := range regions {
		if got := st.Count("DescribeFpgaImages", r, ""); got < 2 || got > 1+38 {
			t.Errorf("%s: %d DescribeFpgaImages calls, want 2..39 (one per round plus the walk)", r, got)
		}
	}
}

func TestWaitTimesOut(t *testing.T) {
	w := newWorld(t, ec2sim.Options{CopyTime: 3 * time.Hour})
	srcs := w.seed("us-east-1", 1)
	rep := w.run(context.Background(), mkPlan(t, srcs, []string{"us-west-2"}, ""), executor.Options{Wait: true, Timeout: 30 * time.Minute})
	if rep.Summary[report.StatusTimedOut] != 1 || rep.ExitCode(false) != 1 {
		t.Fatalf("want 1 timed-out target and exit 1:\n%s", text(rep))
	}
	if want := "still pending after 30m0s"; !strings.Contains(rep.Targets[0].Message, want) {
		t.Errorf("message %q lacks %q", rep.Targets[0].Message, want)
	}
	if d := rep.FinishedAt.Sub(rep.StartedAt); d < 30*time.Minute || d > 31*time.Minute {
		t.Errorf("run took %s of simulated time; the deadline was 30m", d)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	w := newWorld(t, ec2sim.Options{FailRate: 1})
	srcs := w.seed("us-east-1", 1)
	p := mkPlan(t, srcs, []string{"us-west-2"}, "")
	rep := w.run(context.Background(), p, executor.Options{Wait: true, Retries: 2})
	tg := rep.Targets[0]
	if tg.Status != report.StatusFailed || tg.Attempts != 3 {
		t.Fatalf("want failed after 3 attempts, got %+v", tg)
	}
	// The same rule and wording (reconcile.NextAfterFailure) as a later
	// run's Diff, below.
	if want := "gave up after 3 attempts; last copy " + tg.CopyAFI + " failed: " + ec2sim.TransientCopyFailure; tg.Message != want {
		t.Errorf("message %q, want %q", tg.Message, want)
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", "ok"); n != 3 {
		t.Errorf("%d copies made, want 3 (1 + 2 retries)", n)
	}
	// Each attempt used its own token: three distinct failed copies.
	var failed int
	for _, im := range w.sim.Images(account, "us-west-2") {
		if im.State == ec2sim.StateFailed {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("%d failed copies, want 3", failed)
	}

	// A later run with the failures cured continues with attempt 4 if
	// retries allow, and stops if not.
	w.sim.SetFailRate(0)
	rep = w.run(context.Background(), p, executor.Options{Retries: 2})
	if tg := rep.Targets[0]; tg.Status != report.StatusFailed || !strings.HasPrefix(tg.Message, "gave up after 3 attempts; last copy ") {
		t.Errorf("with retries spent: %+v", tg)
	}
	rep = w.run(context.Background(), p, executor.Options{Retries: 3, Wait: true})
	if tg := rep.Targets[0]; tg.Status != report.StatusCopied || tg.Attempts != 4 {
		t.Errorf("with one more retry allowed: %+v", tg)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 1)
	// An earlier copy of ours failed with NOT_FOUND.
	if _, err := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", State: ec2sim.StateFailed, Message: ec2sim.MsgNotFound,
		Tags: map[string]string{plan.TagSource: "us-east-1/" + srcs[0], plan.ClaimKey("test-plan"): "test-plan"}}); err != nil {
		t.Fatal(err)
	}
	rep := w.run(context.Background(), mkPlan(t, srcs, []string{"us-west-2"}, ""), executor.Options{Wait: true, Retries: 3})
	tg := rep.Targets[0]
	if tg.Status != report.StatusFailed || !strings.Contains(tg.Message, ec2sim.MsgNotFound) {
		t.Fatalf("want failed with AWS's NOT_FOUND message, got %+v", tg)
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("made %d copies of a permanently failed target", n)
	}
}

func TestSkippedSources(t *testing.T) {
	w := newWorld(t, ec2sim.Options{Accounts: map[string]string{"AKIDOTHER": "444455556666"}})
	good := w.seed("us-east-1", 1)[0]
	shared, err := w.sim.AddImage(ec2sim.Image{Region: "us-east-1", Account: "444455556666", LoadPermissions: []string{account}})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := w.sim.AddImage(ec2sim.Image{Region: "us-east-1", State: ec2sim.StatePending})
	if err != nil {
		t.Fatal(err)
	}
	missing := "afi-0000000000000000f"
	p := mkPlan(t, []string{missing, good, shared.ID, pending.ID}, []string{"us-west-2"}, "")
	rep := w.run(context.Background(), p, executor.Options{})
	got := map[string]report.Target{}
	for _, tg := range rep.Targets {
		got[tg.SourceAFI] = tg
	}
	for id, want := range map[string]string{
		missing:   "not found in us-east-1",
		shared.ID: "owned by 444455556666",
	} {
		if tg := got[id]; tg.Status != report.StatusSkipped || !strings.Contains(tg.Message, want) {
			t.Errorf("%s: %+v; want skipped with %q", id, tg, want)
		}
	}
	// A pending source of the caller's is waited for (without --wait, said
	// so).
	if tg := got[pending.ID]; tg.Status != report.StatusWaiting || !strings.Contains(tg.Message, "still pending") {
		t.Errorf("pending source: %+v; want waiting", tg)
	}
	// One missing source does not hide the others.
	if got[good].Status != report.StatusCopying {
		t.Errorf("good source: %+v", got[good])
	}
	if rep.ExitCode(false) != 1 {
		t.Errorf("exit code %d, want 1 for skipped targets", rep.ExitCode(false))
	}
}

func TestNoDuplicatesFromConcurrentSyncs(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 10)
	regions := []string{"us-west-2", "eu-west-1", "eu-central-1"}
	p := mkPlan(t, srcs, regions, "")
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			rep := w.run(context.Background(), p, executor.Options{Concurrency: 4})
			if rep.ExitCode(false) != 0 {
				t.Errorf("concurrent sync failed:\n%s", text(rep))
			}
		})
	}
	wg.Wait()
	w.assertOneCopyEach(srcs, regions)
}

func TestNoDuplicateWhenCopyResponseIsLost(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	w.loseAction = "CopyFpgaImage"
	w.lose.Store(2)
	srcs := w.seed("us-east-1", 1)
	rep := w.run(context.Background(), mkPlan(t, srcs, []string{"us-west-2"}, ""), executor.Options{})
	if rep.Targets[0].Status != report.StatusCopying {
		t.Fatalf("%+v", rep.Targets[0])
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", "ok"); n != 3 {
		t.Errorf("simulator answered %d CopyFpgaImage calls, want 3 (two lost responses, SDK retried)", n)
	}
	w.assertOneCopyEach(srcs, []string{"us-west-2"})
	if c := w.copies(srcs[0], "us-west-2"); len(c) == 1 && c[0].ID != rep.Targets[0].CopyAFI {
		t.Errorf("report names %s, simulator holds %s", rep.Targets[0].CopyAFI, c[0].ID)
	}
}

func TestNoDuplicateAfterCrashBeforeTagging(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 2)
	p := mkPlan(t, srcs, []string{"us-west-2"}, "")
	// The run "dies" between CopyFpgaImage and CreateTags: tagging fails
	// with an error the SDK does not retry.
	w.sim.InjectFault("CreateTags", 2, "UnauthorizedOperation", 403)
	rep := w.run(context.Background(), p, executor.Options{})
	if rep.Summary[report.StatusFailed] != 2 {
		t.Fatalf("want both targets failed untagged:\n%s", text(rep))
	}
	for _, s := range srcs {
		for _, c := range w.copies(s, "us-west-2") {
			if c.Tags[plan.TagSource] != "" {
				t.Fatalf("copy %s is tagged; the fault did not take", c.ID)
			}
		}
	}
	// The rerun cannot see the untagged pending copies, copies again with
	// the same ClientToken, gets the same AFIs back and tags them.
	rep = w.run(context.Background(), p, executor.Options{})
	if rep.Summary[report.StatusCopying] != 2 {
		t.Fatalf("rerun:\n%s", text(rep))
	}
	w.assertOneCopyEach(srcs, []string{"us-west-2"})
	for _, s := range srcs {
		for _, c := range w.copies(s, "us-west-2") {
			if c.Tags[plan.TagSource] != "us-east-1/"+s {
				t.Errorf("copy %s tags %v", c.ID, c.Tags)
			}
		}
	}
}

func TestDryRunMakesNoMutatingCall(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 3)
	p := mkPlan(t, srcs, []string{"us-west-2", "eu-west-1"}, "")
	rep := w.run(context.Background(), p, executor.Options{DryRun: true})
	if rep.Summary[report.StatusWouldCopy] != 6 || !rep.DryRun || rep.ExitCode(true) != 2 || rep.ExitCode(false) != 0 {
		t.Fatalf("dry run:\n%s", text(rep))
	}
	st := w.sim.Stats()
	for _, c := range st.Calls {
		if c.Action != "DescribeFpgaImages" && c.Action != "GetCallerIdentity" && c.Action != "GetServiceQuota" { // read-only calls
			t.Errorf("dry run called %s in %s", c.Action, c.Region)
		}
	}
}

func TestFailFast(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 20)
	w.sim.InjectFault("CopyFpgaImage", 1, "UnauthorizedOperation", 403)
	rep := w.run(context.Background(), mkPlan(t, srcs, []string{"us-west-2"}, ""), executor.Options{FailFast: true, Concurrency: 1})
	var notStarted int
	for _, tg := range rep.Targets {
		if strings.Contains(tg.Message, "--fail-fast") {
			notStarted++
		}
	}
	if notStarted != 19 {
		t.Errorf("%d targets not started after the first failure, want 19:\n%s", notStarted, text(rep))
	}
}

func TestInterruptStillReports(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 2)
	ctx, cancel := context.WithCancel(context.Background())
	c := w.client(afi.Config{})
	o := executor.Options{Wait: true, Clock: nil}
	o.Clock = cancelOnSleep{simClock{w.clock, &w.sleeps}, cancel}
	o.Concurrency, o.PollInterval = 4, time.Minute
	rep, err := executor.Run(ctx, c, mkPlan(t, srcs, []string{"us-west-2"}, ""), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.ExitCode(false) != 1 || rep.Summary[report.StatusCopying] != 2 {
		t.Fatalf("interrupted run:\n%s", text(rep))
	}
	for _, s := range srcs {
		for _, cp := range w.copies(s, "us-west-2") {
			if cp.Tags[plan.TagSource] == "" {
				t.Errorf("copy %s left untagged by the interrupt", cp.ID)
			}
		}
	}
}

// cancelOnSleep cancels the run the first time it would wait (an interrupt
// during --wait).
type cancelOnSleep struct {
	simClock
	cancel context.CancelFunc
}

func (c cancelOnSleep) Sleep(ctx context.Context, d time.Duration) error {
	c.cancel()
	return c.simClock.Sleep(ctx, d)
}

func TestThrottledLargeSyncConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("large plan")
	}
	w := newWorld(t, ec2sim.Options{Throttle: true})
	srcs := w.seed("us-east-1", 200)
	regions := []string{"us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "ap-southeast-2"}
	// No client-side pacing: the SDK's throttle-aware retries alone must
	// cure EC2's buckets (simulated time advances during retry backoff).
	c := w.client(afi.Config{Limits: map[string]afi.Limit{}})
	rep := w.runWith(context.Background(), c, mkPlan(t, srcs, regions, ""), executor.Options{Concurrency: 32})
	if rep.Summary[report.StatusCopying] != 1000 {
		t.Fatalf("throttled sync: %v", rep.Summary)
	}
	st := w.sim.Stats()
	if st.Count("", "", "RequestLimitExceeded") == 0 {
		t.Error("the simulator never throttled; the test proves nothing")
	}
	w.assertOneCopyEach(srcs, regions)
}

func TestAPIEconomy(t *testing.T) {
	for _, n := range []int{1, 500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			w := newWorld(t, ec2sim.Options{})
			srcs := w.seed("us-east-1", n)
			regions := []string{"us-west-2", "eu-west-1", "eu-central-1"}
			p := mkPlan(t, srcs, regions, "")
			w.run(context.Background(), p, executor.Options{Concurrency: 32})
			w.clock.Advance(time.Hour)
			w.sim.ResetStats()
			rep := w.run(context.Background(), p, executor.Options{})
			if rep.Summary[report.StatusInSync] != n*len(regions) {
				t.Fatalf("not in sync: %v", rep.Summary)
			}
			st := w.sim.Stats()
			// One inventory page per region (source region included) and
			// one GetCallerIdentity; nothing else.
			if got, want := st.Total, len(regions)+1+1; got != want {
				t.Errorf("%d calls for a no-op sync of %d AFIs × %d regions, want %d: %+v", got, n, len(regions), want, st.Calls)
			}
		})
	}
}

func TestResolveSettings(t *testing.T) {
	p := &plan.Plan{Settings: plan.Settings{Concurrency: 4, Timeout: time.Hour}}
	seven := 7
	o := executor.Resolve(p, executor.Overrides{Concurrency: &seven}, executor.Options{})
	if o.Concurrency != 7 || o.Timeout != time.Hour || o.Retries != executor.DefaultRetries {
		t.Errorf("Resolve = %+v", o)
	}
	zero := 0
	o = executor.Resolve(&plan.Plan{Settings: plan.Settings{Retries: 5, RetriesSet: true}}, executor.Overrides{Retries: &zero}, executor.Options{})
	if o.Retries != 0 || o.Concurrency != executor.DefaultConcurrency || o.Timeout != executor.DefaultTimeout {
		t.Errorf("Resolve = %+v", o)
	}
	// An explicit "retries: 0" in the plan is kept; an unset one is the default.
	if o := executor.Resolve(&plan.Plan{Settings: plan.Settings{RetriesSet: true}}, executor.Overrides{}, executor.Options{}); o.Retries != 0 {
		t.Errorf("plan retries: 0 resolved to %d", o.Retries)
	}
	if o := executor.Resolve(&plan.Plan{}, executor.Overrides{}, executor.Options{}); o.Retries != executor.DefaultRetries {
		t.Errorf("unset retries resolved to %d", o.Retries)
	}
}

func TestUnlistedRegionFailsOnlyItsTargets(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 1)
	regions := []string{"us-west-2", "eu-west-1", "eu-central-1"}
	p := mkPlan(t, srcs, regions, "")
	// The first inventory walk (whichever region it is) is refused.
	w.sim.InjectFault("DescribeFpgaImages", 1, "UnauthorizedOperation", 403)
	rep := w.run(context.Background(), p, executor.Options{})
	failed := rep.Summary[report.StatusFailed]
	if failed != 1 && failed != 3 { // one destination, or the source region
		t.Fatalf("%d failed targets:\n%s", failed, text(rep))
	}
	for _, tg := range rep.Targets {
		if tg.Status == report.StatusFailed && !strings.Contains(tg.Message, "could not list the AFIs in") {
			t.Errorf("failed target without the listing error: %+v", tg)
		}
	}
	if got := rep.Summary[report.StatusCopying]; got != 3-failed {
		t.Errorf("%d copies started, want %d: the other regions go on", got, 3-failed)
	}
	if rep.ExitCode(false) != 1 {
		t.Errorf("exit %d, want 1", rep.ExitCode(false))
	}

	// With regions unlisted, --prune deletes nothing: what the plan still
	// wants there is unknown.
	w.sim.InjectFault("DescribeFpgaImages", 100, "UnauthorizedOperation", 403)
	rep = w.run(context.Background(), mkPlan(t, srcs, regions[:1], ""), executor.Options{Prune: true})
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "not pruning") {
		t.Errorf("warnings = %q, want one saying prune was skipped", rep.Warnings)
	}
	if n := w.sim.Stats().Count("DeleteFpgaImage", "", ""); n != 0 {
		t.Errorf("pruned with regions unlisted: %d deletes", n)
	}
	w.sim.ClearFaults()
}
