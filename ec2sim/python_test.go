package ec2sim_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
)

// needBotocore skips (or under CI=true fails) when python3 with botocore is
// missing.
func needBotocore(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("short: runs python3")
	}
	err := exec.Command("python3", "-c", "import botocore").Run()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "true" {
		t.Skipf("python3 with botocore not available (%v)", err)
	}
	t.Fatalf("python3 with botocore not available (%v), and CI is set: CI must install the aws CLI v1", err)
}

// TestWaitForAFIWithBotocore drives the simulator the way aws-fpga's
// wait_for_afi.py does, with botocore (boto3 when installed): create or
// copy, poll describe_fpga_images until the AFI leaves pending, print
// State.Message when it failed.
func TestWaitForAFIWithBotocore(t *testing.T) {
	needBotocore(t)
	e := newEnv(t, ec2sim.Options{BuildTime: 10 * time.Minute, CopyTime: 3 * time.Minute})
	src := e.add(ec2sim.Image{Region: "us-east-1", Name: "src"})
	notMine := e.add(ec2sim.Image{Region: "us-east-1", Account: acctB, Public: true})
	// pending returns a fresh AFI that turns state (with message) in d
	// from the simulator's now: the scripts move the clock forward.
	pending := func(d time.Duration, state, msg string) string {
		return e.add(ec2sim.Image{Region: "us-east-1", State: state, Message: msg, ReadyAt: e.sim.Now().Add(d)}).ID
	}
	script, err := filepath.Abs(filepath.Join("testdata", "wait_for_afi.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   func() []string
		code   int
		output []string // lines that must appear; AFI stands for the AFI ID
	}{
		{"create, built after 10 minutes", func() []string { return []string{"--region", "us-east-1", "--create"} }, 0,
			[]string{"AFI: available after 10 minutes"}},
		{"copy across Regions", func() []string { return []string{"--region", "us-west-2", "--copy-from", "us-east-1:" + src.ID} }, 0,
			[]string{"AFI: available after 3 minutes"}},
		{"copy of an AFI the caller does not own", func() []string {
			return []string{"--region", "us-west-2", "--copy-from", "us-east-1:" + notMine.ID}
		}, 1,
			[]string{"AFI: failed after 3 minutes", "State.Message: NOT_FOUND: Source image is not found or the user ID is not authorized to copy source image."}},
		{"a build that fails", func() []string {
			return []string{"--region", "us-east-1", "--afi", pending(2*time.Minute, ec2sim.StateFailed, "DCP_CORRUPT")}
		}, 1,
			[]string{"AFI: failed after 2 minutes", "State.Message: DCP_CORRUPT"}},
		{"timeout", func() []string {
			return []string{"--region", "us-east-1", "--afi", pending(24*time.Hour, "", ""), "--max-minutes", "5"}
		}, 1,
			[]string{"AFI: timed out after 5 minutes, still pending"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("python3", append([]string{script, "--endpoint", e.srv.URL}, tc.args()...)...)
			dir := t.TempDir()
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "AWS_") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(env, "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
				"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, want := range tc.output {
				if !regexp.MustCompile(`(?m)^` + strings.ReplaceAll(regexp.QuoteMeta(want), "AFI", `afi-[0-9a-f]{17}`) + `$`).MatchString(out.String()) {
					t.Errorf("output lacks %q", want)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out.String())
			}
		})
	}
}
