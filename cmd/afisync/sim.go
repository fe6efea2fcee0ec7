package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/ec2sim/simserve"
	"github.com/afisync/afisync/internal/awsid"
)

// simFlags are the flags of afisync sim.
type simFlags struct {
	listen        string
	allowRemote   bool
	stateFile     string
	seedFile      string
	envFile       string
	copyTime      time.Duration
	buildTime     time.Duration
	jitter        float64
	randomSeed    int64
	accounts      map[string]string
	defAccount    string
	fpgaRegions   []string
	throttle      bool
	throttleScale float64
	errorRate     float64
	failRate      float64
	latency       time.Duration
	deny          []string
	afiLimit      int
	externalIDs   []string
}

func newSimCmd(c *cli) *cobra.Command {
	f := &simFlags{}
	cmd := &cobra.Command{
		Use:   "sim [--listen ADDR] [--state FILE] [--seed FILE] [flags]",
		Short: "Serve an EC2 endpoint simulator for the FPGA calls",
		Long: `sim serves ec2sim, an in-memory EC2 endpoint for the Amazon FPGA Image calls
(Create/Copy/Describe/DeleteFpgaImage, Create/Delete/DescribeTags, the FPGA image
attribute calls, DescribeRegions), STS GetCallerIdentity and AssumeRole, and
Service Quotas GetServiceQuota (the AFI quota, --afi-limit). The
aws CLI and the AWS SDKs talk to it through AWS_ENDPOINT_URL or --endpoint-url.
The Region comes from each request's signature and the account from its access
key; AssumeRole gives keys of the role's account (any role can be assumed but
those of --deny ACCOUNT, and those --role-external-id guards need their ID).

It prints the endpoint it bound and the environment a client needs, then
serves until interrupted. --env-file also writes that environment, as shell
export lines, to a file that appears once the simulator listens and is
removed when it stops: the way to run it in the background of a shell.
--state keeps the world across restarts (written at start, then atomically
within a second of each change, and on shutdown); --seed preloads AFIs from
YAML when there is no state yet. GET /_sim/stats returns call counts as JSON; POST
/_sim/clock/advance?by=1h skips simulated time ahead. See docs/simulator.md.`,
		Example: `  afisync sim
  afisync sim --listen 127.0.0.1:0 --copy-time 30s --seed afis.yaml
  afisync sim --throttle --throttle-scale 10 --error-rate 0.01 --fail-rate 0.05
  afisync sim --afi-limit 20 --seed afis.yaml

  ` + simBackgroundExample,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), c, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:4566", "address to listen on (port 0 picks a free port)")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow a --listen address that is not loopback")
	fl.StringVar(&f.stateFile, "state", "", "load the world from FILE at start (if it exists, else write it there); save it within a second of each change and on shutdown")
	fl.StringVar(&f.seedFile, "seed", "", "preload AFIs from this YAML file (ignored when --state FILE exists)")
	fl.StringVar(&f.envFile, "env-file", "", "write the client environment (export lines) to FILE once listening; removed on exit")
	fl.DurationVar(&f.copyTime, "copy-time", ec2sim.DefaultCopyTime, "how long a copy stays pending (0s: at once)")
	fl.DurationVar(&f.buildTime, "build-time", ec2sim.DefaultBuildTime, "how long CreateFpgaImage stays pending (0s: at once)")
	fl.Float64Var(&f.jitter, "jitter", 0, "± fraction applied to --copy-time and --build-time (0.2 = ±20%)")
	fl.Int64Var(&f.randomSeed, "random-seed", 1, "seed for IDs, jitter and random faults")
	fl.StringToStringVar(&f.accounts, "accounts", nil, "access key ID to account ID map, e.g. AKIDB=444455556666,AKIDC=777788889999")
	fl.StringVar(&f.defAccount, "default-account", ec2sim.DefaultAccount, "account of any access key not in --accounts")
	fl.StringSliceVar(&f.fpgaRegions, "fpga-regions", ec2sim.DefaultFPGARegions, "Regions that accept FPGA calls")
	fl.BoolVar(&f.throttle, "throttle", false, "enforce EC2's API token buckets (per account, Region and action)")
	fl.Float64Var(&f.throttleScale, "throttle-scale", 1, "multiply the buckets' refill rates (10 = ten times AWS's rate)")
	fl.Float64Var(&f.errorRate, "error-rate", 0, "fraction of calls answered 500 InternalError or 503 Unavailable")
	fl.Float64Var(&f.failRate, "fail-rate", 0, "fraction of cross-region copies that end failed with a transient error")
	fl.DurationVar(&f.latency, "latency", 0, "delay added to every call")
	fl.IntVar(&f.afiLimit, "afi-limit", 0, "AFIs an account may hold per Region (any state but deleted); Create/CopyFpgaImage past it answer "+ec2sim.CodeAFILimit+" (0: no limit)")
	fl.StringArrayVar(&f.deny, "deny", nil, "ACCOUNT=Action[,Action…]: answer UnauthorizedOperation to that account's calls; ACCOUNT alone: refuse AssumeRole of its roles (AccessDenied) (repeatable)")
	fl.StringArrayVar(&f.externalIDs, "role-external-id", nil, "ROLE_ARN=ID: AssumeRole of that role needs this external ID, else AccessDenied (repeatable)")
	return cmd
}

// options checks the flags and turns them into ec2sim.Options.
func (f *simFlags) options() (ec2sim.Options, error) {
	o := ec2sim.Options{
		Clock:          ec2sim.NewOffsetClock(),
		CopyTime:       f.copyTime,
		BuildTime:      f.buildTime,
		Jitter:         f.jitter,
		Seed:           f.randomSeed,
		Accounts:       f.accounts,
		DefaultAccount: f.defAccount,
		FPGARegions:    f.fpgaRegions,
		Throttle:       f.throttle,
		ThrottleScale:  f.throttleScale,
		ErrorRate:      f.errorRate,
		FailRate:       f.failRate,
		Latency:        f.latency,
		AFILimit:       f.afiLimit,
	}
	if f.copyTime == 0 {
		o.CopyTime = ec2sim.NoDelay
	}
	if f.buildTime == 0 {
		o.BuildTime = ec2sim.NoDelay
	}
	var errs []error
	for name, d := range map[string]time.Duration{"--copy-time": f.copyTime, "--build-time": f.buildTime, "--latency": f.latency} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %v: must not be negative", name, d))
		}
	}
	for name, p := range map[string]float64{"--jitter": f.jitter, "--error-rate": f.errorRate, "--fail-rate": f.failRate} {
		if p < 0 || p > 1 {
			errs = append(errs, fmt.Errorf("%s %v: want a fraction from 0 to 1", name, p))
		}
	}
	if f.afiLimit < 0 {
		errs = append(errs, fmt.Errorf("--afi-limit %d: must not be negative (0: no limit)", f.afiLimit))
	}
	if f.throttleScale <= 0 {
		errs = append(errs, fmt.Errorf("--throttle-scale %v: must be positive", f.throttleScale))
	}
	if !awsid.ValidAccountID(f.defAccount) {
		errs = append(errs, fmt.Errorf("--default-account %q: want a 12-digit account ID", f.defAccount))
	}
	for k, v := range f.accounts {
		if k == "" || !awsid.ValidAccountID(v) {
			errs = append(errs, fmt.Errorf("--accounts %s=%s: want ACCESS_KEY_ID=12-digit account ID", k, v))
		}
	}
	for _, r := range f.fpgaRegions {
		if _, ok := ec2sim.Regions[r]; !ok {
			errs = append(errs, fmt.Errorf("--fpga-regions: unknown region %q", r))
		}
	}
	if len(f.deny) > 0 {
		o.Deny = map[string][]string{}
	}
	for _, d := range f.deny {
		acct, actions, ok := strings.Cut(d, "=")
		switch {
		case !ok && awsid.ValidAccountID(acct):
			o.DenyAssumeRole = append(o.DenyAssumeRole, acct)
		case !ok || !awsid.ValidAccountID(acct) || actions == "":
			errs = append(errs, fmt.Errorf("--deny %q: want ACCOUNT=Action[,Action…], or ACCOUNT alone to refuse AssumeRole of its roles", d))
		default:
			o.Deny[acct] = append(o.Deny[acct], strings.Split(actions, ",")...)
		}
	}
	for _, x := range f.externalIDs {
		// An external ID may hold "=" (base64), a role ARN hardly ever.
		arn, id, ok := strings.Cut(x, "=")
		if _, why := awsid.ParseRoleARN(arn); !ok || why != "" || id == "" {
			errs = append(errs, fmt.Errorf("--role-external-id %q: want ROLE_ARN=EXTERNAL_ID, like arn:aws:iam::111122223333:role/afisync=fleet-7f3a", x))
			continue
		}
		if o.ExternalIDs == nil {
			o.ExternalIDs = map[string]string{}
		}
		o.ExternalIDs[arn] = id
	}
	return o, errors.Join(errs...)
}

// simBackgroundExample is the help's example of a simulator in the
// background of a shell (TestSimBackgroundExample runs it through bash).
const simBackgroundExample = `# in the background; the env file appears once it listens:
  afisync sim --env-file /tmp/ec2sim.env &
  until [ -s /tmp/ec2sim.env ]; do sleep 0.1; done; . /tmp/ec2sim.env
  aws ec2 describe-fpga-images --owners self
  kill %1`

// checkListen refuses a non-loopback address unless allowed.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %q is not a loopback address; the simulator has no authentication, so pass --allow-remote to serve it beyond this machine", addr)
}

func runSim(ctx context.Context, c *cli, f *simFlags) error {
	o, err := f.options()
	if err != nil {
		return withCode(exitInvalid, err)
	}
	if err := checkListen(f.listen, f.allowRemote); err != nil {
		return withCode(exitInvalid, err)
	}
	err = simserve.Run(ctx, ec2sim.New(o), simserve.Config{
		Listen: f.listen, StateFile: f.stateFile, SeedFile: f.seedFile, EnvFile: f.envFile,
		FPGARegions: f.fpgaRegions, CopyTime: f.copyTime, BuildTime: f.buildTime, Account: f.defAccount,
	}, c.stdout, c.stderr)
	switch {
	case errors.Is(err, simserve.ErrSetup):
		return withCode(exitInvalid, err)
	case err != nil:
		return withCode(exitFailed, fmt.Errorf("sim: %w", err))
	}
	return nil
}
