package report

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/afisync/afisync/internal/golden"
)

// accountsSample is the report of a run over three accounts: prod copied
// and shared with dev, dev in sync, ci's credentials failed.
func accountsSample() *Report {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	r := &Report{
		Plan:       "fpga-fleet",
		StartedAt:  t0,
		FinishedAt: t0.Add(3*time.Minute + 10*time.Second),
		Targets: []Target{
			{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", AGFI: "agfi-0123456789abcdef0", Region: "us-west-2", CopyAFI: "afi-01111222233334444",
				Status: StatusCopied, Attempts: 1, Message: "+ share 333333333333; dev sees it", Account: "222222222222", AccountName: "prod"},
			{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", AGFI: "agfi-0123456789abcdef0", Region: "eu-west-1", CopyAFI: "afi-05555666677778888",
				Status: StatusFailed, Attempts: 1, Message: "shared with dev (333333333333) but dev cannot see it: DescribeFpgaImages in eu-west-1 with dev's credentials does not find afi-05555666677778888",
				Account: "222222222222", AccountName: "prod"},
			{SourceAFI: "afi-0fedcba9876543210", SourceRegion: "us-east-1", AGFI: "agfi-0fedcba9876543210", Region: "us-west-2", CopyAFI: "afi-0aaaabbbbccccdddd",
				Status: StatusInSync, Attempts: 1, Account: "333333333333", AccountName: "dev"},
			{SourceAFI: "afi-0badbadbadbadbad0", SourceRegion: "us-east-1", Region: "us-west-2", Status: StatusSkipped,
				Message:     "account ci: AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444444444444:role/afisync",
				AccountName: "ci"},
		},
		Accounts: []Account{
			{Name: "ci", Error: "AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444444444444:role/afisync"},
			{Name: "dev", ID: "333333333333"},
			{Name: "prod", ID: "222222222222"},
		},
		Error: "account ci: AccessDenied: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444444444444:role/afisync",
		// The AFI quota is per account and region: one row each.
		Quota: []Quota{
			{Region: "us-west-2", Account: "333333333333", AccountName: "dev", Held: 1, Limit: 100, Source: "default", After: 1, Headroom: 99},
			{Region: "eu-west-1", Account: "222222222222", AccountName: "prod", Held: 0, Limit: 20, Source: "service-quotas", Copies: 1, After: 1, Headroom: 19},
			{Region: "us-west-2", Account: "222222222222", AccountName: "prod", Held: 0, Limit: 20, Source: "service-quotas", Copies: 1, After: 1, Headroom: 19},
		},
	}
	r.Finish()
	return r
}

func TestRenderAccounts(t *testing.T) {
	for _, f := range []Format{FormatText, FormatJSON, FormatMarkdown} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := accountsSample().Write(&buf, f); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "accounts."+string(f)+".golden"), buf.Bytes())
		})
	}
}

func TestAccountsSortAndSummary(t *testing.T) {
	r := accountsSample()
	var order []string
	for _, tg := range r.Targets {
		order = append(order, tg.AccountName+" "+tg.Region)
	}
	want := []string{"ci us-west-2", "dev us-west-2", "prod eu-west-1", "prod us-west-2"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %q, want %q", order, want)
		}
	}
	if got := r.Accounts[2].Summary; got[StatusCopied] != 1 || got[StatusFailed] != 1 || len(got) != 2 {
		t.Errorf("prod's summary %v", got)
	}
	if r.SummaryLine() != "1 failed, 1 skipped, 1 copied, 1 in sync" || r.ExitCode(false) != 1 {
		t.Errorf("summary %q, exit %d", r.SummaryLine(), r.ExitCode(false))
	}
	// Each account's error is shown under it, not again at the end.
	if errs := r.runErrors(); len(errs) != 0 {
		t.Errorf("run errors %q", errs)
	}
	r.Error += "\nwrite the saved plan: disk full"
	if errs := r.runErrors(); len(errs) != 1 || errs[0] != "write the saved plan: disk full" {
		t.Errorf("run errors %q", errs)
	}
}
