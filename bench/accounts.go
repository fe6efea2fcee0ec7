package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// AccountsCase is one sync of a plan over Accounts accounts, each with
// AFIs sources of its own copied to Regions regions, against EC2's buckets
// (per account and region, as AWS keeps them) sped up Scale times, with
// Latency per call (divided by Scale). It is a plain sync (no --wait,
// copies finish at once), as in the throttled scenarios: each account's
// lane is bound by its own buckets, so the run should take about as long as
// one account's.
type AccountsCase struct {
	Accounts, AFIs, Regions int
	Scale                   float64       // 0: 1 (EC2's own rates)
	Latency                 time.Duration // unscaled; 0: DefaultLatency; negative: none
	Seed                    int64
	InMemory                bool
}

// Name is "A accounts × N×R" ("1 account × N×R").
func (c AccountsCase) Name() string {
	word := "accounts"
	if c.Accounts == 1 {
		word = "account"
	}
	return fmt.Sprintf("%d %s × %d×%d", c.Accounts, word, c.AFIs, c.Regions)
}

// AccountsResult is the outcome of an AccountsCase.
type AccountsResult struct {
	Name     string
	Accounts int
	Targets  int
	// Copies counts the copies the accounts hold afterwards; it must be
	// Targets (one each, in its own account).
	Copies int
	// Failed counts bad targets in the report; must be 0.
	Failed int
	Why    string
	Wall   time.Duration // the sync's wall time
	// Ideal is the throttle-bound floor of one account's copies in its
	// buckets (every account's are the same size, and drain at once).
	Ideal time.Duration
}

// accountID is the ID of the i-th bench account.
func accountID(i int) string { return fmt.Sprintf("%012d", 500000000000+i) }

// RunAccountsCase runs an AccountsCase: one RunAccounts over every
// account, each lane with its own client (own access key, so own pacing).
func RunAccountsCase(ctx context.Context, c AccountsCase) (AccountsResult, error) {
	if c.Scale <= 0 {
		c.Scale = 1
	}
	if c.Latency == 0 {
		c.Latency = DefaultLatency
	}
	dests := Regions(c.Regions)
	keys := map[string]string{}
	for i := range c.Accounts {
		keys[fmt.Sprintf("AKIDBENCH%d", i)] = accountID(i)
	}
	so := ec2sim.Options{Throttle: true, ThrottleScale: c.Scale, Seed: c.Seed, CopyTime: ec2sim.NoDelay, Accounts: keys,
		FPGARegions: append([]string{SourceRegion}, dests...)}
	if c.Latency > 0 {
		so.Latency = time.Duration(float64(c.Latency) / c.Scale)
	}
	if so.Seed == 0 {
		so.Seed = 7
	}
	sim := ec2sim.New(so)
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nname: %s\naccounts:\n", PlanName)
	for i := range c.Accounts {
		fmt.Fprintf(&b, "  a%d: {profile: a%d, id: %q}\n", i, i, accountID(i))
	}
	fmt.Fprintf(&b, "defaults:\n  source_region: %s\n  regions: [%s]\n  tags: {env: bench}\nafis:\n", SourceRegion, strings.Join(dests, ", "))
	for i := range c.Accounts {
		for j := range c.AFIs {
			im, err := sim.AddImage(ec2sim.Image{Account: accountID(i), Region: SourceRegion, Name: fmt.Sprintf("bench-%d-%05d", i, j)})
			if err != nil {
				return AccountsResult{}, err
			}
			fmt.Fprintf(&b, "  - id: %s\n    account: a%d\n", im.ID, i)
		}
	}
	p, err := plan.Parse("accounts.yaml", []byte(b.String()))
	if err != nil {
		return AccountsResult{}, fmt.Errorf("bench plan: %w", err)
	}
	url, hc := inProcessURL, &http.Client{Transport: handlerTransport{sim}}
	if !c.InMemory {
		srv := httptest.NewServer(sim)
		defer srv.Close()
		url, hc = srv.URL, nil
	}
	s := scaled{scale: c.Scale}
	var lanes []executor.Lane
	for i, a := range p.Accounts {
		cfg := afi.Config{Region: SourceRegion, EndpointURL: url, RateScale: c.Scale, AttemptTimeout: s.d(afi.DefaultAttemptTimeout), Backoff: s.backoff,
			Credentials: credentials.NewStaticCredentialsProvider(fmt.Sprintf("AKIDBENCH%d", i), "secret", "")}
		if hc != nil {
			cfg.HTTPClient = hc
		}
		cl, err := afi.New(ctx, cfg)
		if err != nil {
			return AccountsResult{}, err
		}
		lanes = append(lanes, executor.Lane{Name: a.Name, Account: a, Client: cl})
	}
	o := executor.Resolve(p, executor.Overrides{}, executor.Options{})
	o.Timeout = s.d(o.Timeout)
	o.PollInterval = s.d(executor.DefaultPollInterval)
	o.RateScale = c.Scale
	o.StopGrace = s.d(executor.DefaultStopGrace)
	res := AccountsResult{Name: c.Name(), Accounts: c.Accounts, Targets: c.Accounts * c.AFIs * c.Regions,
		Ideal: Ideal(map[string]int{dests[0]: c.AFIs}, c.Scale)}
	start := time.Now()
	rep, err := executor.RunAccounts(ctx, lanes, p, o)
	res.Wall = time.Since(start)
	if err != nil {
		return res, err
	}
	res.Failed, res.Why = badTargets(rep), why(rep)
	for i := range c.Accounts {
		for _, region := range dests {
			for _, im := range sim.Images(accountID(i), region) {
				if im.SourceID != "" && im.State != ec2sim.StateFailed {
					res.Copies++
				}
			}
		}
	}
	if n := targetsIn(rep); n != res.Targets {
		return res, fmt.Errorf("%s: the report has %d targets, want %d", c.Name(), n, res.Targets)
	}
	return res, nil
}

func targetsIn(rep *report.Report) int { return len(rep.Targets) }

// AccountsComparison is a run over several accounts and the same run over
// one, in the same run of the benchmark.
type AccountsComparison struct {
	One, Many AccountsResult
}

// Bound is the most the run over several accounts may take: 1.25 × the
// one-account run + 5 s (issue 20's bound).
func (c AccountsComparison) Bound() time.Duration {
	return c.One.Wall*5/4 + 5*time.Second
}

// OK reports whether the run over several accounts kept within Bound,
// and both converged every target.
func (c AccountsComparison) OK() bool {
	return c.Many.Wall <= c.Bound() && c.One.Failed == 0 && c.Many.Failed == 0 &&
		c.One.Copies == c.One.Targets && c.Many.Copies == c.Many.Targets
}

// CompareAccounts runs c with one account, then with c.Accounts.
func CompareAccounts(ctx context.Context, c AccountsCase) (AccountsComparison, error) {
	one := c
	one.Accounts = 1
	r1, err := RunAccountsCase(ctx, one)
	if err != nil {
		return AccountsComparison{}, err
	}
	rn, err := RunAccountsCase(ctx, c)
	return AccountsComparison{One: r1, Many: rn}, err
}
