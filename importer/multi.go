package importer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/afisync/afisync/internal/awsid"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// Account is one account of a multi-account import (BuildAccounts): how
// the plan reaches it (a name and a profile or role, as under a plan's
// accounts:) and its inventory, gathered with its own credentials.
type Account struct {
	plan.Account
	// Inv is Gather's inventory; Inv.Account, the ID STS reported for the
	// account's credentials, becomes its id: in the plan.
	Inv *reconcile.Inventory
}

// BuildAccounts writes one plan for several accounts: a top-level
// accounts: with each account's profile or role and its id: (as STS
// reported it), and each account's AFIs imported as Build imports one
// account's, each entry with account: NAME. A copy shared with another
// account of the import names it in share_with by name. An account with
// no AFI to import that no other account shares with is left out of
// accounts: (a plan uses every account it declares; Result.LeftAccounts
// says which); no AFI to import in any account is ErrNothing.
//
// The accounts must have distinct names and distinct IDs, each ID the
// one its account says (id:, or its role ARN's), and a role in
// --source-region's partition. Like Build, BuildAccounts is pure and
// checks its output: it passes plan.Parse, and a sync of each account's
// entries copies nothing.
func BuildAccounts(accts []Account, o Options) (*Result, error) {
	if len(accts) == 0 {
		return nil, errors.New("no account to import")
	}
	accts = slices.Clone(accts)
	slices.SortFunc(accts, func(a, b Account) int { return strings.Compare(a.Name, b.Name) })
	byID := map[string]string{}
	parts := make([]*part, len(accts))
	for i, a := range accts {
		switch {
		case a.Name == "":
			return nil, errors.New("an account of the import has no name")
		case i > 0 && accts[i-1].Name == a.Name:
			return nil, fmt.Errorf("account %s is given twice", a.Name)
		case a.Inv == nil:
			return nil, fmt.Errorf("account %s: no inventory", a.Name)
		case a.ID != "" && a.ID != a.Inv.Account:
			return nil, fmt.Errorf("account %s: its credentials reached account %s, but it must be %s", a.Name, a.Inv.Account, a.ID)
		}
		if prev, dup := byID[a.Inv.Account]; dup {
			return nil, fmt.Errorf("accounts %s and %s reach the same account %s: import each account once (a plan's runs in both would prune each other's copies)", prev, a.Name, a.Inv.Account)
		}
		byID[a.Inv.Account] = a.Name
		if r, why := awsid.ParseRoleARN(a.RoleARN); a.RoleARN != "" && why == "" && r.Partition != plan.Partition(o.SourceRegion) {
			return nil, fmt.Errorf("account %s: its role_arn is in partition %s, but --source-region %s is in %s: an account and its AFIs are in one partition",
				a.Name, r.Partition, o.SourceRegion, plan.Partition(o.SourceRegion))
		}
		pa := a.Account
		pa.ID = a.Inv.Account
		parts[i] = &part{acct: pa, inv: a.Inv}
	}
	return build(parts, o)
}
