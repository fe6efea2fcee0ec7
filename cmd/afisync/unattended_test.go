package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	dto "github.com/prometheus/client_model/go"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/metrics"
	"github.com/afisync/afisync/notify"
	"github.com/afisync/afisync/report"
)

// testCLI is the CLI as the in-process tests run it: notification retries
// wait a millisecond.
func testCLI(stdin io.Reader, stdout, stderr io.Writer) *cli {
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr,
		notify: notify.Config{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}}
}

// noCI keeps the GitHub Actions environment of whoever runs the tests out
// of them.
func noCI(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "")
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	t.Setenv("AFISYNC_NOTIFY", "")
}

// twoRegionPlan seeds a source AFI and returns a plan copying it to two
// regions, and one whose source does not exist.
func twoRegionPlan(t *testing.T, sim *ec2sim.Sim) (good, missing string) {
	t.Helper()
	src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "nic"})
	if err != nil {
		t.Fatal(err)
	}
	good = writePlan(t, "version: 1\nname: nightly\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1]\nafis:\n  - id: "+src.ID+"\n")
	missing = writePlan(t, "version: 1\nname: nightly\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: afi-0000000000000000f\n")
	return good, missing
}

func parseMetrics(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mfs, err := metrics.Parse(f)
	if err != nil {
		t.Fatalf("metrics file does not parse: %v", err)
	}
	return mfs
}

// gauge returns the value of the series of name whose labels include kv.
func gauge(mfs map[string]*dto.MetricFamily, name string, kv ...string) (float64, bool) {
next:
	for _, m := range mfs[name].GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i < len(kv); i += 2 {
			if labels[kv[i]] != kv[i+1] {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func TestSyncWritesMetrics(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	good, missing := twoRegionPlan(t, sim)
	path := filepath.Join(t.TempDir(), "afisync.prom")

	code, out, errOut := runCLI(t, "sync", "--plan", good, "--endpoint-url", url, "--metrics-file", path)
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
	}
	mfs := parseMetrics(t, path)
	copies := sim.Stats().Count("CopyFpgaImage", "", "")
	for _, tc := range []struct {
		name string
		kv   []string
		want float64
	}{
		{"afisync_run_success", []string{"plan", "nightly"}, 1},
		{"afisync_targets", []string{"plan", "nightly", "status", "copying"}, 2},
		{"afisync_targets", []string{"plan", "nightly", "status", "failed"}, 0},
		{"afisync_copies_started", []string{"region", "us-west-2"}, 1},
		{"afisync_copies_started", []string{"region", "eu-west-1"}, 1},
		{"afisync_api_calls", []string{"region", "us-west-2", "action", "CopyFpgaImage"}, 1},
		{"afisync_api_throttled", []string{"region", "us-west-2", "action", "CopyFpgaImage"}, 0},
	} {
		if got, ok := gauge(mfs, tc.name, tc.kv...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.kv, got, ok, tc.want)
		}
	}
	if copies != 2 {
		t.Errorf("the simulator saw %d CopyFpgaImage calls, want 2", copies)
	}
	last, ok := gauge(mfs, "afisync_last_success_timestamp_seconds", "plan", "nightly")
	if !ok || last <= 0 {
		t.Fatalf("no last success after a successful sync")
	}

	// A failing run keeps the last success and says it failed.
	code, _, _ = runCLI(t, "sync", "--plan", missing, "--endpoint-url", url, "--metrics-file", path)
	if code != 1 {
		t.Fatalf("sync with a missing source: exit %d", code)
	}
	mfs = parseMetrics(t, path)
	if v, _ := gauge(mfs, "afisync_run_success", "plan", "nightly"); v != 0 {
		t.Errorf("afisync_run_success = %v after a failed run", v)
	}
	if v, _ := gauge(mfs, "afisync_targets", "status", "skipped"); v != 1 {
		t.Errorf("skipped targets = %v", v)
	}
	if v, ok := gauge(mfs, "afisync_last_success_timestamp_seconds", "plan", "nightly"); !ok || v != last {
		t.Errorf("last success = %v (found %v), want the earlier %v", v, ok, last)
	}
}

// hook is a webhook that answers with statuses in turn (the last one
// forever) and keeps the bodies it got.
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, b)
	st := h.statuses[min(len(h.bodies)-1, len(h.statuses)-1)]
	h.mu.Unlock()
	w.WriteHeader(st)
}

func TestSyncNotifies(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	good, missing := twoRegionPlan(t, sim)

	// A failed run: the hook fails twice, then takes the report.
	flaky := &hook{statuses: []int{503, 502, 200}}
	srv := httptest.NewServer(flaky)
	defer srv.Close()
	code, out, errOut := runCLI(t, "sync", "--plan", missing, "--endpoint-url", url, "-o", "json", "--notify", srv.URL+"/hook/SECRET")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	if len(flaky.bodies) != 3 {
		t.Fatalf("hook got %d requests, want 3", len(flaky.bodies))
	}
	var sent, printed map[string]any
	if err := json.Unmarshal(flaky.bodies[2], &sent); err != nil {
		t.Fatalf("notification is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	if sent["plan"] != "nightly" || sent["summary"].(map[string]any)["skipped"] != 1.0 || !bytes.Equal(flaky.bodies[2], []byte(out)) {
		t.Errorf("notification differs from the report:\n%s", flaky.bodies[2])
	}
	if !strings.Contains(errOut, "notification delivered") || strings.Contains(errOut, "SECRET") {
		t.Errorf("stderr:\n%s", errOut)
	}

	// The URL can come from the environment instead of the command line.
	t.Setenv("AFISYNC_NOTIFY", "  "+srv.URL+"/env  ")
	if code, _, _ := runCLI(t, "sync", "--plan", missing, "--endpoint-url", url); code != 1 || len(flaky.bodies) != 4 {
		t.Errorf("$AFISYNC_NOTIFY: exit %d, %d requests in all; want 1, 4", code, len(flaky.bodies))
	}
	t.Setenv("AFISYNC_NOTIFY", "")

	// A successful run with the default --notify-on failure sends nothing.
	quiet := &hook{statuses: []int{200}}
	srv2 := httptest.NewServer(quiet)
	defer srv2.Close()
	if code, _, _ := runCLI(t, "sync", "--plan", good, "--endpoint-url", url, "--notify", srv2.URL); code != 0 || len(quiet.bodies) != 0 {
		t.Errorf("successful run: exit %d, %d notifications; want 0, 0", code, len(quiet.bodies))
	}
	// --notify-on always with Slack format sends the text message.
	if code, _, _ := runCLI(t, "sync", "--plan", good, "--endpoint-url", url, "--notify", srv2.URL, "--notify-on", "always", "--notify-format", "slack"); code != 0 || len(quiet.bodies) != 1 {
		t.Fatalf("--notify-on always: exit %d, %d notifications", code, len(quiet.bodies))
	}
	var msg map[string]string
	if err := json.Unmarshal(quiet.bodies[0], &msg); err != nil || !strings.Contains(msg["text"], `afisync sync of plan "nightly"`) {
		t.Errorf("Slack message %s (%v)", quiet.bodies[0], err)
	}
}

func TestSyncNotifyFailureKeepsReport(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	good, _ := twoRegionPlan(t, sim)
	down := &hook{statuses: []int{500}}
	srv := httptest.NewServer(down)
	defer srv.Close()
	secret := srv.URL + "/services/T0/B0/XXXXSECRET?token=abc123"
	for _, tc := range []struct {
		name     string
		extra    []string
		wantCode int
		attempts string // in the log line; "" for any
	}{
		{"not required: the run's own status", nil, 0, "attempts=6"},
		{"required: exit 1", []string{"--notify-required"}, 1, "attempts=6"},
		{"short deadline", []string{"--notify-timeout", "50ms", "--notify-required"}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sync", "--plan", good, "--endpoint-url", url, "--notify", secret, "--notify-on", "always"}, tc.extra...)
			code, out, errOut := runCLI(t, args...)
			// The retries are bounded by count (1 + notify.DefaultRetryMax),
			// not by how long they happen to take.
			if !strings.Contains(errOut, tc.attempts) {
				t.Errorf("log lacks %q:\n%s", tc.attempts, errOut)
			}
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\n%s", code, tc.wantCode, errOut)
			}
			if !strings.Contains(out, "afisync sync of plan \"nightly\"") || !strings.Contains(out, "copying") {
				t.Errorf("report lost:\n%s", out)
			}
			if !strings.Contains(errOut, "notification not delivered") {
				t.Errorf("undelivered notification not logged:\n%s", errOut)
			}
			for _, s := range []string{"XXXXSECRET", "abc123", "services"} {
				if strings.Contains(out+errOut, s) {
					t.Errorf("secret %q printed:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestRunErrorIsReported(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	good, _ := twoRegionPlan(t, sim)
	// Credentials the simulator rejects: the run cannot learn its account.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	t.Setenv("GITHUB_ACTIONS", "true")
	metricsPath := filepath.Join(t.TempDir(), "afisync.prom")
	code, _, errOut := runCLI(t, "sync", "--plan", good, "--endpoint-url", url, "--notify", srv.URL, "--metrics-file", metricsPath)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	if len(h.bodies) != 1 || !strings.Contains(string(h.bodies[0]), `"error"`) {
		t.Errorf("run error not notified: %q", h.bodies)
	}
	if v, ok := gauge(parseMetrics(t, metricsPath), "afisync_run_success", "plan", "nightly"); !ok || v != 0 {
		t.Errorf("afisync_run_success = %v, %v", v, ok)
	}
	if b, _ := os.ReadFile(summary); !strings.Contains(string(b), "failed") {
		t.Errorf("step summary: %q", b)
	}
	if !strings.Contains(errOut, "::error title=afisync sync failed::") {
		t.Errorf("no annotation:\n%s", errOut)
	}
}

var escapeCode = regexp.MustCompile("\x1b")

func TestNonTTYOutput(t *testing.T) {
	noCI(t)
	t.Setenv("NO_COLOR", "")
	plan := writePlan(t, "version: 1\nname: cron\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1]\nafis:\n  - id: afi-0123456789abcdef0\n")
	code, out, errOut := runCLI(t, "sync", "--simulate", "--plan", plan)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if escapeCode.MatchString(out) || escapeCode.MatchString(errOut) {
		t.Errorf("escape codes without a terminal:\nstdout %q\nstderr %q", out, errOut)
	}
	for _, want := range []string{"msg=progress phase=inventory", "msg=progress phase=done", "regions=\"eu-west-1: 1 pending; us-west-2: 1 pending\""} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	_, _, errOut = runCLI(t, "sync", "--simulate", "--plan", plan, "--no-progress")
	if strings.Contains(errOut, "msg=progress") {
		t.Errorf("--no-progress still logs progress:\n%s", errOut)
	}
}

func TestGitHubActions(t *testing.T) {
	sim, url := simEnv(t)
	good, missing := twoRegionPlan(t, sim)
	summary := filepath.Join(t.TempDir(), "step-summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	t.Setenv("GITHUB_ACTIONS", "true")

	code, out, errOut := runCLI(t, "sync", "--plan", missing, "--endpoint-url", url, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("annotations broke the JSON on stdout: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^::error title=afisync%3A us-east-1/afi-0000000000000000f → us-west-2 skipped::.+$`).MatchString(errOut) {
		t.Errorf("no annotation for the skipped target on stderr:\n%s", errOut)
	}
	if code, _, _ := runCLI(t, "sync", "--plan", good, "--endpoint-url", url); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	rep.Write(&md, report.FormatMarkdown)
	if !strings.HasPrefix(string(got), md.String()) || strings.Count(string(got), "### afisync sync of plan") != 2 {
		t.Errorf("step summary does not hold both Markdown reports:\n%s", got)
	}

	t.Setenv("GITHUB_ACTIONS", "")
	_, _, errOut = runCLI(t, "sync", "--plan", missing, "--endpoint-url", url)
	if strings.Contains(errOut, "::error") {
		t.Errorf("annotations outside GitHub Actions:\n%s", errOut)
	}
}

func TestUnattendedFlagErrors(t *testing.T) {
	noCI(t)
	plan := writePlan(t, "version: 1\nname: cli\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: afi-0123456789abcdef0\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--notify-format", "teams"}, `--notify-format "teams"`},
		{[]string{"--notify-on", "sometimes"}, `--notify-on "sometimes"`},
		{[]string{"--notify-timeout", "0s"}, "--notify-timeout must be positive"},
		{[]string{"--notify", "ftp://user:pw@example.com/hook?token=SECRET"}, "--notify ftp://example.com/…: not an http"},
		{[]string{"--notify-required"}, "--notify-required needs"},
		{[]string{"--metrics-file", "afisync.txt"}, "must end in .prom"},
	} {
		args := append([]string{"sync", "--plan", plan, "--simulate"}, tc.args...)
		code, _, errOut := runCLI(t, args...)
		if code != 3 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "SECRET") || strings.Contains(errOut, "pw@") {
			t.Errorf("%v: exit %d, stderr %q; want 3 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestHelperAfisync is not a test: tests that need afisync as a process of
// its own (a pty, signals, a shell) run this test binary with
// AFISYNC_TEST_HELPER=1 and the arguments after "--"; signals are wired as
// in main.
func TestHelperAfisync(t *testing.T) {
	if os.Getenv("AFISYNC_TEST_HELPER") != "1" {
		t.Skip("runs only as afisync, in a child process of another test")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(runWithSignals(args, os.Stdin, os.Stdout, os.Stderr, os.Exit))
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// TestLiveViewInPTY runs `afisync sync --simulate --wait` on a
// pseudo-terminal and reads what a person would see: the live view with
// each region and its counts, then the report ending with the summary.
// Simulated copies take about 3 s, so this test takes a few real seconds.
func TestLiveViewInPTY(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: takes a few seconds of real time")
	}
	t.Parallel() // its time is the simulated copies' 3 s: spent alongside other process tests
	plan := writePlan(t, "version: 1\nname: pty\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1]\nafis:\n  - id: afi-0123456789abcdef0\n")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAfisync$", "--", "sync", "--simulate", "--wait", "--plan", plan)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") && !strings.HasPrefix(kv, "GITHUB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AFISYNC_TEST_HELPER=1", "TERM=xterm-256color", "AWS_EC2_METADATA_DISABLED=true")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var raw bytes.Buffer
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(&raw, ptmx)
		copied <- err
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("afisync did not finish:\n%s", raw.String())
	}
	if err != nil {
		t.Errorf("afisync: %v", err)
	}
	// Reading a pty whose other end has closed ends in EIO on Linux.
	if err := <-copied; err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	out := raw.String()
	plain := strings.ReplaceAll(ansi.ReplaceAllString(out, ""), "\r", "")
	for _, want := range []string{
		"afisync  waiting", "deadline", "us-west-2 [", "eu-west-1 [",
		"1 pending", "afisync  done", "2 available",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("the terminal never showed %q:\n%s", want, plain)
		}
	}
	if !strings.Contains(out, "\x1b[32mavailable\x1b[0m") {
		t.Errorf("no green \"available\" on a colour terminal:\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(plain), "\n")
	if last := lines[len(lines)-1]; !regexp.MustCompile(`^2 copied \(.+\)$`).MatchString(last) {
		t.Errorf("output does not end with the summary; last line %q\n%s", last, plain)
	}
	if !regexp.MustCompile(`(?m)^us-east-1/afi-0123456789abcdef0\s+eu-west-1\s+copied`).MatchString(plain) {
		t.Errorf("report rows missing:\n%s", plain)
	}
}

func TestReportFileFailureStillNotifies(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	good, _ := twoRegionPlan(t, sim)
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	bad := filepath.Join(t.TempDir(), "no-such-dir", "report.txt")
	code, out, errOut := runCLI(t, "sync", "--plan", good, "--endpoint-url", url, "--report", bad, "--notify", srv.URL, "--notify-on", "always")
	if code != 1 || !strings.Contains(errOut, "write report") {
		t.Errorf("exit %d, stderr %s; want 1 and the write error", code, errOut)
	}
	if len(h.bodies) != 1 || !strings.Contains(out, "copying") {
		t.Errorf("%d notifications, report %q; want 1 and the report on stdout", len(h.bodies), out)
	}
}
