package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestForAccount(t *testing.T) {
	p := &Plan{
		Version: SchemaVersion, Name: "fleet",
		Accounts: []Account{{Name: "dev", Profile: "dev"}, {Name: "prod", RoleARN: "arn:aws:iam::222222222222:role/afisync", ID: "222222222222"}},
		AFIs: []Entry{
			{ID: "afi-00000000000000001", Options: Options{Account: "prod", Regions: []string{"eu-west-1"},
				ShareWith: []string{"999999999999", "111111111111"}, ShareWithAccounts: []string{"dev", "gone"}}},
			{ID: "afi-00000000000000002", Options: Options{Account: "dev", Regions: []string{"eu-west-1"}}},
			{ID: "afi-00000000000000003", Options: Options{Regions: []string{"us-west-2"}, ShareWithAccounts: []string{"prod"}}},
			{ID: "afi-00000000000000004", Options: Options{Account: "prod", Regions: []string{"us-west-2"}, ShareWith: []string{"333333333333"},
				ShareWithAccounts: []string{"prod"}}}, // itself: left out
		},
	}
	ids := map[string]string{"dev": "111111111111", "prod": "222222222222"}
	tests := []struct {
		account   string
		wantIDs   []string
		wantShare [][]string
	}{
		// dev's ID is already listed literally: once; "gone" has no ID: left out.
		{"prod", []string{"afi-00000000000000001", "afi-00000000000000004"},
			[][]string{{"111111111111", "999999999999"}, {"333333333333"}}},
		{"dev", []string{"afi-00000000000000002"}, [][]string{nil}},
		{"", []string{"afi-00000000000000003"}, [][]string{{"222222222222"}}},
		{"nobody", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.account, func(t *testing.T) {
			sub := p.ForAccount(tt.account, ids)
			if sub.Name != p.Name || sub.Accounts != nil {
				t.Errorf("Name %q Accounts %v, want %q and nil", sub.Name, sub.Accounts, p.Name)
			}
			var gotIDs []string
			var gotShare [][]string
			for _, e := range sub.AFIs {
				gotIDs = append(gotIDs, e.ID)
				gotShare = append(gotShare, e.ShareWith)
				if e.Account != tt.account {
					t.Errorf("entry %s has account %q", e.ID, e.Account)
				}
			}
			if d := cmp.Diff(tt.wantIDs, gotIDs); d != "" {
				t.Errorf("entries (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantShare, gotShare); d != "" {
				t.Errorf("share_with (-want +got):\n%s", d)
			}
			for _, e := range sub.AFIs {
				if len(e.ShareWith) > 0 {
					e.ShareWith[0] = "changed"
				}
			}
		})
	}
	if got := p.AFIs[0].ShareWith; got[0] != "999999999999" || len(got) != 2 {
		t.Errorf("ForAccount changed the plan's share_with: %v", got)
	}
	if d := cmp.Diff([]string{"", "dev", "prod"}, p.AccountNames()); d != "" {
		t.Errorf("AccountNames (-want +got):\n%s", d)
	}
}

func TestSessionNameFor(t *testing.T) {
	long := "x"
	for len(long) < 80 {
		long += long
	}
	tests := []struct {
		a    Account
		plan string
		want string
	}{
		{Account{SessionName: "ci"}, "fleet", "ci"},
		{Account{}, "fleet", "afisync-fleet"},
		{Account{}, "", "afisync"},
		{Account{}, "my plan/v2", "afisync-my-plan-v2"},
		{Account{}, long, ("afisync-" + long)[:MaxSessionNameLen]},
	}
	for _, tt := range tests {
		if got := SessionNameFor(tt.a, tt.plan); got != tt.want {
			t.Errorf("SessionNameFor(%+v, %q) = %q, want %q", tt.a, tt.plan, got, tt.want)
		}
	}
}

// TestAccountsPlan reads a plan with accounts and splits it by account.
func TestAccountsPlan(t *testing.T) {
	p, err := Load("../testdata/plans/valid/accounts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range p.Accounts {
		names = append(names, a.Name+"="+a.ID)
	}
	if d := cmp.Diff([]string{"ci=", "dev=111111111111", "prod=222222222222", "qa="}, names); d != "" {
		t.Errorf("accounts (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"ci", "dev", "prod"}, p.AccountNames()); d != "" {
		t.Errorf("AccountNames (-want +got):\n%s", d)
	}
	ids := map[string]string{"ci": "333333333333", "dev": "111111111111", "prod": "222222222222"} // qa unknown
	prod := p.ForAccount("prod", ids).Targets()
	if len(prod) != 2 || prod[0].Account != "prod" {
		t.Fatalf("prod's targets: %+v", prod)
	}
	if d := cmp.Diff([]string{"111111111111", "999988887777"}, prod[0].ShareWith); d != "" {
		t.Errorf("prod's share_with (-want +got):\n%s", d)
	}
	ci := p.ForAccount("ci", ids).Targets()
	if d := cmp.Diff([]string{"222222222222"}, ci[0].ShareWith); d != "" {
		t.Errorf("ci's share_with, qa's ID unknown (-want +got):\n%s", d)
	}
}

// Selectors and builds are per account: two accounts may each select (or
// build) their own AFIs with the same words; one account may not list the
// same selector twice.
func TestSelectorsPerAccount(t *testing.T) {
	head := "version: 1\nname: fleet\naccounts:\n  dev: {profile: dev}\n  prod: {profile: prod}\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n"
	for _, tc := range []struct {
		name, afis, err string
	}{
		{"selectors in two accounts", "  - {select: {name: \"shell-*\"}, account: prod}\n  - {select: {name: \"shell-*\"}, account: dev}\n", ""},
		{"builds in two accounts", "  - {build: {input: \"s3://dcp-bucket/shell.tar\"}, name: shell, account: prod}\n  - {build: {input: \"s3://dcp-bucket/shell.tar\"}, name: shell, account: dev}\n", ""},
		{"one account twice", "  - {select: {name: \"shell-*\"}, account: prod}\n  - {select: {name: \"shell-*\"}, account: prod}\n  - {id: afi-0123456789abcdef0, account: dev}\n",
			"fleet.yaml:11:6: the same selector over us-east-1 in account prod is listed twice in afis; it is already listed at line 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("fleet.yaml", []byte(head+tc.afis))
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
