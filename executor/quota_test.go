package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// shellWorld is the scenario: eight shell builds in us-east-1
// (shell-8 the newest), this plan's copies of shell-1…3 in us-west-2, and
// 15 other AFIs there: 18 held, under a simulator limit of 20.
func shellWorld(t *testing.T) (*world, []string) {
	t.Helper()
	w := newWorld(t, ec2sim.Options{AFILimit: 20, CallLog: true})
	var srcs []string
	for i := 1; i <= 8; i++ {
		im, err := w.sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: fmt.Sprintf("shell-%d", i), CreateTime: t0.Add(-time.Duration(9-i) * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, im.ID)
	}
	w.run(context.Background(), namedPlan(t, "nightly", srcs[:3], []string{"us-west-2"}, ""), executor.Options{})
	w.settle()
	for i := 0; i < 15; i++ {
		if _, err := w.sim.AddImage(ec2sim.Image{Region: "us-west-2", Name: fmt.Sprintf("other-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	w.sim.ResetStats()
	return w, srcs
}

func nightly(t *testing.T, retain string) *plan.Plan {
	t.Helper()
	src := "version: 1\nname: nightly\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1]\n" + retain +
		"afis:\n  - select: {name: \"shell-*\"}\n"
	p, err := plan.Parse("nightly.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func quotaOf(rep *report.Report, region string) report.Quota {
	for _, q := range rep.Quota {
		if q.Region == region {
			return q
		}
	}
	return report.Quota{}
}

// TestQuotaRefusesARegion: 18 held in us-west-2, limit 20, 5 to copy there:
// no CopyFpgaImage in us-west-2, every target there names the region, 18
// and 20; eu-west-1 is copied; the run fails (exit 1).
func TestQuotaRefusesARegion(t *testing.T) {
	w, _ := shellWorld(t)
	rep := w.run(context.Background(), nightly(t, ""), executor.Options{AFILimit: 20})
	if n := w.sim.Stats().Count("CopyFpgaImage", "us-west-2", ""); n != 0 {
		t.Errorf("%d CopyFpgaImage calls in us-west-2, want 0", n)
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "eu-west-1", "ok"); n != 8 {
		t.Errorf("%d copies into eu-west-1, want 8", n)
	}
	failed := 0
	for _, tg := range rep.Targets {
		if tg.Region != "us-west-2" || tg.Status != report.StatusFailed {
			continue
		}
		failed++
		for _, want := range []string{"us-west-2 holds 18 AFIs", "limit is 20 (flag)", "create 5", "--afi-limit", "--prune", "retain:"} {
			if !strings.Contains(tg.Message, want) {
				t.Errorf("message %q lacks %q", tg.Message, want)
			}
		}
	}
	if failed != 5 {
		t.Errorf("%d failed targets in us-west-2, want 5:\n%s", failed, text(rep))
	}
	if q := quotaOf(rep, "us-west-2"); !q.Refused || q.Held != 18 || q.Limit != 20 || q.After != 23 || q.Headroom != -3 {
		t.Errorf("us-west-2 quota = %+v", q)
	}
	if rep.ExitCode(false) != 1 {
		t.Errorf("exit %d, want 1", rep.ExitCode(false))
	}
}

// TestRetentionMakesRoomFirst: with keep_last 5 the same run deletes the
// three copies of shell-1…3 in us-west-2 before its first copy there, then
// copies all five; the diff before it shows the headroom.
func TestRetentionMakesRoomFirst(t *testing.T) {
	w, _ := shellWorld(t)
	p := nightly(t, "  retain: {keep_last: 5}\n")
	diff := w.run(context.Background(), p, executor.Options{AFILimit: 20, DryRun: true})
	var doc struct {
		Quota []report.Quota `json:"quota"`
	}
	var b bytes.Buffer
	if err := diff.Write(&b, report.FormatJSON); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := report.Quota{Region: "us-west-2", Held: 18, Limit: 20, Source: "flag", Copies: 5, Deletes: 3, After: 20, Headroom: 0}
	found := false
	for _, q := range doc.Quota {
		if q.Region == "us-west-2" {
			found = q == want
			if !found {
				t.Errorf("diff -o json quota = %+v, want %+v", q, want)
			}
		}
	}
	if !found || diff.Summary[report.StatusWouldExpire] != 3 {
		t.Errorf("diff: %v\n%s", diff.Summary, text(diff))
	}

	rep := w.run(context.Background(), p, executor.Options{AFILimit: 20})
	st := w.sim.Stats()
	if d, c := st.Count("DeleteFpgaImage", "us-west-2", "ok"), st.Count("CopyFpgaImage", "us-west-2", "ok"); d != 3 || c != 5 {
		t.Errorf("us-west-2: %d deleted, %d copied; want 3 and 5:\n%s", d, c, text(rep))
	}
	lastDelete, firstCopy := -1, -1
	for i, c := range w.sim.CallLog() {
		switch {
		case c.Region != "us-west-2" || c.Outcome != "ok":
		case c.Action == "DeleteFpgaImage":
			lastDelete = i
		case c.Action == "CopyFpgaImage" && firstCopy < 0:
			firstCopy = i
		}
	}
	if lastDelete < 0 || firstCopy < lastDelete {
		t.Errorf("the last delete (call %d) came after the first copy (call %d) in us-west-2", lastDelete, firstCopy)
	}
	if rep.Summary[report.StatusExpired] != 3 || rep.ExitCode(false) != 0 {
		t.Errorf("summary %v exit %d:\n%s", rep.Summary, rep.ExitCode(false), text(rep))
	}
	for _, a := range w.sim.Stats().AFIs {
		if a.Region == "us-west-2" && a.Held != 20 {
			t.Errorf("us-west-2 holds %d, want 20", a.Held)
		}
	}
}

// TestTwoPlansFillOneRegion: two plans that each would fit alone copy into
// one region at once. Each reads the same inventory, so afisync's own
// planning can overshoot by the other plan's copies in flight; the
// simulator, like AWS, refuses past the limit (ResourceLimitExceeded): the
// region never passes it, and every target is copied or failed.
func TestTwoPlansFillOneRegion(t *testing.T) {
	for _, enforced := range []bool{true, false} {
		t.Run(fmt.Sprintf("simulator limit %v", enforced), func(t *testing.T) {
			o := ec2sim.Options{}
			if enforced {
				o.AFILimit = 20
			}
			w := newWorld(t, o)
			srcs := w.seed("us-east-1", 16)
			for i := 0; i < 10; i++ {
				if _, err := w.sim.AddImage(ec2sim.Image{Region: "us-west-2"}); err != nil {
					t.Fatal(err)
				}
			}
			plans := []*plan.Plan{namedPlan(t, "a", srcs[:8], []string{"us-west-2"}, ""), namedPlan(t, "b", srcs[8:], []string{"us-west-2"}, "")}
			reps := make([]*report.Report, 2)
			var wg sync.WaitGroup
			for i, p := range plans {
				wg.Go(func() { reps[i] = w.run(context.Background(), p, executor.Options{AFILimit: 20}) })
			}
			wg.Wait()
			held := 0
			for _, a := range w.sim.Stats().AFIs {
				if a.Region == "us-west-2" {
					held = a.Held
				}
			}
			// The bound: the limit, plus (without AWS's own refusal) the
			// copies the other plan had planned and not made when this
			// one read its inventory: at most its 8.
			bound := 20
			if !enforced {
				bound = 20 + 8
			}
			if held > bound {
				t.Errorf("us-west-2 holds %d, more than %d", held, bound)
			}
			made := 0
			for _, rep := range reps {
				for _, tg := range rep.Targets {
					switch tg.Status {
					case report.StatusCopying, report.StatusCopied:
						made++
					case report.StatusFailed:
						if !strings.Contains(tg.Message, "us-west-2 holds") && !strings.Contains(tg.Message, ec2sim.CodeAFILimit) {
							t.Errorf("failed for another reason: %s", tg.Message)
						}
					default:
						t.Errorf("status %s: %s", tg.Status, tg.Message)
					}
				}
			}
			if made != held-10 {
				t.Errorf("%d copies reported, %d made", made, held-10)
			}
		})
	}
}

// TestLimitSources: the limit comes from the flag, else the plan, else
// Service Quotas (the simulator answers GetServiceQuota with its
// --afi-limit), else the default; a failed lookup falls back at once.
func TestLimitSources(t *testing.T) {
	for _, tc := range []struct {
		name      string
		simLimit  int
		flag      int
		settings  string
		wantLimit int
		source    string
		refused   bool
	}{
		{name: "service quotas", simLimit: 20, wantLimit: 20, source: "service-quotas", refused: true},
		{name: "plan over service quotas", simLimit: 20, settings: "settings:\n  quota: {afis: 50, regions: {us-west-2: 30}}\n", wantLimit: 30, source: "plan"},
		{name: "flag over plan", simLimit: 20, flag: 25, settings: "settings:\n  quota: {afis: 19}\n", wantLimit: 25, source: "flag"},
		{name: "default when the lookup fails", wantLimit: 100, source: "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := shellWorld(t)
			w.sim.SetAFILimit(tc.simLimit)
			p := nightly(t, tc.settings) // settings: after defaults, before afis
			rep := w.run(context.Background(), p, executor.Options{AFILimit: tc.flag, DryRun: true})
			q := quotaOf(rep, "us-west-2")
			if q.Limit != tc.wantLimit || q.Source != tc.source || q.Refused != tc.refused {
				t.Errorf("us-west-2 quota = %+v; want limit %d from %s, refused %v", q, tc.wantLimit, tc.source, tc.refused)
			}
			if n := w.sim.Stats().Count("GetServiceQuota", "", ""); tc.flag > 0 && n != 0 {
				t.Errorf("%d Service Quotas calls despite --afi-limit", n)
			}
		})
	}
}

// TestPreflightNamesARefusedRegion: preflight judges the quota as sync
// would, and fails for a region a sync would refuse.
func TestPreflightNamesARefusedRegion(t *testing.T) {
	w, _ := shellWorld(t)
	pf, err := executor.Preflight(context.Background(), w.client(afi.Config{}), nightly(t, ""), executor.Options{AFILimit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := pf.Write(&b, report.FormatText); err != nil {
		t.Fatal(err)
	}
	if pf.ExitCode() != 1 || !strings.Contains(b.String(), "quota: us-west-2 holds 18 AFIs and its limit is 20 (flag); a sync would create 5") {
		t.Errorf("exit %d:\n%s", pf.ExitCode(), b.String())
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", "ok"); n != 0 {
		t.Errorf("preflight made %d copies", n)
	}
}

// TestInterruptedWhileMakingRoom: an interrupt during the deletions that
// make room starts no copy, and the copies say they were not started, not
// that the region's quota refused them (which it did not).
func TestInterruptedWhileMakingRoom(t *testing.T) {
	w, _ := shellWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.intercept(func(rw http.ResponseWriter, body string) bool {
		if strings.Contains(body, "Action=DeleteFpgaImage") {
			cancel() // Ctrl-C while the first deletion is in flight
		}
		return false
	})
	rep := w.run(ctx, nightly(t, "  retain: {keep_last: 5}\n"), executor.Options{AFILimit: 20})
	if !rep.Interrupted {
		t.Errorf("not interrupted:\n%s", text(rep))
	}
	for _, tg := range rep.Targets {
		if tg.Region == "us-west-2" && tg.CopyAFI == "" && tg.Message != "not started: interrupted" {
			t.Errorf("us-west-2 copy of %s: %s %q, want not started", tg.SourceAFI, tg.Status, tg.Message)
		}
	}
	if q := quotaOf(rep, "us-west-2"); q.Refused {
		t.Errorf("us-west-2 refused: %+v", q)
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "us-west-2", ""); n != 0 {
		t.Errorf("%d copies into us-west-2", n)
	}
}

// TestPreflightQuotaIsTheDiffs: preflight judges each region's quota as the
// diff of the same plan does, retention rules (keep_newer_than needs the
// run's clock) and --prune included.
func TestPreflightQuotaIsTheDiffs(t *testing.T) {
	for _, retain := range []string{"", "  retain: {keep_last: 5}\n", "  retain: {keep_newer_than: 4d}\n"} {
		for _, prune := range []bool{false, true} {
			t.Run(fmt.Sprintf("%q prune=%v", retain, prune), func(t *testing.T) {
				w, _ := shellWorld(t)
				p := nightly(t, retain)
				o := executor.Options{AFILimit: 20, Prune: prune, Clock: simClock{w.clock, &w.sleeps}}
				pf, err := executor.Preflight(context.Background(), w.client(afi.Config{}), p, o)
				if err != nil {
					t.Fatal(err)
				}
				o.DryRun = true
				diff := w.run(context.Background(), p, o)
				if got, want := fmt.Sprintf("%+v", pf.Quota), fmt.Sprintf("%+v", diff.Quota); got != want {
					t.Errorf("preflight quota\n%s\nwant the diff's\n%s", got, want)
				}
			})
		}
	}
}
