package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/internal/golden"
	"github.com/afisync/afisync/report"
)

// The accounts of the CLI's multi-account tests.
const (
	prodID = "222222222222" // assumed role, from the command's own credentials
	devID  = "333333333333" // profile dev
	ciID   = "444444444444" // profile ci
)

// accountsEnv serves a simulator that knows the access keys of profiles
// dev and ci (written to an AWS config file of two profiles) and lets the
// command's own credentials (AKIDTEST) assume prod's role; o adds to its
// options. It returns the simulator and its URL.
func accountsEnv(t *testing.T, o ec2sim.Options, extraConfig string) (*ec2sim.Sim, string, *manualRun) {
	t.Helper()
	o.Clock = ec2sim.NewManualClock(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))
	o.Accounts = map[string]string{"AKIDDEV": devID, "AKIDCI": ciID}
	sim := ec2sim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	body := "[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = secret\n\n[profile ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = secret\n" + extraConfig
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             config,
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_EC2":        "",
		"AWS_PROFILE":                 "",
	} {
		t.Setenv(k, v)
	}
	noCI(t)
	return sim, srv.URL, &manualRun{clock: o.Clock.(*ec2sim.ManualClock)}
}

// manualRun runs the CLI in this process on a simulator's manual clock:
// the run's pauses move it on instead of sleeping.
type manualRun struct{ clock *ec2sim.ManualClock }

func (m *manualRun) Now() time.Time { return m.clock.Now() }

// Instant marks manualRun as an executor.InstantClock.
func (m *manualRun) Instant() {}

func (m *manualRun) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.clock.Advance(d)
	return nil
}

// run runs afisync with args and returns its exit code, stdout and stderr.
func (m *manualRun) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	// The accounts log at once, and progress too: stderr is written from
	// several goroutines, as os.Stderr may be.
	var out bytes.Buffer
	var errb syncBuffer
	c := testCLI(strings.NewReader(""), &out, &errb)
	c.clock = m
	code := c.run(context.Background(), args)
	return code, out.String(), errb.String()
}

// accountsPlanFile seeds one source in each of prod, dev and ci and writes
// a plan of the three accounts (prod's copies shared with dev by name);
// accounts is the plan's accounts: block.
func accountsPlanFile(t *testing.T, sim *ec2sim.Sim, accounts string) (path string, srcs map[string]string) {
	t.Helper()
	srcs = map[string]string{}
	for name, id := range map[string]string{"prod": prodID, "dev": devID, "ci": ciID} {
		im, err := sim.AddImage(ec2sim.Image{Account: id, Region: "us-east-1", Name: name + "-shell"})
		if err != nil {
			t.Fatal(err)
		}
		srcs[name] = im.ID
	}
	path = writePlan(t, fmt.Sprintf(`version: 1
name: fleet
accounts:
%s
defaults:
  source_region: us-east-1
  regions: [us-west-2, eu-west-1]
afis:
  - id: %s
    account: prod
    share_with: [dev]
  - id: %s
    account: dev
  - id: %s
    account: ci
`, accounts, srcs["prod"], srcs["dev"], srcs["ci"]))
	return path, srcs
}

const threeAccounts = `  prod:
    role_arn: arn:aws:iam::222222222222:role/afisync
    external_id: fleet-7f3a
  dev:
    profile: dev
  ci:
    profile: ci`

// Done-when of issue 20: three accounts (two profiles, one assumed role)
// converge in one sync --wait; prod's copies are shared with dev, and dev's
// own view confirms them; a second run changes nothing.
func TestSyncAccounts(t *testing.T) {
	sim, url, m := accountsEnv(t, ec2sim.Options{ExternalIDs: map[string]string{"arn:aws:iam::222222222222:role/afisync": "fleet-7f3a"}}, "")
	path, _ := accountsPlanFile(t, sim, threeAccounts)
	code, out, stderr := m.run(t, "sync", "--wait", "--plan", path, "--endpoint-url", url, "-o", "json")
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, out, stderr)
	}
	if code != 0 || rep.Summary[report.StatusCopied] != 6 || len(rep.Accounts) != 3 {
		t.Fatalf("exit %d, summary %v, accounts %+v\n%s", code, rep.Summary, rep.Accounts, stderr)
	}
	ids := map[string]string{"prod": prodID, "dev": devID, "ci": ciID}
	for _, tg := range rep.Targets {
		if tg.Account != ids[tg.AccountName] {
			t.Errorf("target of %s names account %s", tg.AccountName, tg.Account)
		}
		if tg.AccountName == "prod" && !strings.Contains(tg.Message, "dev sees it") {
			t.Errorf("prod's copy in %s: %q, want dev's confirmation", tg.Region, tg.Message)
		}
	}
	for name, id := range ids {
		for _, region := range []string{"us-west-2", "eu-west-1"} {
			ims := sim.Images(id, region)
			if len(ims) != 1 || ims[0].State != ec2sim.StateAvailable {
				t.Fatalf("%s in %s: %+v, want one available copy", name, region, ims)
			}
			if shared := slices.Contains(ims[0].LoadPermissions, devID); shared != (name == "prod") {
				t.Errorf("%s's copy in %s is shared with %v", name, region, ims[0].LoadPermissions)
			}
		}
	}
	code, out, _ = m.run(t, "sync", "--wait", "--plan", path, "--endpoint-url", url)
	if code != 0 || !strings.Contains(out, "6 in sync") || !strings.Contains(out, "account prod (222222222222): 2 in sync") {
		t.Errorf("rerun: exit %d\n%s", code, out)
	}
}

// Bad credentials of one account: one clear line for it, its targets
// skipped with the reason, the other accounts carry on; exit 1.
func TestSyncAccountsBadInput(t *testing.T) {
	const role = "arn:aws:iam::222222222222:role/afisync"
	sso := "\n[profile lapsed]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 333333333333\nsso_role_name = afisync\n"
	tests := []struct {
		name     string
		sim      ec2sim.Options
		accounts string
		account  string // the account that fails
		want     string // in its line
	}{
		{"missing profile", ec2sim.Options{ExternalIDs: map[string]string{role: "fleet-7f3a"}},
			strings.Replace(threeAccounts, "profile: dev", "profile: nope", 1), "dev", `profile "nope" is not in`},
		{"expired SSO", ec2sim.Options{ExternalIDs: map[string]string{role: "fleet-7f3a"}},
			strings.Replace(threeAccounts, "profile: dev", "profile: lapsed", 1), "dev", "aws sso login --profile lapsed"},
		{"role denied", ec2sim.Options{DenyAssumeRole: []string{prodID}},
			threeAccounts, "prod", "AccessDenied"},
		{"wrong external ID", ec2sim.Options{ExternalIDs: map[string]string{role: "another-id"}},
			threeAccounts, "prod", "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", t.TempDir()) // no SSO token cache
			sim, url, m := accountsEnv(t, tt.sim, sso)
			path, _ := accountsPlanFile(t, sim, tt.accounts)
			code, out, stderr := m.run(t, "sync", "--wait", "--plan", path, "--endpoint-url", url, "-o", "json")
			var rep report.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, out, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			var mine []string
			for _, l := range lines {
				if strings.HasPrefix(l, "afisync: account ") {
					mine = append(mine, l)
				}
			}
			if code != 1 || len(mine) != 1 || !strings.HasPrefix(mine[0], "afisync: account "+tt.account+": ") || !strings.Contains(mine[0], tt.want) {
				t.Fatalf("exit %d, account lines %q; want exit 1 and one line for %s with %q\n%s", code, mine, tt.account, tt.want, stderr)
			}
			for _, tg := range rep.Targets {
				switch {
				case tg.AccountName == tt.account && (tg.Status != report.StatusSkipped || !strings.Contains(tg.Message, tt.want)):
					t.Errorf("%s's target in %s: %s %q, want skipped with the reason", tt.account, tg.Region, tg.Status, tg.Message)
				case tg.AccountName != tt.account && tg.Status != report.StatusCopied:
					t.Errorf("%s's target in %s: %s %q, want copied", tg.AccountName, tg.Region, tg.Status, tg.Message)
				}
			}
			if rep.Summary[report.StatusSkipped] != 2 || rep.Summary[report.StatusCopied] != 4 {
				t.Errorf("summary %v", rep.Summary)
			}
		})
	}
}

// diff --out of a plan with accounts saves each account's decisions;
// sync --from applies them, or, when one account's world changed, refuses
// in every account with nothing changed.
func TestSavedPlanAccounts(t *testing.T) {
	sim, url, m := accountsEnv(t, ec2sim.Options{ExternalIDs: map[string]string{"arn:aws:iam::222222222222:role/afisync": "fleet-7f3a"}}, "")
	path, srcs := accountsPlanFile(t, sim, threeAccounts)
	out := filepath.Join(t.TempDir(), "fleet.plan.json")
	if code, _, stderr := m.run(t, "diff", "--plan", path, "--endpoint-url", url, "--out", out); code != 0 {
		t.Fatalf("diff --out: exit %d\n%s", code, stderr)
	}
	code, shown, _ := m.run(t, "show", out)
	if code != 0 || !strings.Contains(shown, "account prod (222222222222): 2 would copy") || !strings.Contains(shown, "6 would copy") {
		t.Errorf("show: exit %d\n%s", code, shown)
	}

	// Someone copies dev's source to us-west-2 by hand: dev's decision
	// for it no longer holds, so no account may change anything.
	if _, err := sim.AddImage(ec2sim.Image{Account: devID, Region: "us-west-2", Name: "by-hand", AGFI: agfiOfSource(t, sim, srcs["dev"])}); err != nil {
		t.Fatal(err)
	}
	code, stale, stderr := m.run(t, "sync", "--from", out, "--endpoint-url", url)
	if code != 1 || !strings.Contains(stderr, "account dev: the saved plan is stale") || !strings.Contains(stderr, "account prod: the saved plan is stale in account dev; nothing was changed") {
		t.Errorf("stale sync --from: exit %d\n%s\n%s", code, stale, stderr)
	}
	if n := sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Fatalf("a stale saved plan made %d copies", n)
	}

	// A fresh diff --out applies in every account.
	if code, _, stderr := m.run(t, "diff", "--plan", path, "--endpoint-url", url, "--out", out); code != 0 {
		t.Fatalf("diff --out: exit %d\n%s", code, stderr)
	}
	code, applied, stderr := m.run(t, "sync", "--from", out, "--endpoint-url", url, "--wait")
	if code != 0 || !strings.Contains(applied, "5 copied, 1 adopted") {
		t.Errorf("sync --from: exit %d\n%s\n%s", code, applied, stderr)
	}
}

// agfiOfSource is the global ID of the simulator's AFI id.
func agfiOfSource(t *testing.T, sim *ec2sim.Sim, id string) string {
	t.Helper()
	im, ok := sim.Image(id)
	if !ok {
		t.Fatalf("no AFI %s", id)
	}
	return im.AGFI
}

// import --account NAME=PROFILE, repeated: each profile's AFIs with its
// own credentials, one plan with accounts: (the golden file), whose copies
// shared with another imported account name it; a sync claims every copy
// and a diff then finds nothing to do.
func TestImportAccounts(t *testing.T) {
	sim, url, m := accountsEnv(t, ec2sim.Options{}, "")
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, im := range []ec2sim.Image{
		{ID: "afi-0a000000000000001", AGFI: "agfi-0a000000000000001", Account: ciID, Region: "us-east-1", Name: "ci-shell", CreateTime: day},
		{ID: "afi-0b000000000000011", AGFI: "agfi-0a000000000000001", Account: ciID, Region: "us-west-2", Name: "ci-shell", LoadPermissions: []string{devID}, CreateTime: day},
		{ID: "afi-0b000000000000012", AGFI: "agfi-0a000000000000001", Account: ciID, Region: "eu-west-1", Name: "ci-shell", LoadPermissions: []string{devID, "999988887777"}, CreateTime: day},
		{ID: "afi-0a000000000000002", AGFI: "agfi-0a000000000000002", Account: devID, Region: "us-east-1", Name: "dev-shell", Tags: map[string]string{"team": "fpga"}, CreateTime: day},
		{ID: "afi-0b000000000000021", AGFI: "agfi-0a000000000000002", Account: devID, Region: "us-west-2", Name: "dev-shell", Tags: map[string]string{"team": "fpga"}, CreateTime: day},
	} {
		if _, err := sim.AddImage(im); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := m.run(t, "import", "--source-region", "us-east-1", "--name", "fleet", "--account", "dev=dev", "--account", "ci=ci", "--endpoint-url", url)
	if code != 0 || !strings.Contains(stderr, "imported 2 AFIs with 3 copies in 2 regions from 2 accounts in us-east-1") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, stderr)
	}
	golden.Check(t, filepath.Join("testdata", "import", "accounts.golden.yaml"), []byte(out))
	path := writePlan(t, out)
	if code, _, stderr := m.run(t, "sync", "--plan", path, "--endpoint-url", url); code != 0 {
		t.Fatalf("sync of the imported plan: exit %d\n%s", code, stderr)
	}
	if n := sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("the sync made %d copies", n)
	}
	code, diff, _ := m.run(t, "diff", "--plan", path, "--endpoint-url", url, "--detailed-exitcode")
	if code != 0 || !strings.Contains(diff, "3 in sync") || !strings.Contains(diff, "dev sees it") {
		t.Errorf("diff after sync: exit %d\n%s", code, diff)
	}
}

// --simulate with a plan with accounts simulates each account: sources
// seeded in their accounts, profiles as access keys of their own, roles
// assumed through the simulator's STS.
func TestSimulateAccounts(t *testing.T) {
	noCI(t)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var outb bytes.Buffer
	var errb syncBuffer // the accounts log at once
	code := testCLI(strings.NewReader(""), &outb, &errb).run(context.Background(),
		[]string{"diff", "--plan", filepath.Join("..", "..", "testdata", "plans", "valid", "accounts.yaml"), "--simulate"})
	out, stderr := outb.String(), errb.String()
	for _, want := range []string{`afisync diff of plan "fleet" over 4 accounts (SIMULATED)`, "account prod (222222222222): 2 would copy",
		"account dev (111111111111): 2 would copy", "account ci (100000000001): 2 would copy", "6 would copy"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff --simulate lacks %q: exit %d\n%s\n%s", want, code, out, stderr)
		}
	}
	if code != 0 {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
