package executor_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
)

// The accounts of the multi-account tests: access key → account ID.
var accountKeys = map[string]string{"AKIDPROD": "222222222222", "AKIDDEV": "333333333333", "AKIDCI": "444444444444"}

func newAccountsWorld(t *testing.T) *world {
	return newWorld(t, ec2sim.Options{Accounts: accountKeys, CopyTime: 1})
}

// clientAs is a client that signs with access key key (an account of
// accountKeys).
func (w *world) clientAs(key string) *afi.Client {
	w.t.Helper()
	cfg := afi.Config{Region: "us-east-1", EndpointURL: w.srv.URL, Credentials: credentials.NewStaticCredentialsProvider(key, "secret", ""), Limits: map[string]afi.Limit{},
		Backoff: func(int, error) time.Duration { return 0 }}
	c, err := afi.New(context.Background(), cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// seedIn adds n available sources owned by account in region.
func (w *world) seedIn(account, region string, n int) []string {
	w.t.Helper()
	var ids []string
	for i := range n {
		im, err := w.sim.AddImage(ec2sim.Image{Account: account, Region: region, Name: fmt.Sprintf("%s-src-%d", account[:4], i)})
		if err != nil {
			w.t.Fatal(err)
		}
		ids = append(ids, im.ID)
	}
	return ids
}

// accountsPlan is a plan whose entries of each account (by name) list
// srcs[name], prod's shared with dev by name.
func accountsPlan(t *testing.T, srcs map[string][]string, accounts []plan.Account) *plan.Plan {
	t.Helper()
	var all []string
	for _, a := range []string{"ci", "dev", "prod"} {
		all = append(all, srcs[a]...)
	}
	p := mkPlan(t, all, []string{"us-west-2", "eu-west-1"}, "")
	p.Accounts = accounts
	for i := range p.AFIs {
		for name, ids := range srcs {
			if slices.Contains(ids, p.AFIs[i].ID) {
				p.AFIs[i].Account = name
				if name == "prod" {
					p.AFIs[i].ShareWithAccounts = []string{"dev"}
				}
			}
		}
	}
	return p
}

func (w *world) runAccounts(ctx context.Context, lanes []executor.Lane, p *plan.Plan, o executor.Options) *report.Report {
	w.t.Helper()
	o.Clock = simClock{w.clock, &w.sleeps}
	o.Concurrency = 8
	o.PollInterval = time.Minute
	rep, err := executor.RunAccounts(ctx, lanes, p, o)
	if err != nil {
		w.t.Logf("RunAccounts: %v", err)
	}
	return rep
}

// Three accounts in one run: prod and dev converge with their own
// credentials, prod's copies are shared with dev and dev sees them; ci's
// credentials fail, so its targets are skipped with the reason, and the
// others carry on; a rerun changes nothing.
func TestRunAccounts(t *testing.T) {
	w := newAccountsWorld(t)
	srcs := map[string][]string{
		"prod": w.seedIn("222222222222", "us-east-1", 2),
		"dev":  w.seedIn("333333333333", "us-east-1", 1),
		"ci":   w.seedIn("444444444444", "us-east-1", 1),
	}
	accounts := []plan.Account{{Name: "ci", Profile: "ci"}, {Name: "dev", Profile: "dev"}, {Name: "prod", RoleARN: "arn:aws:iam::222222222222:role/afisync", ID: "222222222222"}}
	p := accountsPlan(t, srcs, accounts)
	lanes := func() []executor.Lane {
		return []executor.Lane{
			{Name: "prod", Account: accounts[2], Client: w.clientAs("AKIDPROD")},
			{Name: "dev", Account: accounts[1], Client: w.clientAs("AKIDDEV")},
			{Name: "ci", Account: accounts[0], Err: errors.New(`profile "ci" is not in ~/.aws/config or ~/.aws/credentials`)},
		}
	}
	rep := w.runAccounts(context.Background(), lanes(), p, executor.Options{Wait: true})
	if got := rep.Summary; got[report.StatusCopied] != 6 || got[report.StatusSkipped] != 2 || len(rep.Targets) != 8 {
		t.Fatalf("summary %v\n%s", got, text(rep))
	}
	if rep.ExitCode(false) != 1 || !strings.Contains(rep.Error, `account ci: profile "ci" is not in`) || strings.Count(rep.Error, "\n") != 0 {
		t.Errorf("exit %d, error %q", rep.ExitCode(false), rep.Error)
	}
	for _, tg := range rep.Targets {
		want := map[string]string{"prod": "222222222222", "dev": "333333333333", "ci": ""}[tg.AccountName]
		if tg.Account != want {
			t.Errorf("%s/%s: account %q, want %q", tg.AccountName, tg.SourceAFI, tg.Account, want)
		}
		switch tg.AccountName {
		case "prod":
			if !strings.Contains(tg.Message, "dev sees it") {
				t.Errorf("prod target %s %s: message %q, want dev's check", tg.SourceAFI, tg.Region, tg.Message)
			}
		case "ci":
			if tg.Status != report.StatusSkipped || !strings.HasPrefix(tg.Message, `account ci: profile "ci"`) {
				t.Errorf("ci target: %s %q", tg.Status, tg.Message)
			}
		}
	}
	// Each account's copies are its own; prod's are shared with dev.
	for name, key := range map[string]string{"prod": "222222222222", "dev": "333333333333"} {
		for _, region := range []string{"us-west-2", "eu-west-1"} {
			ims := w.sim.Images(key, region)
			if len(ims) != len(srcs[name]) {
				t.Errorf("%s in %s: %d copies, want %d", name, region, len(ims), len(srcs[name]))
			}
			for _, im := range ims {
				if shared := slices.Contains(im.LoadPermissions, "333333333333"); shared != (name == "prod") {
					t.Errorf("%s copy %s: load permissions %v", name, im.ID, im.LoadPermissions)
				}
			}
		}
	}
	if len(rep.Accounts) != 3 || rep.Accounts[2].Summary[report.StatusCopied] != 4 || rep.Accounts[0].Error == "" {
		t.Errorf("accounts %+v", rep.Accounts)
	}

	again := w.runAccounts(context.Background(), lanes()[:2], p, executor.Options{Wait: true})
	if got := again.Summary; got[report.StatusInSync] != 6 || len(again.Targets) != 6 || again.ExitCode(false) != 0 {
		t.Errorf("rerun without ci: %v %q\n%s", got, again.Error, text(again))
	}
}

// unsharedBehindProdsBack is a world where prod's one AFI was copied to
// us-west-2 and eu-west-1 and shared with dev by a sync, after which the
// us-west-2 copy's load permission was removed by hand (the sharing digest
// hides that from prod's side). It returns the plan, the lanes, prod's
// client and the us-west-2 copy.
func unsharedBehindProdsBack(t *testing.T) (*world, *plan.Plan, []executor.Lane, *afi.Client, ec2sim.Image) {
	t.Helper()
	w := newAccountsWorld(t)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 1)}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	p := accountsPlan(t, srcs, accounts)
	prod := w.clientAs("AKIDPROD")
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: prod}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	if rep := w.runAccounts(context.Background(), lanes, p, executor.Options{Wait: true}); rep.ExitCode(false) != 0 {
		t.Fatalf("first run: %s", text(rep))
	}
	west := w.sim.Images("222222222222", "us-west-2")
	if len(west) != 1 {
		t.Fatalf("copies in us-west-2: %v", west)
	}
	if err := prod.ResetSharing(context.Background(), "us-west-2", west[0].ID); err != nil {
		t.Fatal(err)
	}
	return w, p, lanes, prod, west[0]
}

// A copy shared with dev that dev cannot see (its load permission was
// removed by hand; the sharing digest hides that from prod's side) fails its
// target, saying so.
func TestRunAccountsConsumerCannotSee(t *testing.T) {
	w, p, lanes, _, west := unsharedBehindProdsBack(t)
	rep := w.runAccounts(context.Background(), lanes, p, executor.Options{Wait: true})
	var bad []report.Target
	for _, tg := range rep.Targets {
		if tg.Status == report.StatusFailed {
			bad = append(bad, tg)
		}
	}
	want := "shared with dev (333333333333) but dev cannot see it: DescribeFpgaImages in us-west-2 with dev's credentials does not find " + west.ID
	if len(bad) != 1 || bad[0].Region != "us-west-2" || !strings.Contains(bad[0].Message, want) || rep.ExitCode(false) != 1 {
		t.Errorf("failed targets %+v, want one in us-west-2 saying %q\n%s", bad, want, text(rep))
	}
	// With --refresh prod reads the real load permissions and shares again.
	if rep := w.runAccounts(context.Background(), lanes, p, executor.Options{Wait: true, Refresh: true}); rep.ExitCode(false) != 0 {
		t.Errorf("refresh: %s", text(rep))
	}
}

// An account whose credentials are for another account than its id says
// is a mistake in the plan or the profiles: no account changes anything,
// every target is skipped, and the error is afi.ErrInvalidConfig (exit 3).
func TestRunAccountsWrongID(t *testing.T) {
	w := newAccountsWorld(t)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 1), "dev": w.seedIn("333333333333", "us-east-1", 1)}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod", ID: "999999999999"}}
	p := accountsPlan(t, srcs, accounts)
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	o := executor.Options{Clock: simClock{w.clock, &w.sleeps}, Concurrency: 8, PollInterval: time.Minute}
	rep, err := executor.RunAccounts(context.Background(), lanes, p, o)
	if !errors.Is(err, afi.ErrInvalidConfig) {
		t.Errorf("RunAccounts: %v, want afi.ErrInvalidConfig", err)
	}
	want := `account dev: not started: the credentials of account prod reach another account than the plan says; nothing was changed
account prod: the credentials of profile "prod" are for account 222222222222, but the plan says 999999999999 (its id:): fix the profile or the plan`
	if rep.Error != want || rep.Summary[report.StatusSkipped] != 4 || rep.ExitCode(false) != 1 {
		t.Errorf("error %q, summary %v; want %q\n%s", rep.Error, rep.Summary, want, text(rep))
	}
	for _, acct := range []string{"222222222222", "333333333333"} {
		if n := len(w.sim.Images(acct, "us-west-2")); n != 0 {
			t.Errorf("account %s has %d copies", acct, n)
		}
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("%d CopyFpgaImage calls", n)
	}
}

// A plan without accounts through RunAccounts is Run.
func TestRunAccountsOneLaneIsRun(t *testing.T) {
	w := newWorld(t, ec2sim.Options{})
	srcs := w.seed("us-east-1", 2)
	p := mkPlan(t, srcs, []string{"us-west-2"}, "")
	rep := w.runAccounts(context.Background(), []executor.Lane{{Client: w.client(afi.Config{})}}, p, executor.Options{})
	if rep.Account != account || rep.Accounts != nil || rep.Summary[report.StatusCopying] != 2 {
		t.Errorf("report %+v", rep)
	}
	for _, tg := range rep.Targets {
		if tg.Account != "" || tg.AccountName != "" {
			t.Errorf("target names an account: %+v", tg)
		}
	}
}

// Preflight of a plan with accounts checks each account with its own
// credentials; an account whose credentials fail has one denied check (and,
// its ID unknown, nothing is shared with it, so no sharing call is checked).
func TestPreflightAccounts(t *testing.T) {
	w := newAccountsWorld(t)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 1), "dev": w.seedIn("333333333333", "us-east-1", 1)}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	p := accountsPlan(t, srcs, accounts)
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")},
		{Name: "dev", Account: accounts[0], Err: errors.New("the AWS SSO session has expired or was never started: run `aws sso login --profile dev` and try again")}}
	pf, err := executor.PreflightAccounts(context.Background(), lanes, p, executor.Options{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range pf.Checks {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", c.AccountName, c.Account, c.Region, c.Action, c.Result))
	}
	want := []string{
		"dev   credentials denied",
		"prod 222222222222 eu-west-1 CopyFpgaImage allowed",
		"prod 222222222222 eu-west-1 CreateTags allowed",
		"prod 222222222222 us-west-2 CopyFpgaImage allowed",
		"prod 222222222222 us-west-2 CreateTags allowed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || pf.ExitCode() != 1 || !strings.Contains(pf.Checks[0].Message, "aws sso login --profile dev") {
		t.Errorf("checks:\n%s\nwant:\n%s\n(exit %d, %q)", strings.Join(got, "\n"), strings.Join(want, "\n"), pf.ExitCode(), pf.Checks[0].Message)
	}
}

// --prune works in each account of the plan, on that account's copies of
// this plan, and never touches an account the plan does not name.
func TestRunAccountsPrune(t *testing.T) {
	w := newAccountsWorld(t)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 2), "dev": w.seedIn("333333333333", "us-east-1", 1), "ci": w.seedIn("444444444444", "us-east-1", 1)}
	all := []plan.Account{{Name: "ci", Profile: "ci"}, {Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	lanes := func(names ...string) []executor.Lane {
		keys := map[string]string{"prod": "AKIDPROD", "dev": "AKIDDEV", "ci": "AKIDCI"}
		var out []executor.Lane
		for _, a := range all {
			if slices.Contains(names, a.Name) {
				out = append(out, executor.Lane{Name: a.Name, Account: a, Client: w.clientAs(keys[a.Name])})
			}
		}
		return out
	}
	if rep := w.runAccounts(context.Background(), lanes("ci", "dev", "prod"), accountsPlan(t, srcs, all), executor.Options{Wait: true}); rep.Summary[report.StatusCopied] != 8 {
		t.Fatalf("first run: %s", text(rep))
	}
	// ci leaves the plan, and so does one of prod's sources.
	kept := map[string][]string{"prod": srcs["prod"][:1], "dev": srcs["dev"]}
	// The question on a terminal lists each account's deletions.
	set, err := executor.PreviewPruneAccounts(context.Background(), lanes("dev", "prod"), accountsPlan(t, kept, all[1:]),
		executor.Options{Prune: true, Clock: simClock{w.clock, &w.sleeps}, Concurrency: 8, PollInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var listed strings.Builder
	if err := set.Write(&listed); err != nil {
		t.Fatal(err)
	}
	if len(set.Delete) != 2 || strings.Count(listed.String(), " of account prod (copy of us-east-1/"+srcs["prod"][1]+")") != 2 {
		t.Errorf("preview: %d to delete\n%s", len(set.Delete), listed.String())
	}
	rep := w.runAccounts(context.Background(), lanes("dev", "prod"), accountsPlan(t, kept, all[1:]), executor.Options{Wait: true, Prune: true, PruneOnly: set.Allows})
	if got := rep.Summary; got[report.StatusPruned] != 2 || got[report.StatusInSync] != 4 || rep.ExitCode(false) != 0 {
		t.Fatalf("prune: %v\n%s", got, text(rep))
	}
	for _, tg := range rep.Targets {
		if tg.Status == report.StatusPruned && (tg.AccountName != "prod" || tg.SourceAFI != srcs["prod"][1]) {
			t.Errorf("pruned %+v", tg)
		}
	}
	for _, region := range []string{"us-west-2", "eu-west-1"} {
		if n := len(w.sim.Images("444444444444", region)); n != 1 {
			t.Errorf("ci, which the plan no longer names, has %d copies in %s, want its 1", n, region)
		}
	}
}

// Applying saved decisions over accounts is all or nothing: an account
// whose run ends before it can check its decisions (its DescribeRegions is
// denied, which --prune needs) stops every other account before any
// change, and nobody waits for it forever.
func TestRunAccountsSavedAllOrNothing(t *testing.T) {
	w := newWorld(t, ec2sim.Options{Accounts: accountKeys, CopyTime: 1, Deny: map[string][]string{"333333333333": {"DescribeRegions"}}})
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 1), "dev": w.seedIn("333333333333", "us-east-1", 1)}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	p := accountsPlan(t, srcs, accounts)
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	expect := map[string]*executor.Expectation{}
	var order []string
	w.runAccounts(context.Background(), lanes, p, executor.Options{DryRun: true, Prune: true, DecidedAccount: func(name, account string, ds []reconcile.Decision) {
		order = append(order, name)
		expect[name] = &executor.Expectation{Account: account, Decisions: ds}
	}})
	if len(expect) != 1 || expect["prod"] == nil {
		t.Fatalf("decided %v, want prod's alone (dev cannot list its regions)", order)
	}
	rep := w.runAccounts(context.Background(), lanes, p, executor.Options{Prune: true, ExpectAccounts: expect})
	if !strings.Contains(rep.Error, "account prod: the saved plan is stale in account dev; nothing was changed") || rep.ExitCode(false) != 1 {
		t.Errorf("error %q\n%s", rep.Error, text(rep))
	}
	if n := w.sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
		t.Errorf("%d copies made", n)
	}
}

// Two accounts of the plan whose credentials reach one account fail both:
// their runs would take each other's copies for their own.
func TestRunAccountsSameAccount(t *testing.T) {
	w := newAccountsWorld(t)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 1), "dev": w.seedIn("222222222222", "us-east-1", 1), "ci": w.seedIn("444444444444", "us-east-1", 1)}
	accounts := []plan.Account{{Name: "ci", Profile: "ci"}, {Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	p := accountsPlan(t, srcs, accounts)
	lanes := []executor.Lane{{Name: "prod", Account: accounts[2], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[1], Client: w.clientAs("AKIDPROD")},
		{Name: "ci", Account: accounts[0], Client: w.clientAs("AKIDCI")}}
	rep := w.runAccounts(context.Background(), lanes, p, executor.Options{Prune: true})
	want := "the credentials of accounts dev and prod all reach account 222222222222"
	if got := rep.Summary; got[report.StatusSkipped] != 4 || got[report.StatusCopying] != 2 || strings.Count(rep.Error, want) != 2 {
		t.Errorf("summary %v, error %q", got, rep.Error)
	}
	if n := w.sim.Stats().Count("DeleteFpgaImage", "", ""); n != 0 {
		t.Errorf("%d deletions", n)
	}
}

// The AFI quota is per account and region: prod, whose us-west-2 is full,
// gets no copy there, while dev copies into the same region of its own
// account, and the report keeps the two accounts' rows apart. The limit
// applies to every account, whether --afi-limit, settings.quota or each
// account's own Service Quotas lookup gives it.
func TestQuotaPerAccount(t *testing.T) {
	for _, source := range []string{reconcile.LimitFromFlag, reconcile.LimitFromPlan, reconcile.LimitFromServiceQuotas} {
		t.Run(source, func(t *testing.T) { quotaPerAccount(t, source) })
	}
}

func quotaPerAccount(t *testing.T, source string) {
	w := newAccountsWorld(t)
	w.sim.SetAFILimit(5)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 2), "dev": w.seedIn("333333333333", "us-east-1", 2)}
	w.seedIn("222222222222", "us-west-2", 4) // prod holds 4 of 5 there: 2 copies would pass
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	p := accountsPlan(t, srcs, accounts)
	var o executor.Options
	switch source {
	case reconcile.LimitFromFlag:
		o.AFILimit = 5
	case reconcile.LimitFromPlan:
		p.Settings.Quota = plan.Quota{AFIs: 5}
	}
	rep := w.runAccounts(context.Background(), lanes, p, o)
	got := map[string]report.Status{}
	for _, tg := range rep.Targets {
		got[tg.AccountName+" "+tg.Region] = tg.Status
		if tg.AccountName == "prod" && tg.Region == "us-west-2" && !strings.Contains(tg.Message, "us-west-2 holds 4 AFIs and its limit is 5") {
			t.Errorf("prod's us-west-2 target says %q", tg.Message)
		}
	}
	for key, want := range map[string]report.Status{"prod us-west-2": report.StatusFailed, "prod eu-west-1": report.StatusCopying,
		"dev us-west-2": report.StatusCopying, "dev eu-west-1": report.StatusCopying} {
		if got[key] != want {
			t.Errorf("%s: %s, want %s\n%s", key, got[key], want, text(rep))
		}
	}
	if n := len(w.sim.Images("222222222222", "us-west-2")); n != 4 {
		t.Errorf("prod holds %d AFIs in us-west-2, want the 4 it had", n)
	}
	if n := len(w.sim.Images("333333333333", "us-west-2")); n != 2 {
		t.Errorf("dev holds %d AFIs in us-west-2, want its 2 copies", n)
	}
	rows := map[string]report.Quota{}
	for _, q := range rep.Quota {
		rows[q.AccountName+" "+q.Region] = q
	}
	if q := rows["prod us-west-2"]; !q.Refused || q.Held != 4 || q.Account != "222222222222" || q.Source != source {
		t.Errorf("prod's us-west-2 quota %+v", q)
	}
	if q := rows["dev us-west-2"]; q.Refused || q.Held != 0 || q.After != 2 || q.Account != "333333333333" || q.Source != source || q.Limit != 5 {
		t.Errorf("dev's us-west-2 quota %+v", q)
	}
	if rep.ExitCode(false) != 1 {
		t.Errorf("exit %d, want 1", rep.ExitCode(false))
	}
}

// A retain: rule on one account's entry expires only that account's copies
// of the plan: the preview of the prune question (no --prune) lists them,
// the run deletes exactly those, and another account's copies of AFIs with
// the same names stay.
func TestRetentionPerAccount(t *testing.T) {
	w := newAccountsWorld(t)
	shells := func(account string, n int) {
		for i := 1; i <= n; i++ {
			if _, err := w.sim.AddImage(ec2sim.Image{Account: account, Region: "us-east-1", Name: fmt.Sprintf("shell-%d", i),
				CreateTime: t0.Add(-time.Duration(n-i) * 24 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	shells("222222222222", 4)
	shells("333333333333", 3)
	fleet := func(retain string) *plan.Plan {
		src := "version: 1\nname: fleet\naccounts:\n  dev: {profile: dev}\n  prod: {profile: prod}\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\n" +
			"afis:\n  - select: {name: \"shell-*\"}\n    account: prod\n" + retain + "  - select: {name: \"shell-*\"}\n    account: dev\n"
		p, err := plan.Parse("fleet.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	if rep := w.runAccounts(context.Background(), lanes, fleet(""), executor.Options{Wait: true}); rep.Summary[report.StatusCopied] != 7 {
		t.Fatalf("first run: %s", text(rep))
	}
	p := fleet("    retain: {keep_last: 2}\n")
	set, err := executor.PreviewPruneAccounts(context.Background(), lanes, p,
		executor.Options{Clock: simClock{w.clock, &w.sleeps}, Concurrency: 8, PollInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var listed strings.Builder
	if err := set.Write(&listed); err != nil {
		t.Fatal(err)
	}
	if len(set.Delete) != 2 || strings.Count(listed.String(), "of account prod") != 2 || strings.Contains(listed.String(), "account dev") {
		t.Errorf("preview: %d to delete\n%s", len(set.Delete), listed.String())
	}
	rep := w.runAccounts(context.Background(), lanes, p, executor.Options{PruneOnly: set.Allows})
	if rep.Summary[report.StatusExpired] != 2 || rep.ExitCode(false) != 0 {
		t.Errorf("retention run: %v\n%s", rep.Summary, text(rep))
	}
	for _, tg := range rep.Targets {
		if tg.Status == report.StatusExpired && tg.AccountName != "prod" {
			t.Errorf("expired another account's copy: %+v", tg)
		}
	}
	if n := len(w.sim.Images("222222222222", "us-west-2")); n != 2 {
		t.Errorf("prod keeps %d copies in us-west-2, want its newest 2", n)
	}
	if n := len(w.sim.Images("333333333333", "us-west-2")); n != 3 {
		t.Errorf("dev keeps %d copies in us-west-2, want all 3", n)
	}
}

// grantOnSleep is the test clock, which also runs grant at its first Sleep.
type grantOnSleep struct {
	simClock
	once  *sync.Once
	grant func()
}

func (g grantOnSleep) Sleep(ctx context.Context, d time.Duration) error {
	g.once.Do(g.grant)
	return g.simClock.Sleep(ctx, d)
}

// EC2 is eventually consistent: a copy the consumer cannot see at first but
// sees a poll interval later (its load permission shows up late) passes.
func TestRunAccountsConsumerSeesItLate(t *testing.T) {
	w, p, lanes, prod, west := unsharedBehindProdsBack(t)
	w.sim.ResetStats()
	clock := grantOnSleep{simClock: simClock{w.clock, &w.sleeps}, once: &sync.Once{}, grant: func() {
		if err := prod.ModifySharing(context.Background(), "us-west-2", west.ID, afi.Sharing{AddUsers: []string{"333333333333"}}); err != nil {
			t.Error(err)
		}
	}}
	rep, err := executor.RunAccounts(context.Background(), lanes, p, executor.Options{Wait: true, Clock: clock, Concurrency: 8, PollInterval: time.Minute})
	if err != nil || rep.ExitCode(false) != 0 {
		t.Fatalf("RunAccounts: %v\n%s", err, text(rep))
	}
	for _, tg := range rep.Targets {
		if tg.AccountName == "prod" && !strings.HasSuffix(tg.Message, "dev sees it") {
			t.Errorf("%s: %q, want dev to see it", tg.Region, tg.Message)
		}
	}
	if n := w.sim.Stats().Count("DescribeFpgaImages", "us-west-2", ""); n < 2 {
		t.Errorf("%d describes in us-west-2: dev did not look again", n)
	}
}

// Preflight of a plan with accounts judges the AFI quota per account, as
// sync does: prod's full us-west-2 fails the check, naming prod, and dev's
// same region, with room, does not.
func TestPreflightAccountsQuota(t *testing.T) {
	w := newAccountsWorld(t)
	w.sim.SetAFILimit(5)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 2), "dev": w.seedIn("333333333333", "us-east-1", 2)}
	w.seedIn("222222222222", "us-west-2", 4)
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	pf, err := executor.PreflightAccounts(context.Background(), lanes, accountsPlan(t, srcs, accounts), executor.Options{Concurrency: 4, AFILimit: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range pf.Quota {
		got = append(got, fmt.Sprintf("%s %s %s held=%d after=%d refused=%v", q.AccountName, q.Account, q.Region, q.Held, q.After, q.Refused))
	}
	want := []string{
		"dev 333333333333 eu-west-1 held=0 after=2 refused=false",
		"dev 333333333333 us-east-1 held=2 after=2 refused=false",
		"dev 333333333333 us-west-2 held=0 after=2 refused=false",
		"prod 222222222222 eu-west-1 held=0 after=2 refused=false",
		"prod 222222222222 us-east-1 held=2 after=2 refused=false",
		"prod 222222222222 us-west-2 held=4 after=6 refused=true",
	}
	var out strings.Builder
	if err := pf.Write(&out, report.FormatText); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || pf.ExitCode() != 1 ||
		!strings.Contains(out.String(), "quota: account prod (222222222222): us-west-2 holds 4 AFIs and its limit is 5") || strings.Contains(out.String(), "account dev (333333333333): us-west-2") {
		t.Errorf("quota:\n%s\nwant:\n%s\n(exit %d)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), pf.ExitCode(), out.String())
	}
}

// Retention in a plan with accounts honours claims and public copies as in
// one account: of prod's two expiring copies, the one another plan claims
// too is only released, the public one stays without --prune-public (the
// preview lists it as kept), and nothing is deleted in dev.
func TestRetentionPerAccountClaimsAndPublic(t *testing.T) {
	w := newAccountsWorld(t)
	srcOf := map[string]string{} // prod's source ID → name
	for _, account := range []string{"222222222222", "333333333333"} {
		for i := 1; i <= 4; i++ {
			im, err := w.sim.AddImage(ec2sim.Image{Account: account, Region: "us-east-1", Name: fmt.Sprintf("shell-%d", i),
				CreateTime: t0.Add(-time.Duration(4-i) * 24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if account == "222222222222" {
				srcOf[im.ID] = im.Name
			}
		}
	}
	fleet := func(retain string) *plan.Plan {
		src := "version: 1\nname: fleet\naccounts:\n  dev: {profile: dev}\n  prod: {profile: prod}\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\n" +
			"afis:\n  - select: {name: \"shell-*\"}\n    account: prod\n" + retain + "  - select: {name: \"shell-*\"}\n    account: dev\n" + retain
		p, err := plan.Parse("fleet.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	prod := w.clientAs("AKIDPROD")
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: prod}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	if rep := w.runAccounts(context.Background(), lanes, fleet(""), executor.Options{Wait: true}); rep.Summary[report.StatusCopied] != 8 {
		t.Fatalf("first run: %s", text(rep))
	}
	// prod's copies of shell-1 and shell-2 expire with keep_last 2:
	// another plan claims shell-1's, shell-2's is made public.
	var claimed, public string
	for _, im := range w.sim.Images("222222222222", "us-west-2") {
		switch srcOf[im.SourceID] {
		case "shell-1":
			claimed = im.ID
		case "shell-2":
			public = im.ID
		}
	}
	if err := prod.CreateTags(context.Background(), "us-west-2", []string{claimed}, map[string]string{plan.ClaimKey("other"): "other"}); err != nil {
		t.Fatal(err)
	}
	if err := prod.ModifySharing(context.Background(), "us-west-2", public, afi.Sharing{AddGroups: []string{plan.GroupAll}}); err != nil {
		t.Fatal(err)
	}
	// dev's copies expire too, all of them its own.
	p := fleet("    retain: {keep_last: 2}\n")
	set, err := executor.PreviewPruneAccounts(context.Background(), lanes, p,
		executor.Options{Clock: simClock{w.clock, &w.sleeps}, Concurrency: 8, PollInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	byID := func(list []report.Target) []string {
		var out []string
		for _, tg := range list {
			out = append(out, tg.AccountName+" "+tg.CopyAFI)
		}
		return out
	}
	if got := byID(set.Release); len(got) != 1 || got[0] != "prod "+claimed {
		t.Errorf("preview releases %v, want prod's %s", got, claimed)
	}
	if got := byID(set.Kept); len(got) != 1 || got[0] != "prod "+public {
		t.Errorf("preview keeps %v, want prod's public %s", got, public)
	}
	for _, tg := range set.Delete {
		if tg.AccountName != "dev" {
			t.Errorf("preview deletes %s's %s", tg.AccountName, tg.CopyAFI)
		}
	}
	w.sim.ResetStats()
	rep := w.runAccounts(context.Background(), lanes, p, executor.Options{PruneOnly: set.Allows})
	got := map[string]report.Status{}
	for _, tg := range rep.Targets {
		if tg.CopyAFI != "" {
			got[tg.AccountName+" "+tg.CopyAFI] = tg.Status
		}
	}
	if got["prod "+claimed] != report.StatusReleased || got["prod "+public] != report.StatusWouldExpire || rep.Summary[report.StatusExpired] != 2 {
		t.Errorf("claimed %s, public %s, summary %v\n%s", got["prod "+claimed], got["prod "+public], rep.Summary, text(rep))
	}
	if n := w.sim.Stats().Count("DeleteFpgaImage", "", "ok"); n != 2 {
		t.Errorf("%d deletions, want dev's 2", n)
	}
	left := map[string]ec2sim.Image{}
	for _, im := range w.sim.Images("222222222222", "us-west-2") {
		left[im.ID] = im
	}
	if im, ok := left[claimed]; !ok || plan.HasClaim(im.Tags, "fleet") || !plan.HasClaim(im.Tags, "other") {
		t.Errorf("claimed copy: %v (present %v), want other's claim alone", im.Tags, ok)
	}
	if _, ok := left[public]; !ok || len(left) != 4 {
		t.Errorf("prod holds %d copies in us-west-2 (public one present: %v), want all 4", len(left), ok)
	}
	if n := len(w.sim.Images("333333333333", "us-west-2")); n != 2 {
		t.Errorf("dev keeps %d copies, want its newest 2", n)
	}
}

// A run over accounts interrupted while the lanes learn their identities
// (GetCallerIdentity in flight) starts no lane and says it was
// interrupted: not a credentials failure of every account.
func TestRunAccountsInterruptedAtIdentity(t *testing.T) {
	for _, early := range []bool{true, false} {
		t.Run(fmt.Sprintf("before=%v", early), func(t *testing.T) {
			w := newAccountsWorld(t)
			srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 1), "dev": w.seedIn("333333333333", "us-east-1", 1)}
			accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
			p := accountsPlan(t, srcs, accounts)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if early {
				cancel()
			} else {
				w.intercept(func(rw http.ResponseWriter, body string) bool {
					if !strings.Contains(body, "GetCallerIdentity") {
						return false
					}
					cancel() // Ctrl-C while STS is asked
					rw.WriteHeader(http.StatusServiceUnavailable)
					return true
				})
			}
			lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
			rep := w.runAccounts(ctx, lanes, p, executor.Options{})
			want := "account dev: not started: interrupted\naccount prod: not started: interrupted"
			if !rep.Interrupted || rep.Error != want || rep.Summary[report.StatusSkipped] != 4 || len(rep.Warnings) != 0 {
				t.Errorf("interrupted %v, error %q, warnings %q; want %q\n%s", rep.Interrupted, rep.Error, rep.Warnings, want, text(rep))
			}
			if n := w.sim.Stats().Count("CopyFpgaImage", "", ""); n != 0 {
				t.Errorf("%d CopyFpgaImage calls", n)
			}
		})
	}
}

// Credentials that reach another account than the plan's id: make diff
// stop like sync (afi.ErrInvalidConfig, every target skipped), and
// preflight name the account with one denied credentials check while it
// checks the others; neither makes a mutating call that succeeds.
func TestWrongIDDiffAndPreflight(t *testing.T) {
	w := newAccountsWorld(t)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 1), "dev": w.seedIn("333333333333", "us-east-1", 1)}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod", ID: "999999999999"}}
	p := accountsPlan(t, srcs, accounts)
	lanes := []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	o := executor.Options{Clock: simClock{w.clock, &w.sleeps}, Concurrency: 8, PollInterval: time.Minute, DryRun: true, Prune: true}
	rep, err := executor.RunAccounts(context.Background(), lanes, p, o)
	if !errors.Is(err, afi.ErrInvalidConfig) || rep.Summary[report.StatusSkipped] != 4 || !rep.DryRun {
		t.Errorf("diff: %v, summary %v\n%s", err, rep.Summary, text(rep))
	}
	pf, err := executor.PreflightAccounts(context.Background(), lanes, p, executor.Options{Concurrency: 4, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	var denied []report.Check
	for _, c := range pf.Checks {
		if c.Result == report.CheckDenied {
			denied = append(denied, c)
		}
	}
	if len(denied) != 1 || denied[0].AccountName != "prod" || denied[0].Action != executor.CheckCredentials ||
		!strings.Contains(denied[0].Message, "the plan says 999999999999") || pf.ExitCode() != 1 {
		t.Errorf("denied checks %+v, exit %d", denied, pf.ExitCode())
	}
	for _, action := range []string{"CopyFpgaImage", "CreateTags", "DeleteTags", "ModifyFpgaImageAttribute", "ResetFpgaImageAttribute", "DeleteFpgaImage", "CreateFpgaImage"} {
		if n := w.sim.Stats().Count(action, "", "ok"); n != 0 {
			t.Errorf("%d %s calls succeeded", n, action)
		}
	}
}

// Interrupted while the consumer check waits to look again, a copy the
// consumer did not see at first is not called unseen: the target keeps its
// status, says it was not checked, and the report is interrupted.
func TestRunAccountsConsumerCheckInterrupted(t *testing.T) {
	w, p, lanes, _, _ := unsharedBehindProdsBack(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := cancelOnSleep{simClock: simClock{w.clock, &w.sleeps}, cancel: cancel}
	rep, _ := executor.RunAccounts(ctx, lanes, p, executor.Options{Wait: true, Clock: clock, Concurrency: 8, PollInterval: time.Minute})
	if !rep.Interrupted {
		t.Errorf("not interrupted:\n%s", text(rep))
	}
	for _, tg := range rep.Targets {
		if tg.AccountName == "prod" && tg.Region == "us-west-2" && (tg.Status == report.StatusFailed || !strings.Contains(tg.Message, "not checked from dev's side")) {
			t.Errorf("us-west-2: %s %q, want its status and not checked", tg.Status, tg.Message)
		}
	}
}

// Two runs of one plan over accounts at once, against one simulator (two
// pipelines, two clients per account): every account's copies are made
// once, each target reports a live copy, and a third run finds everything
// in sync.
func TestTwoRunsOverAccountsAtOnce(t *testing.T) {
	w := newAccountsWorld(t)
	srcs := map[string][]string{"prod": w.seedIn("222222222222", "us-east-1", 4), "dev": w.seedIn("333333333333", "us-east-1", 4)}
	accounts := []plan.Account{{Name: "dev", Profile: "dev"}, {Name: "prod", Profile: "prod"}}
	p := accountsPlan(t, srcs, accounts)
	lanes := func() []executor.Lane {
		return []executor.Lane{{Name: "prod", Account: accounts[1], Client: w.clientAs("AKIDPROD")}, {Name: "dev", Account: accounts[0], Client: w.clientAs("AKIDDEV")}}
	}
	reps := make([]*report.Report, 2)
	var wg sync.WaitGroup
	for i := range reps {
		wg.Go(func() { reps[i] = w.runAccounts(context.Background(), lanes(), p, executor.Options{Wait: true}) })
	}
	wg.Wait()
	for i, rep := range reps {
		if rep.ExitCode(false) != 0 || len(rep.Targets) != 16 {
			t.Errorf("run %d: exit %d, %d targets\n%s", i, rep.ExitCode(false), len(rep.Targets), text(rep))
		}
		for _, tg := range rep.Targets {
			if tg.CopyAFI == "" {
				t.Errorf("run %d: %s %s → %s has no copy (%s)", i, tg.AccountName, tg.SourceAFI, tg.Region, tg.Status)
			}
		}
	}
	for account, n := range map[string]int{"222222222222": 4, "333333333333": 4} {
		for _, region := range []string{"us-west-2", "eu-west-1"} {
			if got := len(w.sim.Images(account, region)); got != n {
				t.Errorf("account %s holds %d AFIs in %s, want %d (one copy per source)", account, got, region, n)
			}
		}
	}
	if rep := w.runAccounts(context.Background(), lanes(), p, executor.Options{}); rep.Summary[report.StatusInSync] != 16 {
		t.Errorf("third run: %v\n%s", rep.Summary, text(rep))
	}
}
