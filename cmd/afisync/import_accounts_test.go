package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/internal/golden"
	"github.com/afisync/afisync/plan"
)

const (
	estateDev  = "111111111111"
	estateProd = "222222222222"
	estateCI   = "444455556666"
	estateRole = "arn:aws:iam::222222222222:role/afisync"
)

// estateEnv is a simulator in which the access keys of the profiles dev
// and prod act as two accounts (and ci's as a third, which may assume
// prod's role afisync with the external ID estate-7f3a), with AWS's files
// in a temporary directory naming those profiles.
func estateEnv(t *testing.T, o ec2sim.Options) (*ec2sim.Sim, string) {
	t.Helper()
	noCI(t)
	dir := t.TempDir()
	files := map[string]string{
		"config": "[profile dev]\nregion = us-east-1\n[profile prod]\nregion = us-east-1\n[profile ci]\nregion = us-east-1\n",
		"credentials": "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = secret\n" +
			"[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = secret\n" +
			"[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = secret\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", dir)
	o.Accounts = map[string]string{"AKIDDEV": estateDev, "AKIDPROD": estateProd, "AKIDCI": estateCI}
	o.ExternalIDs = map[string]string{estateRole: "estate-7f3a"}
	// The clock starts at the real time, so that the SDK's credentials
	// cache keeps role sessions.
	o.Clock = ec2sim.NewManualClock(time.Now().UTC().Truncate(time.Second))
	sim := ec2sim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	seedEstate(t, sim)
	return sim, srv.URL
}

// seedEstate: dev owns nic with copies made by hand in us-west-2 and
// eu-west-1, shared with prod and a customer; prod owns dma with a copy in
// eu-west-1 shared with dev, and lone, which has no copy.
func seedEstate(t *testing.T, sim *ec2sim.Sim) {
	t.Helper()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, im := range []ec2sim.Image{
		{ID: "afi-0d000000000000001", AGFI: "agfi-0d000000000000001", Account: estateDev, Region: "us-east-1", Name: "nic", Tags: map[string]string{"team": "fpga"}, CreateTime: day},
		{ID: "afi-0d000000000000011", AGFI: "agfi-0d000000000000001", Account: estateDev, Region: "us-west-2", Name: "nic", Tags: map[string]string{"team": "fpga"},
			LoadPermissions: []string{estateProd, "999988887777"}, CreateTime: day.Add(time.Hour)},
		{ID: "afi-0d000000000000012", AGFI: "agfi-0d000000000000001", Account: estateDev, Region: "eu-west-1", Name: "nic", Tags: map[string]string{"team": "fpga"},
			LoadPermissions: []string{"999988887777", estateProd}, CreateTime: day.Add(time.Hour)},
		{ID: "afi-0e000000000000002", AGFI: "agfi-0e000000000000002", Account: estateProd, Region: "us-east-1", Name: "dma", CreateTime: day},
		{ID: "afi-0e000000000000021", AGFI: "agfi-0e000000000000002", Account: estateProd, Region: "eu-west-1", Name: "dma-prod",
			LoadPermissions: []string{estateDev}, CreateTime: day.Add(time.Hour)},
		{ID: "afi-0e000000000000003", AGFI: "agfi-0e000000000000003", Account: estateProd, Region: "us-east-1", Name: "lone", CreateTime: day},
	} {
		if _, err := sim.AddImage(im); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImportAccountsThenSync: import --account of two accounts writes one
// valid plan (the golden file) with accounts:, account: on entries and
// shares by name; a sync of each account's entries with its own
// credentials copies nothing, and diff then finds nothing to do.
func TestImportAccountsThenSync(t *testing.T) {
	sim, url := estateEnv(t, ec2sim.Options{})
	code, out, errOut := runCLI(t, "import", "--source-region", "us-east-1", "--name", "estate", "--account", "dev", "--account", "prod=prod",
		"--endpoint-url", url)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s", code, errOut)
	}
	golden.Check(t, "testdata/import/estate.yaml", []byte(out))
	if want := "afisync: imported 2 AFIs with 3 copies in 2 regions from 2 accounts in us-east-1 (dev 111111111111, prod 222222222222); 1 AFI left out"; !strings.Contains(errOut, want) {
		t.Errorf("import's stderr = %q, want it to contain %q", errOut, want)
	}
	path := filepath.Join(t.TempDir(), "estate.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, vout, verr := runCLI(t, "validate", "--plan", path); code != 0 || !strings.Contains(vout, `valid plan "estate": 2 entries, 3 targets in 2 regions, 2 accounts`) {
		t.Fatalf("validate: exit %d\n%s%s", code, vout, verr)
	}
	p, err := plan.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"dev": estateDev, "prod": estateProd}
	for _, a := range p.Accounts {
		if a.ID != ids[a.Name] || a.Profile != a.Name {
			t.Errorf("account %+v, want profile %s and id %s", a, a.Name, ids[a.Name])
		}
	}

	// Each account's entries, as a run over the plan's accounts gives them
	// to that account (plan.ForAccount), synced with its own credentials.
	sim.ResetStats()
	for _, name := range []string{"dev", "prod"} {
		sub := p.ForAccount(name, ids)
		for i := range sub.AFIs {
			// A plan of the account's own: no accounts: (ForAccount already
			// resolved the shares by name into IDs).
			sub.AFIs[i].Account, sub.AFIs[i].ShareWithAccounts = "", nil
		}
		y, err := sub.EffectiveYAML()
		if err != nil {
			t.Fatal(err)
		}
		subPath := filepath.Join(t.TempDir(), name+".yaml")
		if err := os.WriteFile(subPath, y, 0o644); err != nil {
			t.Fatal(err)
		}
		code, sout, serr := runCLI(t, "sync", "--plan", subPath, "--profile", name, "--endpoint-url", url, "-o", "json", "--no-progress")
		if code != 0 {
			t.Fatalf("sync of %s's entries: exit %d\n%s\n%s", name, code, sout, serr)
		}
		code, dout, derr := runCLI(t, "diff", "--plan", subPath, "--profile", name, "--endpoint-url", url, "--detailed-exitcode", "--no-progress", "-o", "json")
		if code != 0 {
			t.Errorf("diff --detailed-exitcode of %s's entries after the sync: exit %d, want 0\n%s\n%s", name, code, dout, derr)
		}
	}
	if n := sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("the sync of an imported plan made %d CopyFpgaImage calls, want 0", n)
	}
	for id, want := range map[string][]string{
		"afi-0d000000000000011": {estateProd, "999988887777"},
		"afi-0e000000000000021": {estateDev},
	} {
		im, _ := sim.Image(id)
		if im.Tags["afisync:plan:estate"] != "estate" || strings.Join(im.LoadPermissions, ",") != strings.Join(want, ",") {
			t.Errorf("%s after the sync: tags %v, shared with %v; want the claim of estate and %v", id, im.Tags, im.LoadPermissions, want)
		}
	}
}

// TestImportAccountsFile: --accounts FILE with a role account (assumed
// with source_profile ci and its external ID) and --account together.
func TestImportAccountsFile(t *testing.T) {
	_, url := estateEnv(t, ec2sim.Options{})
	file := filepath.Join(t.TempDir(), "accounts.yaml")
	body := "accounts:\n  prod:\n    role_arn: " + estateRole + "\n    source_profile: ci\n    external_id: estate-7f3a\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "import", "--source-region", "us-east-1", "--name", "estate", "--accounts", file, "--account", "dev",
		"--endpoint-url", url)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"  prod:\n    role_arn: arn:aws:iam::222222222222:role/afisync\n    source_profile: ci\n    external_id: estate-7f3a\n    id: \"222222222222\"\n",
		"  dev:\n    profile: dev\n    id: \"111111111111\"\n",
		"    account: prod\n",
		"share_with: [\"999988887777\", prod]",
		"--account dev --accounts " + file,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan does not contain %q:\n%s", want, out)
		}
	}
	path := filepath.Join(t.TempDir(), "estate.yaml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, vout, verr := runCLI(t, "validate", "--plan", path); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, vout, verr)
	}

	// Without source_profile, the command's own credentials (--profile)
	// assume the role; prod alone is imported.
	body = "accounts:\n  prod: {role_arn: \"" + estateRole + "\", external_id: estate-7f3a}\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "import", "--source-region", "us-east-1", "--name", "estate", "--accounts", file, "--profile", "ci", "--endpoint-url", url)
	if code != 0 || !strings.Contains(out, "  prod:\n    role_arn: "+estateRole+"\n    external_id: estate-7f3a\n    id: \"222222222222\"\n") ||
		strings.Contains(out, "account: dev") || !strings.Contains(out, "share_with: [\"111111111111\"]") {
		t.Errorf("import --accounts (role) --profile ci: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestImportAccountsErrors: one account that fails fails the import with
// a line naming it, and nothing is written.
func TestImportAccountsErrors(t *testing.T) {
	_, url := estateEnv(t, ec2sim.Options{DenyAssumeRole: []string{"333333333333"}})
	dir := t.TempDir()
	n := 0
	accounts := func(body string) string {
		n++
		f := filepath.Join(dir, fmt.Sprintf("accounts%d.yaml", n))
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no such profile", []string{"--account", "dev", "--account", "qa=nope"}, 1,
			[]string{`account "qa": invalid AWS configuration: profile "nope" is not in ~/.aws/config`, "nothing written: 1 of 2 accounts failed"}},
		{"denied role", []string{"--account", "dev", "--accounts", accounts("accounts:\n  qa: {role_arn: \"arn:aws:iam::333333333333:role/afisync\", source_profile: ci}\n")}, 1,
			[]string{`account "qa": cannot assume role arn:aws:iam::333333333333:role/afisync with source_profile "ci" (AccessDenied`}},
		{"wrong external ID", []string{"--accounts", accounts("accounts:\n  prod: {role_arn: \"" + estateRole + "\", source_profile: ci, external_id: wrong}\n")}, 1,
			[]string{`account "prod": cannot assume role`, "external_id is the ID"}},
		{"another account than id", []string{"--accounts", accounts("accounts:\n  dev: {profile: prod, id: \"" + estateDev + "\"}\n"), "--account", "qa=nope"}, 1,
			[]string{`account "dev": invalid AWS configuration: the credentials of profile "prod" are for account 222222222222, but the plan says 111111111111`,
				`account "qa": invalid AWS configuration: profile "nope"`, "nothing written: 2 of 2 accounts failed"}},
		{"one account twice", []string{"--account", "dev", "--account", "x=dev"}, 1, []string{"accounts dev and x reach the same account 111111111111"}},
		{"bad --account", []string{"--account", "=dev"}, 3, []string{"write NAME=PROFILE"}},
		{"ID as name", []string{"--account", "111111111111=dev"}, 3, []string{"is an account ID"}},
		{"name twice", []string{"--accounts", accounts("accounts:\n  dev: {profile: dev}\n"), "--account", "dev"}, 3, []string{"account dev is given twice (also by " + dir}},
		{"bad accounts file", []string{"--accounts", accounts("accounts:\n  prod: {role_arn: arn:aws:iam::2222:role/x}\n")}, 3, []string{":2:20: role_arn"}},
		{"no accounts file", []string{"--accounts", filepath.Join(dir, "none.yaml")}, 3, []string{"--accounts: open"}},
		{"nothing to import", []string{"--account", "dev", "--select-name", "zzz*"}, 1, []string{"nothing to import: account dev (111111111111): no AFI it owns in us-east-1 with a name matching \"zzz*\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"import", "--endpoint-url", url, "--source-region", "us-east-1", "--name", "estate"}, tc.args...)...)
			if code != tc.code || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and no plan", code, out, errOut, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q, want it to contain %q", errOut, w)
				}
			}
		})
	}
}
