package metrics

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/report"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

// Parse reads a metrics file with Prometheus' own text parser.
func parse(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mfs, err := Parse(f)
	if err != nil {
		t.Fatalf("the metrics file does not parse: %v", err)
	}
	return mfs
}

// value returns the gauge of family name whose labels include want.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	if mf.GetType() != dto.MetricType_GAUGE {
		t.Errorf("%s is a %s, want a gauge", name, mf.GetType())
	}
next:
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func run(statuses ...report.Status) Run {
	rep := &report.Report{Plan: "fleet", StartedAt: t0, FinishedAt: t0.Add(90 * time.Second)}
	for i, s := range statuses {
		rep.Targets = append(rep.Targets, report.Target{SourceAFI: "afi-1", SourceRegion: "us-east-1", Region: []string{"us-west-2", "eu-west-1"}[i%2], Status: s})
	}
	rep.Quota = []report.Quota{{Region: "us-west-2", Held: 18, Limit: 20, Source: "flag", Copies: 5, Deletes: 3, After: 20, Headroom: 0},
		{Region: "eu-west-1", Held: 2, Limit: 100, Source: "default", Copies: 5, After: 7, Headroom: 93}}
	rep.Finish()
	return Run{
		Plan: "fleet", Report: rep, Started: t0, Finished: t0.Add(90 * time.Second),
		Calls: []afi.CallStat{
			{CallKey: afi.CallKey{Region: "us-west-2", Action: "CopyFpgaImage"}, CallCount: afi.CallCount{Attempts: 5, Throttled: 2, Errors: 1}},
			{CallKey: afi.CallKey{Region: "us-west-2", Action: "DescribeFpgaImages"}, CallCount: afi.CallCount{Attempts: 3}},
			{CallKey: afi.CallKey{Region: "eu-west-1", Action: "CopyFpgaImage"}, CallCount: afi.CallCount{Attempts: 1}},
		},
	}
}

func TestWriteSuccessThenFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "afisync.prom")
	ok := run(report.StatusCopied, report.StatusCopying, report.StatusInSync)
	if err := Write(path, ok, nil); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, path)
	plan := map[string]string{"plan": "fleet"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"plan": "fleet"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"afisync_run_success", plan, 1},
		{"afisync_run_duration_seconds", plan, 90},
		{"afisync_run_timestamp_seconds", plan, float64(t0.Unix() + 90)},
		{LastSuccess, plan, float64(t0.Unix() + 90)},
		{"afisync_run_interrupted", plan, 0},
		{"afisync_targets", with("status", "copied"), 1},
		{"afisync_targets", with("status", "copying"), 1},
		{"afisync_targets", with("status", "in-sync"), 1},
		{"afisync_targets", with("status", "failed"), 0},
		{"afisync_copies_started", with("region", "us-west-2"), 2},
		{"afisync_copies_started", with("region", "eu-west-1"), 1},
		{"afisync_api_calls", with("region", "us-west-2", "action", "CopyFpgaImage"), 5},
		{"afisync_api_throttled", with("region", "us-west-2", "action", "CopyFpgaImage"), 2},
		{"afisync_api_errors", with("region", "us-west-2", "action", "CopyFpgaImage"), 1},
		{"afisync_api_calls", with("region", "us-west-2", "action", "DescribeFpgaImages"), 3},
		{"afisync_afi_headroom", with("region", "us-west-2"), 0},
		{"afisync_afi_headroom", with("region", "eu-west-1"), 93},
		{"afisync_afi_limit", with("region", "us-west-2", "source", "flag"), 20},
		{"afisync_afis_held", with("region", "us-west-2"), 18},
	} {
		if got, found := value(t, mfs, tc.name, tc.labels); !found || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, found, tc.want)
		}
	}
	if n := len(mfs["afisync_targets"].GetMetric()); n != len(report.Statuses) {
		t.Errorf("afisync_targets has %d series, want one per status (%d)", n, len(report.Statuses))
	}

	// A failed run an hour later keeps the last success and says it failed.
	bad := run(report.StatusFailed, report.StatusCopied)
	bad.Started, bad.Finished = t0.Add(time.Hour), t0.Add(time.Hour+time.Minute)
	if err := Write(path, bad, nil); err != nil {
		t.Fatal(err)
	}
	mfs = parse(t, path)
	if v, _ := value(t, mfs, "afisync_run_success", plan); v != 0 {
		t.Errorf("afisync_run_success = %v after a failure", v)
	}
	if v, found := value(t, mfs, LastSuccess, plan); !found || v != float64(t0.Unix()+90) {
		t.Errorf("last success = %v (found %v), want the earlier run's", v, found)
	}
	if v, _ := value(t, mfs, "afisync_targets", with("status", "failed")); v != 1 {
		t.Errorf("failed targets = %v", v)
	}
	// No temporary files are left beside it.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the metrics file", len(entries))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o044 != 0o044 {
		t.Errorf("metrics file is not world-readable: %v %v", fi.Mode(), err)
	}
}

// TestAdoptedOnly: a run that only adopted a hand-made copy succeeded, and
// the metrics count the adopted target.
func TestAdoptedOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "afisync.prom")
	r := run(report.StatusAdopted)
	if !r.Succeeded() {
		t.Error("a run that only adopted did not succeed")
	}
	if err := Write(path, r, nil); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, path)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"afisync_run_success", map[string]string{"plan": "fleet"}, 1},
		{LastSuccess, map[string]string{"plan": "fleet"}, float64(t0.Unix() + 90)},
		{"afisync_targets", map[string]string{"plan": "fleet", "status": "adopted"}, 1},
		{"afisync_targets", map[string]string{"plan": "fleet", "status": "failed"}, 0},
	} {
		if got, found := value(t, mfs, tc.name, tc.labels); !found || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, found, tc.want)
		}
	}
}

func TestWriteFailureWithoutHistory(t *testing.T) {
	for _, tc := range []struct {
		name     string
		previous string // "" = no file
		warn     bool
	}{
		{"no previous file", "", false},
		{"previous file of another plan", "# TYPE afisync_last_success_timestamp_seconds gauge\nafisync_last_success_timestamp_seconds{plan=\"other\"} 1.7e9\n", false},
		{"corrupt previous file", "this is { not prometheus\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "afisync.prom")
			if tc.previous != "" {
				os.WriteFile(path, []byte(tc.previous), 0o644)
			}
			var logs bytes.Buffer
			r := Run{Plan: "fleet", Started: t0, Finished: t0.Add(time.Second), Err: errors.New("no credentials")}
			if err := Write(path, r, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatal(err)
			}
			mfs := parse(t, path)
			if _, found := value(t, mfs, LastSuccess, map[string]string{"plan": "fleet"}); found {
				t.Error("a last success time appeared from nowhere")
			}
			if v, found := value(t, mfs, "afisync_run_success", map[string]string{"plan": "fleet"}); !found || v != 0 {
				t.Errorf("afisync_run_success = %v, %v", v, found)
			}
			if got := strings.Contains(logs.String(), "cannot read the last success"); got != tc.warn {
				t.Errorf("warned %v, want %v: %s", got, tc.warn, logs.String())
			}
		})
	}
}

func TestCheckPath(t *testing.T) {
	for path, ok := range map[string]bool{
		"/var/lib/node_exporter/textfile/afisync.prom": true,
		"afisync.txt":      false,
		"afisync.prom.tmp": false,
	} {
		if err := CheckPath(path); (err == nil) != ok {
			t.Errorf("CheckPath(%q) = %v", path, err)
		}
	}
}

func TestWriteUnwritable(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "missing-dir", "afisync.prom"), run(report.StatusInSync), nil)
	if err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// A plan with accounts: counts targets per account; a plan without keeps
// the status label alone.
func TestTargetsPerAccount(t *testing.T) {
	r := run(report.StatusCopied, report.StatusFailed, report.StatusCopied)
	for i := range r.Report.Targets {
		r.Report.Targets[i].AccountName = []string{"dev", "prod"}[i%2]
		r.Report.Targets[i].Account = []string{"333333333333", "222222222222"}[i%2]
	}
	r.Report.Accounts = []report.Account{{Name: "dev", ID: "333333333333"}, {Name: "prod", ID: "222222222222"}}
	// One region in two accounts: two quota series, told apart by account.
	r.Report.Quota = []report.Quota{
		{Region: "us-west-2", Account: "333333333333", AccountName: "dev", Held: 7, Limit: 100, Source: "default", After: 7, Headroom: 93},
		{Region: "us-west-2", Account: "222222222222", AccountName: "prod", Held: 19, Limit: 20, Source: "plan", Copies: 1, After: 20, Headroom: 0},
	}
	r.Report.Finish()
	path := filepath.Join(t.TempDir(), "afisync.prom")
	if err := Write(path, r, nil); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, path)
	for _, c := range []struct {
		account, name, status string
		want                  float64
	}{{"333333333333", "dev", "copied", 1}, {"333333333333", "dev", "failed", 1}, {"222222222222", "prod", "copied", 1}, {"222222222222", "prod", "failed", 0}} {
		got, ok := value(t, mfs, "afisync_targets", map[string]string{"account": c.account, "account_name": c.name, "status": c.status})
		if !ok || got != c.want {
			t.Errorf("afisync_targets{account_name=%q,status=%q} = %v (found %v), want %v", c.name, c.status, got, ok, c.want)
		}
	}

	for _, c := range []struct {
		metric, account, name string
		extra                 map[string]string
		want                  float64
	}{
		{"afisync_afi_headroom", "333333333333", "dev", nil, 93},
		{"afisync_afi_headroom", "222222222222", "prod", nil, 0},
		{"afisync_afis_held", "222222222222", "prod", nil, 19},
		{"afisync_afi_limit", "222222222222", "prod", map[string]string{"source": "plan"}, 20},
		{"afisync_afi_limit", "333333333333", "dev", map[string]string{"source": "default"}, 100},
	} {
		labels := map[string]string{"account": c.account, "account_name": c.name, "region": "us-west-2"}
		for k, v := range c.extra {
			labels[k] = v
		}
		if got, ok := value(t, mfs, c.metric, labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.metric, labels, got, ok, c.want)
		}
	}

	single := filepath.Join(t.TempDir(), "afisync.prom")
	if err := Write(single, run(report.StatusCopied), nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range parse(t, single)["afisync_targets"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "account" {
				t.Fatalf("a plan without accounts: has an account label: %v", m)
			}
		}
	}
}
