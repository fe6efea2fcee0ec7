package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/internal/golden"
)

// savedWorld is a simulator with two sources, a copy of one of them in
// us-west-2 already, and a plan that wants both in us-west-2 and eu-west-1.
func savedWorld(t *testing.T) (sim *ec2sim.Sim, url, planPath string, srcs []string) {
	t.Helper()
	sim, url = simEnv(t)
	for _, name := range []string{"nic", "dma"} {
		im, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: name})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, im.ID)
	}
	planPath = writePlan(t, "version: 1\nname: release\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2, eu-west-1]\nafis:\n  - id: "+srcs[0]+"\n  - id: "+srcs[1]+"\n")
	return sim, url, planPath, srcs
}

func mutatingCalls(sim *ec2sim.Sim) int {
	st := sim.Stats()
	n := 0
	for _, a := range []string{"CopyFpgaImage", "CreateTags", "DeleteTags", "ModifyFpgaImageAttribute", "ResetFpgaImageAttribute", "DeleteFpgaImage"} {
		n += st.Count(a, "", "")
	}
	return n
}

func TestSavedPlanAppliedExactly(t *testing.T) {
	sim, url, planPath, _ := savedWorld(t)
	out := filepath.Join(t.TempDir(), "release.plan.json")
	code, _, stderr := runCLI(t, "diff", "--plan", planPath, "--endpoint-url", url, "--out", out, "--detailed-exitcode")
	if code != exitChanges {
		t.Fatalf("diff --out: exit %d, want 2\n%s", code, stderr)
	}
	if n := mutatingCalls(sim); n != 0 {
		t.Errorf("diff --out made %d mutating calls", n)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The document, with what varies from run to run masked.
	masked := regexp.MustCompile(`"(created_at|afisync_version|plan_file)": "[^"]*"`).ReplaceAll(b, []byte(`"$1": "…"`))
	masked = regexp.MustCompile(`/tmp/[^\\"\s]*`).ReplaceAll(masked, []byte("…"))
	golden.Check(t, filepath.Join("testdata", "saved-plan.golden.json"), masked)

	code, shown, stderr := runCLI(t, "show", out)
	if code != exitOK || strings.Count(shown, "would-copy") != 4 {
		t.Errorf("show: exit %d, want 4 would-copy lines:\n%s%s", code, shown, stderr)
	}

	code, stdout, stderr := runCLI(t, "sync", "--from", out, "--endpoint-url", url, "-o", "json")
	if code != exitOK {
		t.Fatalf("sync --from: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := sim.Stats().Count("CopyFpgaImage", "", "ok"); n != 4 {
		t.Errorf("sync --from made %d copies, want the 4 saved", n)
	}
	// A saved plan applied is used up: the world it rests on changed.
	if code, _, stderr := runCLI(t, "sync", "--from", out, "--endpoint-url", url); code != exitFailed || !strings.Contains(stderr, "stale") {
		t.Errorf("second sync --from: exit %d, want 1 and stale:\n%s", code, stderr)
	}
}

func TestStaleSavedPlanIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, sim *ec2sim.Sim, url, planPath string, srcs []string)
		want   string
	}{
		{"another sync copied meanwhile", func(t *testing.T, _ *ec2sim.Sim, url, planPath string, _ []string) {
			if code, _, stderr := runCLI(t, "sync", "--plan", planPath, "--endpoint-url", url); code != exitOK {
				t.Fatalf("the other sync: %d\n%s", code, stderr)
			}
		}, "was copy, now wait"},
		{"a copy made by hand", func(t *testing.T, sim *ec2sim.Sim, _, _ string, srcs []string) {
			src, _ := sim.Image(srcs[0])
			if _, err := sim.AddImage(ec2sim.Image{Region: "eu-west-1", AGFI: src.AGFI, Name: "by hand"}); err != nil {
				t.Fatal(err)
			}
		}, "was copy, now adopt"},
		{"a source deleted", func(t *testing.T, _ *ec2sim.Sim, url, _ string, srcs []string) {
			c, err := afi.New(context.Background(), afi.Config{EndpointURL: url, Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Delete(context.Background(), "us-east-1", srcs[1]); err != nil {
				t.Fatal(err)
			}
		}, "was copy, now skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, url, planPath, srcs := savedWorld(t)
			out := filepath.Join(t.TempDir(), "release.plan.json")
			if code, _, stderr := runCLI(t, "diff", "--plan", planPath, "--endpoint-url", url, "--out", out); code != exitOK {
				t.Fatalf("diff --out: %d\n%s", code, stderr)
			}
			tc.change(t, sim, url, planPath, srcs)
			before := mutatingCalls(sim)
			code, stdout, stderr := runCLI(t, "sync", "--from", out, "--endpoint-url", url, "-o", "json")
			if code != exitFailed {
				t.Errorf("exit %d, want 1\n%s", code, stderr)
			}
			if n := mutatingCalls(sim) - before; n != 0 {
				t.Errorf("a stale saved plan made %d mutating calls", n)
			}
			var rep struct{ Error string }
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("stdout: %v\n%s", err, stdout)
			}
			for _, want := range []string{"stale", tc.want} {
				if !strings.Contains(rep.Error, want) {
					t.Errorf("report error %q lacks %q", rep.Error, want)
				}
			}
		})
	}
}

func TestSavedPlanFlags(t *testing.T) {
	_, url, planPath, _ := savedWorld(t)
	out := filepath.Join(t.TempDir(), "p.json")
	for _, args := range [][]string{
		{"sync", "--from", out, "--plan", planPath},
		{"sync", "--from", out, "--prune"},
		{"sync", "--from", filepath.Join(t.TempDir(), "none.json"), "--endpoint-url", url},
		{"show", planPath}, // YAML, not a saved plan
	} {
		if code, _, _ := runCLI(t, args...); code != exitInvalid {
			t.Errorf("%v: exit %d, want 3", args, code)
		}
	}
}
