package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/report"
)

// noCredentials points the AWS chain at empty files and clears every
// credential variable; IMDS stays off.
func noCredentials(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME":                                   home,
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_PROFILE":                            "",
		"AWS_DEFAULT_PROFILE":                    "",
		"AWS_REGION":                             "us-east-1",
		"AWS_CONFIG_FILE":                        filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	} {
		t.Setenv(k, v)
	}
}

const onePlan = "version: 1\nname: stop\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: afi-0123456789abcdef0\n"

// jsonReport parses stdout as the JSON report.
func jsonReport(t *testing.T, stdout string) *report.Report {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
	}
	return &rep
}

func TestRunsThatCannotStartStillReport(t *testing.T) {
	_, url := simEnv(t)
	plan := writePlan(t, onePlan)
	cases := []struct {
		name     string
		setup    func(t *testing.T)
		args     []string
		wantCode int
		want     []string // in the JSON report's error and on stderr
	}{
		{"no credentials", noCredentials, []string{"--plan", plan, "--endpoint-url", url}, exitFailed,
			[]string{"no AWS credentials found", "aws configure", "AWS_PROFILE"}},
		{"SSO session not started", func(t *testing.T) {
			noCredentials(t)
			cfg := "[profile dev]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Dev\nregion = us-east-1\n"
			if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"--plan", plan, "--endpoint-url", url, "--profile", "dev"}, exitFailed,
			[]string{"aws sso login --profile dev"}},
		{"unknown profile", noCredentials, []string{"--plan", plan, "--endpoint-url", url, "--profile", "nope"}, exitInvalid,
			[]string{`profile "nope" is not in`}},
		{"unknown --region", func(*testing.T) {}, []string{"--plan", plan, "--endpoint-url", url, "--region", "us-esat-1"}, exitInvalid,
			[]string{`--region: unknown region "us-esat-1"; did you mean "us-east-1"?`}},
		{"malformed --region", func(*testing.T) {}, []string{"--plan", plan, "--endpoint-url", url, "--region", "bogus"}, exitInvalid,
			[]string{`--region: malformed region "bogus"`}},
		{"invalid plan", func(*testing.T) {}, []string{"--plan", writePlan(t, "version: 1\nname: x\nafis: []\n"), "--endpoint-url", url}, exitInvalid,
			[]string{"is not a valid plan"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t)
			code, stdout, stderr := runCLI(t, append([]string{"sync", "-o", "json"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.wantCode, stderr)
			}
			rep := jsonReport(t, stdout)
			for _, w := range tc.want {
				if !strings.Contains(rep.Error, w) {
					t.Errorf("report error %q lacks %q", rep.Error, w)
				}
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "IMDS") || strings.Contains(stderr, "ec2imds") {
				t.Errorf("stderr shows the SDK's credential-chain words at the default log level:\n%s", stderr)
			}
		})
	}
}

func TestPlanReadIsCancellable(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "plan.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	for _, tc := range []struct {
		name  string
		stdin io.Reader
		args  []string
		want  string
	}{
		{"stdin nobody writes", pr, []string{"validate", "--plan", "-"}, "interrupted while reading the plan from standard input"},
		{"FIFO with no writer", nil, []string{"validate", "--plan", fifo}, "interrupted while reading the plan from " + fifo},
		{"sync from stdin", pr, []string{"sync", "--plan", "-", "-o", "json"}, "interrupted while reading the plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the interrupt has come: nothing may block on the read
			var out, errb bytes.Buffer
			stdin := tc.stdin
			if stdin == nil {
				stdin = strings.NewReader("")
			}
			code := run(ctx, tc.args, stdin, &out, &errb)
			if code != exitFailed || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitFailed, tc.want)
			}
		})
	}
}

// sigRecorder is an exit function that records its status.
type sigRecorder struct {
	mu   sync.Mutex
	code []int
}

func (r *sigRecorder) exit(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.code = append(r.code, code)
}

func TestStopOnSignals(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	stopped := make(chan struct{})
	var errb syncBuffer
	rec := &sigRecorder{}
	done := make(chan struct{})
	go func() {
		stopOnSignals(sigs, func() { close(stopped) }, &errb, rec.exit)
		close(done)
	}()
	sigs <- os.Interrupt
	<-stopped
	if len(rec.code) != 0 {
		t.Fatalf("exited on the first signal: %v", rec.code)
	}
	sigs <- syscall.SIGTERM
	<-done
	if len(rec.code) != 1 || rec.code[0] != exitFailed {
		t.Errorf("exit calls %v, want [1]", rec.code)
	}
	for _, want := range []string{"interrupt: stopping", "again exits at once", "again: exiting now, without a report"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stallingEndpoint serves a simulator holding the plan's source, except
// that calls of action never get an answer; the arrival of each is
// announced on the returned channel.
func stallingEndpoint(t *testing.T, action string) (string, <-chan struct{}) {
	t.Helper()
	sim := ec2sim.New(ec2sim.Options{})
	if _, err := sim.AddImage(ec2sim.Image{ID: "afi-0123456789abcdef0", Region: "us-east-1", State: "available"}); err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 16)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "Action="+action+"&") {
			got <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL, got
}

// TestSignalsStopAStalledRun runs afisync as a process against an endpoint
// that never answers and sends it signals: one stops the run, which still
// prints its JSON report; two exit at once.
func TestSignalsStopAStalledRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs afisync as a child process")
	}
	plan := writePlan(t, onePlan)
	for _, tc := range []struct {
		name    string
		stall   string
		signals []os.Signal
		report  bool
	}{
		{"one SIGINT", "GetCallerIdentity", []os.Signal{os.Interrupt}, true},
		{"one SIGTERM", "DescribeFpgaImages", []os.Signal{syscall.SIGTERM}, true},
		// A copy in flight gets StopGrace to finish: the second signal
		// comes within it.
		{"two SIGINTs", "CopyFpgaImage", []os.Signal{os.Interrupt, os.Interrupt}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint, got := stallingEndpoint(t, tc.stall)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAfisync$", "--", "sync", "--plan", plan, "--endpoint-url", endpoint, "-o", "json", "--no-progress")
			cmd.Env = append(os.Environ(), "AFISYNC_TEST_HELPER=1", "AWS_EC2_METADATA_DISABLED=true",
				"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1",
				"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_PROFILE=", "GITHUB_ACTIONS=")
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case <-got: // the first call is stuck in the endpoint
			case err := <-waited:
				t.Fatalf("afisync ended before its first call: %v\n%s", err, stderr.String())
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				t.Fatal("afisync made no call")
			}
			for i, s := range tc.signals {
				if i > 0 {
					// The second signal follows the first once it is seen.
					waitFor(t, &stderr, "stopping")
				}
				cmd.Process.Signal(s)
			}
			select {
			case <-waited:
			case <-time.After(time.Minute): // a hang detector: StopGrace is 5 s
				cmd.Process.Kill()
				t.Fatalf("afisync still running after %v\n%s", tc.signals, stderr.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != exitFailed {
				t.Errorf("exit %d, want 1\n%s", code, stderr.String())
			}
			if !tc.report {
				if stdout.String() != "" {
					t.Errorf("report printed after a second signal: %q", stdout.String())
				}
				return
			}
			rep := jsonReport(t, stdout.String())
			if !rep.Interrupted {
				t.Errorf("report not marked interrupted:\n%s", stdout.String())
			}
		})
	}
}

func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	for range 600 {
		if strings.Contains(b.String(), s) {
			return
		}
		time.Sleep(100 * time.Millisecond) // polls a child process's output
	}
	t.Fatalf("never saw %q:\n%s", s, b.String())
}
