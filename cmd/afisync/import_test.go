package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/internal/golden"
)

// seedImportWorld makes the world `afisync import` reads in the tests:
// sources in us-east-1 and copies made by hand (same AGFI, no afisync
// tags) in other regions, with tags and sharing, and AFIs the import must
// leave out.
func seedImportWorld(t *testing.T, sim *ec2sim.Sim) {
	t.Helper()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, im := range []ec2sim.Image{
		// nic-v3: copies in two regions agree on their tags; they differ in
		// description. A third copy, in eu-west-2, another plan made.
		{ID: "afi-0a000000000000003", AGFI: "agfi-0a000000000000003", Region: "us-east-1", Name: "nic-v3", Description: "NIC shell v3",
			Tags: map[string]string{"team": "fpga", "aws:cloudformation:stack-name": "fpga"}, CreateTime: day},
		{ID: "afi-0b000000000000031", AGFI: "agfi-0a000000000000003", Region: "us-west-2", Name: "nic-v3", Description: "NIC shell v3 (west)",
			Tags: map[string]string{"team": "fpga", "env": "prod"}, CreateTime: day.Add(time.Hour)},
		{ID: "afi-0b000000000000032", AGFI: "agfi-0a000000000000003", Region: "eu-west-1", Name: "nic-v3", Description: "NIC shell v3",
			Tags: map[string]string{"team": "fpga", "env": "prod", "aws:cloudformation:stack-name": "fpga"}, CreateTime: day.Add(time.Hour)},
		{ID: "afi-0b000000000000033", AGFI: "agfi-0a000000000000003", Region: "eu-west-2", Name: "nic-v3", Description: "NIC shell v3",
			Tags:       map[string]string{"team": "fpga", "env": "prod", "afisync:source": "us-east-1/afi-0a000000000000003", "afisync:plan:team-a": "team-a"},
			CreateTime: day.Add(time.Hour)},
		// nic-v4: renamed copies in three regions, shared with an account
		// (one with a second account too); the source's tag is on none.
		{ID: "afi-0a000000000000004", AGFI: "agfi-0a000000000000004", Region: "us-east-1", Name: "nic-v4", Description: "NIC shell v4",
			Tags: map[string]string{"build": "2026.11"}, CreateTime: day},
		{ID: "afi-0b000000000000041", AGFI: "agfi-0a000000000000004", Region: "us-west-2", Name: "nic-v4-prod", Description: "NIC shell v4",
			Tags: map[string]string{"env": "prod", "tier": "gold"}, LoadPermissions: []string{"444455556666"}, CreateTime: day},
		{ID: "afi-0b000000000000042", AGFI: "agfi-0a000000000000004", Region: "eu-west-1", Name: "nic-v4-prod", Description: "NIC shell v4",
			Tags: map[string]string{"env": "prod", "tier": "gold"}, LoadPermissions: []string{"444455556666", "777788889999"}, CreateTime: day},
		{ID: "afi-0b000000000000043", AGFI: "agfi-0a000000000000004", Region: "eu-central-1", Name: "nic-v4-prod", Description: "NIC shell v4",
			Tags: map[string]string{"env": "prod", "tier": "silver"}, LoadPermissions: []string{"444455556666"}, CreateTime: day},
		// nic-v5 has no copy; nic-wip is still building.
		{ID: "afi-0a000000000000005", AGFI: "agfi-0a000000000000005", Region: "us-east-1", Name: "nic-v5", CreateTime: day},
		{ID: "afi-0a00000000000000f", AGFI: "agfi-0a00000000000000f", Region: "us-east-1", Name: "nic-wip", State: "pending", CreateTime: day},
		// dma-engine has a copy, but does not match nic-*.
		{ID: "afi-0a000000000000d0a", AGFI: "agfi-0a000000000000d0a", Region: "us-east-1", Name: "dma-engine", CreateTime: day},
		{ID: "afi-0b000000000000d01", AGFI: "agfi-0a000000000000d0a", Region: "eu-west-1", Name: "dma-engine", CreateTime: day},
		// A copy afisync made in us-east-1 of an AFI in us-west-2 is no source.
		{ID: "afi-0a0000000000000c1", AGFI: "agfi-0a0000000000000c2", Region: "us-east-1", Name: "nic-west",
			Tags: map[string]string{"afisync:source": "us-west-2/afi-0a0000000000000c2", "afisync:plan:west": "west"}, CreateTime: day},
		{ID: "afi-0a0000000000000c2", AGFI: "agfi-0a0000000000000c2", Region: "us-west-2", Name: "nic-west", CreateTime: day},
	} {
		if _, err := sim.AddImage(im); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImportThenSync: import writes a valid plan (the golden file) for
// the world's copies; its sync makes no copy, and diff afterwards has
// nothing to do.
func TestImportThenSync(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	seedImportWorld(t, sim)

	code, out, errOut := runCLI(t, "import", "--source-region", "us-east-1", "--name", "fleet", "--select-name", "nic-*",
		"--tags", "owner=platform", "--endpoint-url", url)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s", code, errOut)
	}
	golden.Check(t, "testdata/import/fleet.yaml", []byte(out))
	if want := "afisync: imported 2 AFIs with 6 copies in 4 regions from account 111122223333 in us-east-1; 2 AFIs left out"; !strings.Contains(errOut, want) {
		t.Errorf("import's stderr = %q, want it to contain %q", errOut, want)
	}
	plan := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(plan, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "validate", "--plan", plan); code != 0 || !strings.Contains(out, `valid plan "fleet": 2 entries, 6 targets in 4 regions`) {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}

	sim.ResetStats()
	code, out, errOut = runCLI(t, "sync", "--plan", plan, "--endpoint-url", url, "-o", "json", "--no-progress")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("the sync of an imported plan made %d CopyFpgaImage calls, want 0", n)
	}
	// Five copies made by hand are adopted; the one plan team-a claims is
	// claimed by this plan too (updated).
	if got := summary(t, out); got["adopted"] != 5 || got["updated"] != 1 || len(got) != 2 {
		t.Errorf("sync summary = %v, want 5 adopted and 1 updated", got)
	}
	for _, id := range []string{"afi-0b000000000000031", "afi-0b000000000000033", "afi-0b000000000000043"} {
		im, _ := sim.Image(id)
		if im.Tags["afisync:plan:fleet"] != "fleet" || im.Tags["afisync:source"] == "" {
			t.Errorf("%s after the sync carries %v, want the claim of fleet and afisync:source", id, im.Tags)
		}
	}
	if im, _ := sim.Image("afi-0b000000000000033"); im.Tags["afisync:plan:team-a"] != "team-a" {
		t.Errorf("team-a's claim on its copy is gone: %v", im.Tags)
	}
	if im, _ := sim.Image("afi-0b000000000000d01"); len(im.Tags) != 0 {
		t.Errorf("the copy of dma-engine, which does not match nic-*, was touched: %v", im.Tags)
	}

	code, out, errOut = runCLI(t, "diff", "--plan", plan, "--endpoint-url", url, "--detailed-exitcode", "--no-progress", "-o", "json")
	if code != 0 {
		t.Errorf("diff --detailed-exitcode after the sync: exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	if got := summary(t, out); got["in-sync"] != 6 || len(got) != 1 {
		t.Errorf("diff after the sync: summary %v, want 6 in sync", got)
	}
}

func TestImportErrors(t *testing.T) {
	noCI(t)
	sim, url := simEnv(t)
	if _, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "lonely"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--name", "x"}, 3, "--source-region is required"},
		{[]string{"--source-region", "us-esat-1", "--name", "x"}, 3, `did you mean "us-east-1"`},
		{[]string{"--source-region", "us-east-1"}, 3, "--name is required"},
		{[]string{"--source-region", "us-east-1", "--name", "x", "--select-name", "nic-["}, 3, "malformed glob"},
		{[]string{"--source-region", "us-east-1", "--name", "x", "--tags", "team"}, 3, "write KEY=VALUE"},
		{[]string{"--source-region", "us-east-1", "--name", "x", "--tags", "afisync:plan=x"}, 3, "reserved"},
		{[]string{"--source-region", "us-east-1", "--name", "x", "--simulate"}, 3, "empty simulator"},
		{[]string{"--source-region", "us-east-1", "--name", "x"}, 1, `nothing to import: no AFI that account 111122223333 owns in us-east-1 has a copy in another region (afi-`},
	} {
		code, out, errOut := runCLI(t, append([]string{"import", "--endpoint-url", url}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("import %v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.want)
		}
	}
}
