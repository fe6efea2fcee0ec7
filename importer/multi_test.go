package importer

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/afisync/afisync/internal/golden"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

const (
	devID    = "111111111111"
	prodID   = "222222222222"
	qaID     = "333333333333"
	prodRole = "arn:aws:iam::222222222222:role/afisync"
)

// accountWorld is an account's inventory: world's, with its ID.
func accountWorld(id string, ims ...reconcile.Image) *reconcile.Inventory {
	inv := world(ims...)
	inv.Account = id
	return inv
}

// twoAccounts: dev owns src1 with a copy in us-west-2 shared with prod and
// a customer; prod (a role) owns src2 with copies in two regions shared
// with dev and qa; qa owns nothing.
func twoAccounts() []Account {
	dev := accountWorld(devID, srcImg(src1, agf1, "nic", nil), img("afi-0b0000000000000b1", agf1, "us-west-2", "nic", nil))
	perms(dev, "us-west-2", "afi-0b0000000000000b1", prodID, "999988887777")
	prod := accountWorld(prodID, srcImg(src2, agf2, "dma", map[string]string{"team": "fpga"}),
		img("afi-0b0000000000000c1", agf2, "eu-west-1", "dma", map[string]string{"team": "fpga"}),
		img("afi-0b0000000000000c2", agf2, "us-west-2", "dma", map[string]string{"team": "fpga"}))
	perms(prod, "eu-west-1", "afi-0b0000000000000c1", devID, qaID)
	perms(prod, "us-west-2", "afi-0b0000000000000c2", qaID, devID)
	return []Account{
		{Account: plan.Account{Name: "prod", RoleARN: prodRole, ID: prodID, ExternalID: "x-7f3a"}, Inv: prod},
		{Account: plan.Account{Name: "dev", Profile: "dev"}, Inv: dev},
		{Account: plan.Account{Name: "qa", Profile: "qa"}, Inv: accountWorld(qaID)},
	}
}

func TestBuildAccounts(t *testing.T) {
	o := Options{SourceRegion: "us-east-1", Name: "fleet"}
	res, err := BuildAccounts(twoAccounts(), o)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Plan
	want := []plan.Account{
		{Name: "dev", Profile: "dev", ID: devID},
		{Name: "prod", RoleARN: prodRole, ID: prodID, ExternalID: "x-7f3a"},
		{Name: "qa", Profile: "qa", ID: qaID},
	}
	for i := range p.Accounts {
		p.Accounts[i].Pos = plan.Pos{}
	}
	if !slices.Equal(p.Accounts, want) {
		t.Errorf("accounts = %+v, want %+v", p.Accounts, want)
	}
	if len(p.AFIs) != 2 {
		t.Fatalf("entries = %+v", p.AFIs)
	}
	dev, prod := p.AFIs[0], p.AFIs[1]
	if dev.ID != src1 || dev.Account != "dev" || !slices.Equal(dev.ShareWith, []string{"999988887777"}) || !slices.Equal(dev.ShareWithAccounts, []string{"prod"}) ||
		!slices.Equal(dev.Regions, []string{"us-west-2"}) {
		t.Errorf("dev's entry = %+v", dev)
	}
	if prod.ID != src2 || prod.Account != "prod" || len(prod.ShareWith) != 0 || !slices.Equal(prod.ShareWithAccounts, []string{"dev", "qa"}) ||
		!slices.Equal(prod.Regions, []string{"eu-west-1", "us-west-2"}) {
		t.Errorf("prod's entry = %+v", prod)
	}
	if res.Entries != 2 || res.Copies != 3 || res.Regions != 2 || !slices.Equal(res.Accounts, []string{"dev", "prod", "qa"}) || len(res.LeftAccounts) != 0 {
		t.Errorf("result = %+v", res)
	}
	golden.Check(t, "testdata/accounts.yaml", res.YAML)

	// Without the shares, qa is no one's: it is left out, and said so.
	accts := twoAccounts()
	for _, a := range accts {
		for _, lp := range a.Inv.LoadPermissions {
			lp.Users = slices.DeleteFunc(lp.Users, func(u string) bool { return u == qaID })
		}
	}
	res, err = BuildAccounts(accts, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Accounts, []string{"dev", "prod"}) || len(res.LeftAccounts) != 1 || !strings.HasPrefix(res.LeftAccounts[0], "qa (333333333333): no AFI it owns in us-east-1") {
		t.Errorf("accounts %v, left out %q", res.Accounts, res.LeftAccounts)
	}
	if !strings.Contains(string(res.YAML), "#   qa (333333333333, profile qa): no AFI to import, and no other account shares with it") {
		t.Errorf("the plan does not say qa is left out:\n%s", res.YAML)
	}
}

func TestBuildAccountsErrors(t *testing.T) {
	o := Options{SourceRegion: "us-east-1", Name: "fleet"}
	for _, tc := range []struct {
		name  string
		edit  func([]Account) []Account
		want  string
		isNot error
	}{
		{"same name", func(a []Account) []Account { a[2].Name = "dev"; return a }, "account dev is given twice", nil},
		{"same ID", func(a []Account) []Account { a[2].Inv.Account = devID; return a }, "accounts dev and qa reach the same account 111111111111", nil},
		{"ID differs", func(a []Account) []Account { a[0].ID = qaID; return a }, "account prod: its credentials reached account 222222222222, but it must be 333333333333", nil},
		{"partition", func(a []Account) []Account { a[0].RoleARN = "arn:aws-us-gov:iam::222222222222:role/afisync"; return a },
			"account prod: its role_arn is in partition aws-us-gov, but --source-region us-east-1 is in aws", nil},
		{"nothing anywhere", func(a []Account) []Account { return a[2:] }, "nothing to import: account qa (333333333333): no AFI it owns in us-east-1 has a copy in another region", ErrNothing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildAccounts(tc.edit(twoAccounts()), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.isNot != nil && !errors.Is(err, tc.isNot)) {
				t.Errorf("BuildAccounts: %v, want %q", err, tc.want)
			}
		})
	}
}
