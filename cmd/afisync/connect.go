package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/simenv"
	"github.com/afisync/afisync/plan"
)

// connect returns the AWS client a command uses: the standard AWS chain with
// the global flags or, with --simulate, an in-process simulator seeded with
// the plan's sources (opts is adjusted for it). close releases what connect
// started; it is never nil.
func connect(ctx context.Context, c *cli, p *plan.Plan, opts *executor.Options) (client *afi.Client, close func(), err error) {
	close = func() {}
	cfg := afi.Config{Profile: c.profile, Region: c.region, EndpointURL: c.endpointURL}
	if c.simulate {
		env, err := simenv.Start(p)
		if err != nil {
			return nil, close, err
		}
		close = func() { env.Close() }
		fmt.Fprintf(c.stderr, "*** SIMULATED: talking to an in-process EC2 simulator at %s, not to AWS. Nothing real is copied. ***\n", env.Endpoint)
		cfg = env.Config()
		opts.Simulated = true
		opts.PollInterval = simenv.PollInterval
	}
	client, err = afi.New(ctx, cfg)
	if err != nil {
		close()
		return nil, func() {}, err
	}
	return client, close, nil
}

// connectExitCode is the exit status for an error from connect: the
// command line's (3) for a configuration the user must fix, such as an
// unknown --region or profile; else 1.
func connectExitCode(err error) int {
	if errors.Is(err, afi.ErrInvalidConfig) {
		return exitInvalid
	}
	return exitFailed
}

// connectLanes returns the lanes of a run of p: for a plan without
// accounts:, one lane of connect's client; else one lane per account of
// the plan (afi.AccountConfig over the global flags' configuration, or,
// with --simulate, the simulator's keys and roles for it), and a lane ""
// of the command's own credentials when some entry names no account. An
// account whose client cannot be set up gets a lane with Err: its targets
// are skipped and the others run. calls sums every lane's AWS calls;
// close releases what connectLanes started, and is never nil.
func connectLanes(ctx context.Context, c *cli, p *plan.Plan, opts *executor.Options) (lanes []executor.Lane, calls func() []afi.CallStat, close func(), err error) {
	close = func() {}
	if len(p.Accounts) == 0 {
		client, cl, err := connect(ctx, c, p, opts)
		if err != nil {
			return nil, nil, cl, err
		}
		return []executor.Lane{{Client: client}}, client.Calls, cl, nil
	}
	if c.region != "" {
		if err := plan.RegionError(c.region); err != nil {
			return nil, nil, close, fmt.Errorf("%w: --region: %v", afi.ErrInvalidConfig, err)
		}
	}
	base := afi.Config{Profile: c.profile, Region: c.region, EndpointURL: c.endpointURL, PlanName: p.Name}
	accountConfig := afi.AccountConfig
	if c.simulate {
		env, err := simenv.Start(p)
		if err != nil {
			return nil, nil, close, err
		}
		close = func() { env.Close() }
		fmt.Fprintf(c.stderr, "*** SIMULATED: talking to an in-process EC2 simulator at %s, not to AWS, as %d accounts. Nothing real is copied. ***\n", env.Endpoint, len(p.Accounts))
		base = env.Config()
		base.PlanName = p.Name
		accountConfig = env.AccountConfig
		opts.Simulated = true
		opts.PollInterval = simenv.PollInterval
	}
	add := func(name string, a plan.Account, cfg afi.Config) {
		client, err := afi.New(ctx, cfg)
		lanes = append(lanes, executor.Lane{Name: name, Account: a, Client: client, Err: err})
	}
	for _, a := range p.Accounts {
		add(a.Name, a, accountConfig(base, a))
	}
	if slices.Contains(p.AccountNames(), "") {
		add("", plan.Account{}, base)
	}
	calls = func() []afi.CallStat {
		var clients []*afi.Client
		for _, l := range lanes {
			if l.Client != nil {
				clients = append(clients, l.Client)
			}
		}
		return sumCalls(clients)
	}
	return lanes, calls, close, nil
}

// sumCalls adds up the calls of several clients, per region and action.
func sumCalls(clients []*afi.Client) []afi.CallStat {
	sum := map[afi.CallKey]*afi.CallCount{}
	var keys []afi.CallKey
	for _, cl := range clients {
		for _, s := range cl.Calls() {
			n := sum[s.CallKey]
			if n == nil {
				n = &afi.CallCount{}
				sum[s.CallKey] = n
				keys = append(keys, s.CallKey)
			}
			n.Attempts += s.Attempts
			n.Throttled += s.Throttled
			n.Errors += s.Errors
		}
	}
	slices.SortFunc(keys, func(a, b afi.CallKey) int {
		if a.Region != b.Region {
			return strings.Compare(a.Region, b.Region)
		}
		return strings.Compare(a.Action, b.Action)
	})
	out := make([]afi.CallStat, 0, len(keys))
	for _, k := range keys {
		out = append(out, afi.CallStat{CallKey: k, CallCount: *sum[k]})
	}
	return out
}
