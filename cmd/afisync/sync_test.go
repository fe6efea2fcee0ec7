package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
)

// simEnv serves a simulator on a manual clock and points the AWS chain of
// this test process at it.
func simEnv(t *testing.T) (*ec2sim.Sim, string) {
	t.Helper()
	sim := ec2sim.New(ec2sim.Options{Clock: ec2sim.NewManualClock(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_EC2":        "",
		"AWS_PROFILE":                 "",
	} {
		t.Setenv(k, v)
	}
	return sim, srv.URL
}

func writePlan(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := testCLI(strings.NewReader(""), &out, &errb).run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestSyncAndDiffExitCodes(t *testing.T) {
	sim, url := simEnv(t)
	src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "nic"})
	if err != nil {
		t.Fatal(err)
	}
	good := writePlan(t, "version: 1\nname: cli\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1]\nafis:\n  - id: "+src.ID+"\n")
	missing := writePlan(t, "version: 1\nname: cli\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: afi-0000000000000000f\n")
	invalid := writePlan(t, "version: 1\nname: cli\nafis:\n  - id: afi-nope\n")

	code, out, _ := runCLI(t, "diff", "--plan", good, "--endpoint-url", url)
	if code != 0 || !strings.Contains(out, "would-copy") {
		t.Errorf("diff: exit %d, output:\n%s", code, out)
	}
	code, _, _ = runCLI(t, "diff", "--plan", good, "--endpoint-url", url, "--detailed-exitcode")
	if code != 2 {
		t.Errorf("diff --detailed-exitcode with changes pending: exit %d, want 2", code)
	}
	code, _, _ = runCLI(t, "sync", "--dry-run", "--detailed-exitcode", "--plan", good, "--endpoint-url", url)
	if code != 2 {
		t.Errorf("sync --dry-run --detailed-exitcode: exit %d, want 2", code)
	}
	if n := sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Fatalf("diff and dry run made %d CopyFpgaImage calls", n)
	}

	reportFile := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := runCLI(t, "sync", "--plan", good, "--endpoint-url", url, "-o", "json", "--report", reportFile)
	if code != 0 {
		t.Fatalf("sync: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var rep struct {
		Plan    string         `json:"plan"`
		Summary map[string]int `json:"summary"`
		Targets []struct {
			Status  string `json:"status"`
			CopyAFI string `json:"copy_afi"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if rep.Plan != "cli" || rep.Summary["copying"] != 2 || len(rep.Targets) != 2 {
		t.Errorf("JSON report = %+v", rep)
	}
	if data, err := os.ReadFile(reportFile); err != nil || !bytes.Equal(data, []byte(out)) {
		t.Errorf("--report file differs from stdout (err %v)", err)
	}

	code, _, _ = runCLI(t, "diff", "--plan", good, "--endpoint-url", url, "--detailed-exitcode")
	if code != 0 {
		t.Errorf("diff after sync: exit %d, want 0", code)
	}
	// Dropping a region: diff --prune lists its copy, plain diff does not.
	fewer := writePlan(t, "version: 1\nname: cli\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: "+src.ID+"\n")
	code, out, _ = runCLI(t, "diff", "--plan", fewer, "--endpoint-url", url, "--prune", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "would-prune") {
		t.Errorf("diff --prune after dropping a region: exit %d, want 2 and would-prune:\n%s", code, out)
	}
	if code, out, _ = runCLI(t, "diff", "--plan", fewer, "--endpoint-url", url, "--detailed-exitcode"); code != 0 || strings.Contains(out, "would-prune") {
		t.Errorf("diff without --prune: exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "sync", "--plan", missing, "--endpoint-url", url)
	if code != 1 || !strings.Contains(out, "skipped") {
		t.Errorf("sync with a missing source: exit %d, want 1:\n%s", code, out)
	}
	calls := sim.Stats().Total
	code, _, errOut = runCLI(t, "sync", "--plan", invalid, "--endpoint-url", url)
	if code != 3 || !strings.Contains(errOut, "plan.yaml:4:") {
		t.Errorf("sync with an invalid plan: exit %d, want 3; stderr:\n%s", code, errOut)
	}
	if sim.Stats().Total != calls {
		t.Error("an invalid plan still called AWS")
	}
}

func TestSyncCommandLineErrors(t *testing.T) {
	plan := writePlan(t, "version: 1\nname: cli\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: afi-0123456789abcdef0\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sync"}, "--plan is required"},
		{[]string{"sync", "--plan", plan, "-o", "yaml"}, `unknown output format "yaml"`},
		{[]string{"sync", "--plan", plan, "--concurrency", "0"}, "--concurrency must be at least 1"},
		{[]string{"sync", "--plan", plan, "--retries", "-1"}, "--retries must be 0 or more"},
		{[]string{"sync", "--plan", plan, "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"sync", "--plan", plan, "--afi-limit", "0"}, "--afi-limit must be 1 to 1000000, not 0"},
		{[]string{"diff", "--plan", plan, "--afi-limit", "-3"}, "--afi-limit must be 1 to 1000000, not -3"},
		{[]string{"preflight", "--plan", plan, "--afi-limit", "0"}, "--afi-limit must be 1 to 1000000, not 0"},
		{[]string{"sync", "--plan", plan, "--log-format", "xml"}, "--log-format"},
		{[]string{"sync", "--plan", plan, "--no-such-flag"}, "unknown flag"},
		{[]string{"diff", "--plan", plan, "extra"}, "unknown command"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != 3 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 3 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestSimulate(t *testing.T) {
	_, _ = simEnv(t) // isolate from the machine's AWS configuration
	code, out, errOut := runCLI(t, "sync", "--plan", filepath.Join("..", "..", "plans", "example.yaml"), "--simulate")
	if code != 0 {
		t.Fatalf("sync --simulate: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "SIMULATED") {
		t.Errorf("--simulate does not say so on stderr:\n%s", errOut)
	}
	if !strings.Contains(out, "(SIMULATED)") || !strings.Contains(out, "copying") {
		t.Errorf("report:\n%s", out)
	}
}
