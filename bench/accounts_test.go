package bench

import (
	"context"
	"testing"
	"testing/synctest"
)

// Several accounts run at once, each bound by its own buckets: 3 accounts
// × 100 AFIs × 2 regions take no more than 1.25 × one account's 100 × 2
// + 5 s, under EC2's real rates (scale 1). In a synctest bubble with the
// simulator in-process, so the times are the fake clock's.
func TestAccountsScale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cmp, err := CompareAccounts(context.Background(), AccountsCase{Accounts: 3, AFIs: 100, Regions: 2, Scale: 1, InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("1 account: %s (floor %s); 3 accounts: %s; bound %s", cmp.One.Wall, cmp.One.Ideal, cmp.Many.Wall, cmp.Bound())
		if !cmp.OK() {
			t.Errorf("3 accounts took %s, bound %s (1 account %s); failed %d/%d (%s), copies %d/%d and %d/%d",
				cmp.Many.Wall, cmp.Bound(), cmp.One.Wall, cmp.One.Failed, cmp.Many.Failed, cmp.Many.Why,
				cmp.One.Copies, cmp.One.Targets, cmp.Many.Copies, cmp.Many.Targets)
		}
		if cmp.One.Wall < cmp.One.Ideal {
			t.Errorf("1 account took %s, under the buckets' floor %s: the buckets are not in force", cmp.One.Wall, cmp.One.Ideal)
		}
	})
}
