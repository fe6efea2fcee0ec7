package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

func newPreflightCmd(c *cli) *cobra.Command {
	var (
		planFile string
		output   string
		prune    bool
		afiLimit int
	)
	cmd := &cobra.Command{
		Use:   "preflight --plan FILE [--prune] [--afi-limit N]",
		Short: "Check, with DryRun calls, that AWS will allow every call sync needs",
		Long: `preflight asks EC2, with DryRun=true, whether each mutating call that a sync
of the plan may need is allowed, in every destination region:
CopyFpgaImage and CreateTags always; ModifyFpgaImageAttribute when the plan
shares copies or sets names or descriptions; DeleteTags with exclusive_tags;
DeleteFpgaImage and ResetFpgaImageAttribute with --prune. Nothing changes in
AWS. A plan with accounts: is checked in each account with its own
credentials; an account whose credentials fail, or reach another account
than the plan says, has one denied "credentials" check that says why.

It also works out each region's AFI quota as sync would (--afi-limit,
settings.quota, Service Quotas, default) and names every region a sync
would refuse for it, or that holds more than its limit already.

Exit codes: 0 every call would be allowed (or could not be judged: see
"unknown"); 1 at least one call would be denied (UnauthorizedOperation), a
region would pass its AFI limit, or an AWS error; 3 invalid plan or command
line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			format, err := report.ParseFormat(output)
			if err != nil {
				return withCode(exitInvalid, err)
			}
			logger, err := newLogger(c)
			if err != nil {
				return withCode(exitInvalid, err)
			}
			p, err := loadPlanFlag(ctx, c, planFile)
			if err != nil {
				return quiet(err)
			}
			var ov executor.Overrides
			if cmd.Flags().Changed("afi-limit") {
				if afiLimit < 1 || afiLimit > plan.MaxAFILimit {
					return withCode(exitInvalid, fmt.Errorf("--afi-limit must be 1 to %d, not %d", plan.MaxAFILimit, afiLimit))
				}
				ov.AFILimit = &afiLimit
			}
			opts := executor.Resolve(p, ov, executor.Options{Prune: prune, Logger: logger})
			lanes, _, closeClient, err := connectLanes(ctx, c, p, &opts)
			if err != nil {
				return withCode(connectExitCode(err), err)
			}
			defer closeClient()
			pf, err := executor.PreflightAccounts(ctx, lanes, p, opts)
			if err != nil {
				return withCode(exitFailed, afi.Explain(err))
			}
			if err := pf.Write(c.stdout, format); err != nil {
				return withCode(exitFailed, err)
			}
			if code := pf.ExitCode(); code != exitOK {
				return withCode(code, nil)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&planFile, "plan", "", "plan file (YAML); - reads standard input")
	fl.StringVarP(&output, "output", "o", string(report.FormatText), "output format: text, json or markdown")
	fl.BoolVar(&prune, "prune", false, "also check the calls sync --prune makes")
	fl.IntVar(&afiLimit, "afi-limit", 0, "AFIs the account may hold per region, as for sync (overrides settings.quota and Service Quotas)")
	return cmd
}
