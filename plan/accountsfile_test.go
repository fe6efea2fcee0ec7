package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestParseAccounts(t *testing.T) {
	good := `accounts:
  prod:
    role_arn: arn:aws:iam::222222222222:role/afisync
    external_id: fleet-7f3a
    duration: 1h
  dev:
    profile: dev
    id: "111111111111"
  qa: {profile: qa}   # used by no entry: fine in an accounts file
`
	got, err := ParseAccounts("accounts.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := []Account{
		{Name: "dev", Profile: "dev", ID: "111111111111", Pos: Pos{6, 3}},
		{Name: "prod", RoleARN: "arn:aws:iam::222222222222:role/afisync", ID: "222222222222", ExternalID: "fleet-7f3a", Duration: time.Hour, Pos: Pos{2, 3}},
		{Name: "qa", Profile: "qa", Pos: Pos{9, 3}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseAccounts (-want +got):\n%s", d)
	}

	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "accounts.yaml:1:1: the accounts file is empty"},
		{"not a mapping", "- prod\n", "an accounts file must be a YAML mapping, got a list"},
		{"no accounts", "{}\n", `missing "accounts"`},
		{"a plan", "version: 1\naccounts:\n  dev: {profile: dev}\n", `accounts.yaml:1:1: unknown key "version" in the accounts file; an accounts file holds accounts: alone`},
		{"typo", "acounts:\n  dev: {profile: dev}\n", `did you mean "accounts"?`},
		{"both", "accounts:\n  dev: {profile: dev, role_arn: arn:aws:iam::222222222222:role/x}\n", "accounts.dev has both profile and role_arn"},
		{"neither", "accounts:\n  dev: {id: \"111111111111\"}\n", "accounts.dev has neither profile nor role_arn"},
		{"bad role", "accounts:\n  prod: {role_arn: arn:aws:iam::2222:role/x}\n", "accounts.yaml:2:20: role_arn"},
		{"role keys without role", "accounts:\n  dev: {profile: dev, external_id: abc}\n", "accounts.dev.external_id needs role_arn"},
		{"one ID twice", "accounts:\n  a: {profile: a, id: \"111111111111\"}\n  b: {profile: b, id: \"111111111111\"}\n", "accounts b and a are the same account 111111111111"},
		{"ID as name", "accounts:\n  \"111111111111\": {profile: a}\n", "is an account ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAccounts("accounts.yaml", []byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseAccounts(%q) = %v, want an error containing %q", tc.file, err, tc.want)
			}
		})
	}
}

// TestAccountNode: an account rendered by AccountNode reads back equal.
func TestAccountNode(t *testing.T) {
	for _, a := range []Account{
		{Name: "dev", Profile: "dev", ID: "111111111111"},
		{Name: "prod", RoleARN: "arn:aws:iam::222222222222:role/afisync", ID: "222222222222", SourceProfile: "ci",
			ExternalID: "x-1", SessionName: "imp", Duration: 90 * time.Minute},
	} {
		accounts := mapping()
		addPair(accounts, a.Name, AccountNode(a))
		m := mapping()
		addPair(m, "accounts", accounts)
		out, err := yaml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseAccounts("x", out)
		if err != nil {
			t.Fatalf("%s\n%v", out, err)
		}
		a.Pos = got[0].Pos
		if d := cmp.Diff([]Account{a}, got); d != "" {
			t.Errorf("%s: (-want +got):\n%s", out, d)
		}
	}
}
