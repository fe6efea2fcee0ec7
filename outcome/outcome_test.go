package outcome_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afisync/afisync/internal/ci"
	"github.com/afisync/afisync/metrics"
	"github.com/afisync/afisync/notify"
	"github.com/afisync/afisync/outcome"
	"github.com/afisync/afisync/report"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

// rep is a finished report of plan "nightly" with one target per status.
func rep(statuses ...report.Status) *report.Report {
	r := &report.Report{Plan: "nightly", StartedAt: t0, FinishedAt: t0.Add(time.Minute)}
	for i, s := range statuses {
		r.Targets = append(r.Targets, report.Target{SourceRegion: "us-east-1", SourceAFI: "afi-0123456789abcdef0",
			Region: []string{"us-west-2", "eu-west-1", "eu-west-2"}[i], Status: s, Message: "because"})
	}
	r.Finish()
	return r
}

// hook is a webhook that answers status and counts the POSTs it got.
type hook struct {
	mu     sync.Mutex
	status int
	posts  int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	h.posts++
	h.mu.Unlock()
	w.WriteHeader(h.status)
}

// config is a Config on buffers, notifying srv on every run with retries
// a millisecond apart.
func config(srv *httptest.Server) (outcome.Config, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	cfg := outcome.Config{Command: "sync", Format: report.FormatText, Stdout: &out, Stderr: &errOut,
		Notify: notify.Config{On: notify.OnAlways, RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}}
	if srv != nil {
		cfg.Notify.URLs = []string{srv.URL}
	}
	return cfg, &out, &errOut
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rep      *report.Report
		dryRun   bool
		detailed bool
		want     int
	}{
		{"all copied", rep(report.StatusCopied, report.StatusInSync), false, false, 0},
		{"a target failed", rep(report.StatusCopied, report.StatusFailed), false, false, 1},
		{"skipped", rep(report.StatusSkipped), false, false, 1},
		{"dry run with changes", rep(report.StatusWouldCopy), true, false, 0},
		{"dry run with changes, detailed", rep(report.StatusWouldCopy), true, true, 2},
		{"dry run that would adopt, detailed", rep(report.StatusWouldAdopt), true, true, 2},
		{"dry run in sync, detailed", rep(report.StatusInSync), true, true, 0},
		{"dry run with a failure, detailed", rep(report.StatusWouldCopy, report.StatusFailed), true, true, 1},
		{"run error", func() *report.Report { r := rep(report.StatusCopied); r.Error = "deadline passed"; return r }(), false, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, _ := config(nil)
			cfg.DryRun, cfg.Detailed = tc.dryRun, tc.detailed
			code, err := outcome.Deliver(context.Background(), cfg, outcome.Run{Report: tc.rep})
			if code != tc.want || err != nil {
				t.Errorf("Deliver = %d, %v; want %d, nil", code, err, tc.want)
			}
			if tc.rep.DryRun != tc.dryRun {
				t.Errorf("report DryRun = %v, want %v", tc.rep.DryRun, tc.dryRun)
			}
		})
	}
}

func TestStdout(t *testing.T) {
	const esc = "\x1b["
	failed := rep(report.StatusCopied, report.StatusFailed)
	failed.Error = "the run's --timeout of 1h passed"
	for _, tc := range []struct {
		name        string
		format      report.Format
		color       bool
		startFailed bool
		rep         *report.Report
		wantOut     []string // on stdout
		wantNot     []string // not on stdout
		wantErr     string   // on stderr; "" none
	}{
		{"text", report.FormatText, false, false, rep(report.StatusCopied), []string{"copied", "1 copied"}, []string{esc}, ""},
		{"text in colour", report.FormatText, true, false, rep(report.StatusCopied), []string{esc + "32mcopied"}, nil, ""},
		{"json is never coloured", report.FormatJSON, true, false, rep(report.StatusCopied), []string{`"status": "copied"`}, []string{esc}, ""},
		{"markdown", report.FormatMarkdown, false, false, rep(report.StatusCopied), []string{"| us-west-2 | copied |"}, nil, ""},
		{"run error on stderr too", report.FormatText, false, false, failed, []string{"failed"}, nil, "afisync: the run's --timeout of 1h passed\n"},
		{"could not start: no text report", report.FormatText, false, true, outcome.StartFailure("nightly", t0, errors.New("no credentials")), nil, []string{"nightly"}, ""},
		{"could not start: the JSON report says why", report.FormatJSON, false, true, outcome.StartFailure("nightly", t0, errors.New("no credentials")), []string{`"error": "no credentials"`}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, out, errOut := config(nil)
			cfg.Format, cfg.Color = tc.format, tc.color
			if _, err := outcome.Deliver(context.Background(), cfg, outcome.Run{Report: tc.rep, StartFailed: tc.startFailed}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(out.String(), w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			if errOut.String() != tc.wantErr {
				t.Errorf("stderr %q, want %q", errOut, tc.wantErr)
			}
		})
	}
}

// TestFailedOutputs: an output that cannot be written makes the run exit
// 1, and every other output is still written.
func TestFailedOutputs(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir")
	for _, tc := range []struct {
		name       string
		reportFile string
		metrics    string
		hookStatus int
		required   bool
		wantCode   int
		wantErr    string
	}{
		{"all written", filepath.Join(dir, "r1.txt"), filepath.Join(dir, "m1.prom"), 200, true, 0, ""},
		{"report file", filepath.Join(missing, "r.txt"), filepath.Join(dir, "m2.prom"), 200, false, 1, "write report " + missing},
		{"metrics file", filepath.Join(dir, "r3.txt"), filepath.Join(missing, "m.prom"), 200, false, 1, ""},
		{"notification not required", filepath.Join(dir, "r4.txt"), filepath.Join(dir, "m4.prom"), 500, false, 0, ""},
		{"notification required", filepath.Join(dir, "r5.txt"), filepath.Join(dir, "m5.prom"), 500, true, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hook{status: tc.hookStatus}
			srv := httptest.NewServer(h)
			defer srv.Close()
			cfg, out, _ := config(srv)
			cfg.ReportFile, cfg.MetricsFile, cfg.NotifyRequired = tc.reportFile, tc.metrics, tc.required
			code, err := outcome.Deliver(context.Background(), cfg, outcome.Run{Report: rep(report.StatusCopied)})
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d", code, tc.wantCode)
			}
			if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), "1 copied") {
				t.Errorf("report not on stdout:\n%s", out)
			}
			if h.posts == 0 {
				t.Error("not notified")
			}
			if b, err := os.ReadFile(tc.reportFile); err == nil && !bytes.Equal(b, out.Bytes()) {
				t.Errorf("report file differs from stdout:\n%s", b)
			}
			// The metrics file, where it can be written, records the
			// successful run.
			if last, err := metrics.ReadLastSuccess(tc.metrics, "nightly"); err != nil || (tc.name != "metrics file") != last.Equal(t0.Add(time.Minute)) {
				t.Errorf("last success in the metrics file = %v, %v", last, err)
			}
		})
	}
}

func TestNotifyOn(t *testing.T) {
	for _, tc := range []struct {
		on    notify.On
		rep   *report.Report
		posts int
	}{
		{notify.OnFailure, rep(report.StatusCopied), 0},
		{notify.OnFailure, rep(report.StatusFailed), 1},
		{notify.OnFailure, outcome.StartFailure("nightly", t0, errors.New("no credentials")), 1},
		{notify.OnChange, rep(report.StatusInSync), 0},
		{notify.OnChange, rep(report.StatusAdopted), 1},
		{notify.OnAlways, rep(report.StatusInSync), 1},
	} {
		h := &hook{status: 200}
		srv := httptest.NewServer(h)
		cfg, _, _ := config(srv)
		cfg.Notify.On = tc.on
		outcome.Deliver(context.Background(), cfg, outcome.Run{Report: tc.rep})
		srv.Close()
		if h.posts != tc.posts {
			t.Errorf("--notify-on %s, %v: %d POSTs, want %d", tc.on, tc.rep.Summary, h.posts, tc.posts)
		}
	}
}

func TestGitHub(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rep         *report.Report
		wantSummary string
		wantStderr  []string
	}{
		{"report", rep(report.StatusCopied, report.StatusSkipped), "### afisync sync of plan \"nightly\"",
			[]string{"::error title=afisync%3A us-east-1/afi-0123456789abcdef0 → eu-west-1 skipped::because\n"}},
		{"could not start", outcome.StartFailure("nightly", t0, errors.New("no credentials")), "### afisync sync of plan \"nightly\" failed\n\n```\nno credentials\n```",
			[]string{"::error title=afisync sync failed::no credentials\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "summary.md")
			cfg, _, errOut := config(nil)
			cfg.GitHub = ci.GitHub{StepSummary: summary, Annotate: true}
			outcome.Deliver(context.Background(), cfg, outcome.Run{Report: tc.rep, StartFailed: tc.rep.Error != ""})
			b, err := os.ReadFile(summary)
			if err != nil || !strings.Contains(string(b), tc.wantSummary) {
				t.Errorf("step summary %q (%v), want %q", b, err, tc.wantSummary)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	// Outside GitHub Actions: no annotation.
	cfg, _, errOut := config(nil)
	outcome.Deliver(context.Background(), cfg, outcome.Run{Report: rep(report.StatusFailed)})
	if strings.Contains(errOut.String(), "::error") {
		t.Errorf("annotation outside GitHub Actions: %s", errOut)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  outcome.Config
		want string // "" valid
	}{
		{"nothing to do", outcome.Config{}, ""},
		{"webhook and metrics", outcome.Config{Notify: notify.Config{URLs: []string{"https://hooks.example.com/x"}}, NotifyRequired: true, MetricsFile: "/var/lib/node_exporter/afisync.prom"}, ""},
		{"not http", outcome.Config{Notify: notify.Config{URLs: []string{"ftp://u:pw@example.com/SECRET"}}}, "--notify ftp://example.com/…: not an http"},
		{"required without a URL", outcome.Config{NotifyRequired: true}, "--notify-required needs at least one --notify URL"},
		{"metrics file name", outcome.Config{MetricsFile: "afisync.txt"}, "must end in .prom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Check()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "pw")) {
				t.Errorf("Check() prints a secret: %v", err)
			}
		})
	}
}
