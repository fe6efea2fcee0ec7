package main

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/afisync/afisync/ec2sim"
)

// TestAdoptionOnlyIsAChange: a run whose only work is adopting a copy made
// by hand (same AGFI, no afisync tags) is a change to every consumer: diff
// --detailed-exitcode exits 2, sync exits 0, --notify-on change posts and
// the metrics count the adopted target in a successful run.
func TestAdoptionOnlyIsAChange(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "nic"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddImage(ec2sim.Image{Region: "us-west-2", AGFI: src.AGFI, Name: "nic"}); err != nil {
		t.Fatal(err)
	}
	plan := writePlan(t, "version: 1\nname: nightly\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: "+src.ID+"\n")
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	metricsFile := filepath.Join(t.TempDir(), "afisync.prom")

	// The dry run, then the sync, each notified with --notify-on change.
	for i, tc := range []struct {
		args   []string
		code   int
		status string
	}{
		{[]string{"diff", "--detailed-exitcode"}, 2, "would-adopt"},
		{[]string{"sync", "--metrics-file", metricsFile}, 0, "adopted"},
	} {
		args := append(tc.args, "--plan", plan, "--endpoint-url", url, "-o", "json", "--notify", srv.URL, "--notify-on", "change")
		code, out, errOut := runCLI(t, args...)
		if code != tc.code {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", tc.args, code, tc.code, out, errOut)
		}
		if got := summary(t, out); got[tc.status] != 1 || len(got) != 1 {
			t.Errorf("%v: summary = %v, want 1 %s", tc.args, got, tc.status)
		}
		if len(h.bodies) != i+1 {
			t.Fatalf("%v --notify-on change: %d notifications in all, want %d", tc.args, len(h.bodies), i+1)
		}
		if got := summary(t, string(h.bodies[i])); got[tc.status] != 1 {
			t.Errorf("%v: notification summary = %v, want 1 %s", tc.args, got, tc.status)
		}
	}
	mfs := parseMetrics(t, metricsFile)
	if v, ok := gauge(mfs, "afisync_run_success", "plan", "nightly"); !ok || v != 1 {
		t.Errorf("afisync_run_success = %v (found %v), want 1", v, ok)
	}
	if v, ok := gauge(mfs, "afisync_targets", "plan", "nightly", "status", "adopted"); !ok || v != 1 {
		t.Errorf(`afisync_targets{status="adopted"} = %v (found %v), want 1`, v, ok)
	}
	if n := sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("adoption made %d copies", n)
	}
}

// summary returns the summary of a JSON report.
func summary(t *testing.T, js string) map[string]float64 {
	t.Helper()
	var r struct {
		Summary map[string]float64 `json:"summary"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, js)
	}
	return r.Summary
}
