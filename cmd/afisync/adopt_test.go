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
	quickNotify(t)
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

	code, out, errOut := runCLI(t, "diff", "--plan", plan, "--endpoint-url", url, "--detailed-exitcode", "-o", "json", "--notify", srv.URL, "--notify-on", "change")
	if code != 2 {
		t.Fatalf("diff --detailed-exitcode: exit %d, want 2\n%s\n%s", code, out, errOut)
	}
	if got := summary(t, out); got["would-adopt"] != 1 || len(got) != 1 {
		t.Errorf("diff summary = %v, want 1 would-adopt", got)
	}
	if len(h.bodies) != 1 {
		t.Errorf("diff --notify-on change: %d notifications, want 1", len(h.bodies))
	}

	code, out, errOut = runCLI(t, "sync", "--plan", plan, "--endpoint-url", url, "-o", "json", "--notify", srv.URL, "--notify-on", "change", "--metrics-file", metricsFile)
	if code != 0 {
		t.Fatalf("sync: exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	if got := summary(t, out); got["adopted"] != 1 || len(got) != 1 {
		t.Errorf("sync summary = %v, want 1 adopted", got)
	}
	if len(h.bodies) != 2 {
		t.Fatalf("sync --notify-on change: %d notifications in all, want 2", len(h.bodies))
	}
	if got := summary(t, string(h.bodies[1])); got["adopted"] != 1 {
		t.Errorf("notification summary = %v, want 1 adopted", got)
	}
	mfs := parseMetrics(t, metricsFile)
	for _, tc := range []struct {
		name string
		kv   []string
		want float64
	}{
		{"afisync_run_success", []string{"plan", "nightly"}, 1},
		{"afisync_targets", []string{"plan", "nightly", "status", "adopted"}, 1},
	} {
		if got, ok := gauge(mfs, tc.name, tc.kv...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.kv, got, ok, tc.want)
		}
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
