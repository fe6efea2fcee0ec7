package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/report"
	"github.com/afisync/afisync/saved"
)

// checkSavedFlags refuses flags that cannot go with --from (the saved plan
// carries the plan and every setting that shapes decisions) or --out.
func checkSavedFlags(fl *pflag.FlagSet, f *syncFlags) error {
	if f.from == "" {
		if f.out != "" && f.plan == "" {
			return errors.New("--out needs --plan")
		}
		return nil
	}
	for _, name := range []string{"plan", "prune", "prune-public", "retries", "refresh"} {
		if fl.Changed(name) {
			return fmt.Errorf("--%s cannot go with --from: the saved plan carries the plan and its settings", name)
		}
	}
	return nil
}

// loadPlanOrSaved reads the plan from --plan, or from the saved plan --from
// names.
func loadPlanOrSaved(ctx context.Context, c *cli, f *syncFlags) (*plan.Plan, *saved.File, error) {
	if f.from == "" {
		p, err := loadPlanFlag(ctx, c, f.plan)
		return p, nil, err
	}
	sv, err := saved.Read(f.from)
	if err != nil {
		return nil, nil, withCode(exitInvalid, err)
	}
	p, err := sv.Plan()
	if err != nil {
		return nil, nil, withCode(exitInvalid, err)
	}
	return p, sv, nil
}

// applySaved makes the run apply the saved plan sv (if any) exactly: its
// settings, and its decisions as what the run must find.
func applySaved(sv *saved.File, o *executor.Options) func() error {
	if sv != nil {
		o.Retries, o.Prune, o.PrunePublic, o.Refresh = sv.Settings.Retries, sv.Settings.Prune, sv.Settings.PrunePublic, sv.Settings.Refresh
		o.Expect = &executor.Expectation{Account: sv.Account, Decisions: sv.Decisions}
		if len(sv.Accounts) > 0 {
			o.Expect, o.ExpectAccounts = nil, map[string]*executor.Expectation{}
			for _, a := range sv.Accounts {
				o.ExpectAccounts[a.Name] = &executor.Expectation{Account: a.ID, Decisions: a.Decisions}
			}
		}
	}
	return func() error { return nil }
}

// saveTo makes the run record its decisions, and returns what writes them
// to path once the run is over.
func saveTo(path string, p *plan.Plan, o *executor.Options) func() error {
	var account string
	var ds []reconcile.Decision
	decided := false
	var accounts []saved.Account
	if len(p.Accounts) > 0 {
		// Each account's decisions, one call at a time (RunAccounts).
		o.DecidedAccount = func(name, a string, d []reconcile.Decision) {
			if d == nil {
				d = []reconcile.Decision{}
			}
			accounts = append(accounts, saved.Account{Name: name, ID: a, Decisions: d})
		}
	} else {
		o.Decided = func(a string, d []reconcile.Decision) { account, ds, decided = a, d, true }
	}
	return func() error {
		if len(accounts) > 0 {
			// Saved only when every account that runs has decided: an
			// account that failed leaves no file (its lane has the error).
			if want := len(p.AccountNames()); len(accounts) < want {
				return fmt.Errorf("cannot save the plan to %s: %d of its %d accounts could not decide (see above)", path, want-len(accounts), want)
			}
			sort.Slice(accounts, func(i, j int) bool { return accounts[i].Name < accounts[j].Name })
			decided = true
		}
		if !decided {
			return nil
		}
		sv, err := saved.New(p, account, saved.Settings{Retries: o.Retries, Prune: o.Prune, PrunePublic: o.PrunePublic, Refresh: o.Refresh},
			ds, time.Now(), versionString())
		if sv != nil {
			sv.Accounts = accounts
		}
		if err == nil {
			err = sv.Write(path)
		}
		if err != nil {
			return fmt.Errorf("cannot save the plan to %s: %w", path, err)
		}
		return nil
	}
}

func newShowCmd(c *cli) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Print a plan saved by diff --out, the way diff does",
		Long: `show prints what a saved plan (afisync diff --out FILE) would do: one line
per target with the status diff showed, the account and when it was made. It
makes no AWS call. Apply it with afisync sync --from FILE.`,
		Example: `  afisync diff --plan plans/fleet.yaml --out fleet.plan.json
  afisync show fleet.plan.json
  afisync sync --from fleet.plan.json --wait`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := report.ParseFormat(output)
			if err != nil {
				return withCode(exitInvalid, err)
			}
			sv, err := saved.Read(args[0])
			if err != nil {
				return withCode(exitInvalid, err)
			}
			if err := savedReport(sv).Write(c.stdout, format); err != nil {
				return withCode(exitFailed, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", string(report.FormatText), "report format: text, json or markdown")
	return cmd
}

// savedReport is the dry-run report a saved plan stands for.
func savedReport(sv *saved.File) *report.Report {
	rep := &report.Report{Plan: sv.PlanName, Account: sv.Account, StartedAt: sv.CreatedAt, FinishedAt: sv.CreatedAt, DryRun: true}
	add := func(ds []reconcile.Decision, id, name string) {
		for _, d := range ds {
			t := report.Target{SourceAFI: d.SourceAFI, SourceRegion: d.SourceRegion, Region: d.Region, AGFI: d.Basis.SourceAGFI,
				CopyAFI: d.Basis.CopyAFI, Status: executor.PlannedStatus(d.Action), Attempts: d.Attempt, Message: d.Reason, Account: id, AccountName: name}
			if d.Action == reconcile.ActionNone {
				t.Message = ""
			}
			rep.Targets = append(rep.Targets, t)
		}
	}
	add(sv.Decisions, "", "")
	for _, a := range sv.Accounts {
		add(a.Decisions, a.ID, a.Name)
		rep.Accounts = append(rep.Accounts, report.Account{Name: a.Name, ID: a.ID})
	}
	rep.Finish()
	return rep
}
