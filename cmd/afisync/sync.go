package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/style"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/report"
)

// syncFlags are the flags sync and diff share.
type syncFlags struct {
	plan         string
	dryRun       bool
	wait         bool
	timeout      time.Duration
	concurrency  int
	retries      int
	failFast     bool
	prune        bool
	prunePublic  bool
	yes          bool
	refresh      bool
	out          string // diff --out: save the decisions
	from         string // sync --from: apply saved decisions
	output       string
	reportFile   string
	detailedExit bool
	afiLimit     int
	unattended   unattendedFlags
}

func newSyncCmd(c *cli) *cobra.Command {
	f := &syncFlags{}
	cmd := &cobra.Command{
		Use:   "sync --plan FILE",
		Short: "Copy every AFI the plan asks for into every region it names",
		Long: `sync compares the plan with the AFIs in each region (DescribeFpgaImages),
copies what is missing (CopyFpgaImage, with a deterministic ClientToken so
that reruns and concurrent runs never duplicate a copy), tags each copy, and
prints a report. With --wait it polls until every copy is available or has
failed; copies that fail for a transient reason are copied again up to
--retries times. --timeout bounds the whole run: when it passes, or on
SIGINT/SIGTERM, nothing new starts, calls in flight get 5 s, and the report
is printed (a second signal exits at once, without one).

A plan with accounts: runs every account at once, each with its own
credentials (its profile, or its role assumed with source_profile or the
command's own credentials), pacing, claims and --concurrency slots, within
the one --timeout, and prints one report grouped by account. An account
whose credentials fail has its targets skipped, with one line saying why;
the others carry on (exit 1). Copies shared with an account of the plan
are then looked for with that account's own credentials: one it cannot see
fails its target.

--prune deletes this plan's copies that the plan no longer lists. On a
terminal (standard input and standard error both terminals), sync first
works out what it would delete (a dry run), lists it, and asks
"Delete N copies? Only 'yes' is accepted:" before any change: any other
answer exits 1 with nothing changed ("prune declined"), and the run then
deletes only what it listed. --yes skips the question; off a terminal
(cron, pipelines) sync never asks. A plan with retain: rules asks the same
question before it deletes the copies they expire (expired).

The AFI quota: each region may hold --afi-limit AFIs (else settings.quota,
else the account's Service Quota L-8FBBDF0C if it can be read, else AWS's
default of 100). A region the run would leave past a limit from the flag,
the plan or Service Quotas gets no copy at all (its targets fail, naming the
region, what it holds, the limit and the fixes); the other regions go on,
and the run exits 1. Deletions that make room (--prune, retain:) run first.
Past the default limit, which afisync cannot know is yours, it only warns.

Exit codes: 0 every target in its desired state (without --wait, copies
started count); 1 a target failed, timed out or was skipped, or the run was
interrupted; 2 with --dry-run --detailed-exitcode, changes are pending;
3 invalid plan or command line, or an account of the plan whose credentials
reach another account than the plan says (nothing was changed).`,
		Example: `  afisync sync --plan plans/fleet.yaml --wait
  afisync sync --plan plans/fleet.yaml --prune         # on a terminal: lists what it deletes, then asks
  afisync sync --plan plans/fleet.yaml --prune --yes   # no question (as off a terminal)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd, c, f)
		},
	}
	fl := cmd.Flags()
	addPlanFlags(cmd, f)
	fl.BoolVar(&f.dryRun, "dry-run", false, "show what would change and make no mutating call")
	fl.BoolVar(&f.wait, "wait", false, "wait until every copy is available, failed, or --timeout passes")
	fl.DurationVar(&f.timeout, "timeout", executor.DefaultTimeout, "wall-clock deadline of the whole run, --wait included (overrides settings.timeout)")
	fl.IntVar(&f.concurrency, "concurrency", executor.DefaultConcurrency, "copies in flight at once (overrides settings.concurrency)")
	fl.IntVar(&f.retries, "retries", executor.DefaultRetries, "new attempts for a copy that failed for a transient reason (overrides settings.retries)")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop starting copies after the first failure")
	fl.BoolVar(&f.prune, "prune", false, "delete copies this plan claims whose source and region it no longer lists (copies other plans claim too only lose this plan's claim)")
	fl.StringVar(&f.from, "from", "", "apply a plan saved by diff --out, exactly: refused as stale (exit 1, nothing changed) if anything it rests on changed")
	fl.BoolVar(&f.prunePublic, "prune-public", false, "with --prune or retain: rules, also delete public copies (reset to private first)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "with --prune or retain: rules on a terminal, delete without asking first (off a terminal sync never asks)")
	fl.BoolVar(&f.yes, "auto-approve", false, "the same as --yes (Terraform's name for it)")
	return cmd
}

func newDiffCmd(c *cli) *cobra.Command {
	f := &syncFlags{dryRun: true}
	cmd := &cobra.Command{
		Use:   "diff --plan FILE",
		Short: "Show what sync would change, without changing anything",
		Long: `diff runs the same planning as sync and stops before the first mutating
call: it lists each target as in-sync, would-copy, would-update,
would-adopt, would-build, copying, waiting, skipped or failed (and, with
--prune or retain: rules, the copies that would-prune, would-release or
would-expire), then each region's AFI quota (held, limit, after the run,
headroom), and makes no change in AWS. A plan with accounts: is diffed in
every account with its own credentials, in one report grouped by account.

Exit codes: 0 nothing to change (or, without --detailed-exitcode, any
successful diff); 1 a target cannot be satisfied (skipped or failed), a
region would pass its AFI limit, or an AWS error; 2 with
--detailed-exitcode, changes are pending; 3 invalid plan or command line,
or an account whose credentials reach another account than the plan says
(nothing was changed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd, c, f)
		},
	}
	addPlanFlags(cmd, f)
	cmd.Flags().BoolVar(&f.prune, "prune", false, "also list this plan's copies that sync --prune would delete (would-prune)")
	cmd.Flags().StringVar(&f.out, "out", "", "save what sync would do to FILE (JSON), for sync --from FILE to apply after review")
	return cmd
}

func addPlanFlags(cmd *cobra.Command, f *syncFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.plan, "plan", "", "plan file (YAML); - reads standard input")
	fl.BoolVar(&f.refresh, "refresh", false, "read every shared copy's load permissions, trusting no afisync:sharing digest (catches grants made by hand)")
	fl.StringVarP(&f.output, "output", "o", string(report.FormatText), "report format: text, json or markdown")
	fl.StringVar(&f.reportFile, "report", "", "also write the report to this file (atomically), in the same format")
	fl.BoolVar(&f.detailedExit, "detailed-exitcode", false, "exit 2 when a dry run finds changes to make")
	fl.IntVar(&f.afiLimit, "afi-limit", 0, "AFIs the account may hold per region (overrides settings.quota and Service Quotas; without any, 100, AWS's default, warned about but not enforced)")
	addUnattendedFlags(cmd, &f.unattended)
}

func runSync(cmd *cobra.Command, c *cli, f *syncFlags) error {
	ctx := cmd.Context()
	format, err := report.ParseFormat(f.output)
	if err != nil {
		return withCode(exitInvalid, err)
	}
	fl := cmd.Flags()
	ov, err := overrides(fl, f)
	if err != nil {
		return withCode(exitInvalid, err)
	}
	un, err := newUnattended(c, f, cmd.Name(), format)
	if err != nil {
		return withCode(exitInvalid, err)
	}
	logger, err := newLogger(c)
	if err != nil {
		return withCode(exitInvalid, err)
	}
	un.logger = logger

	if err := checkSavedFlags(fl, f); err != nil {
		return withCode(exitInvalid, err)
	}

	// From here on, every run ends in a report, even one that cannot start.
	p, sv, err := loadPlanOrSaved(ctx, c, f)
	if err != nil {
		return un.startFailure(ctx, "", err)
	}
	if f.prunePublic && !f.prune && !p.HasRetention() {
		return withCode(exitInvalid, errors.New("--prune-public only makes sense with --prune or a plan with retain: rules"))
	}
	opts := executor.Resolve(p, ov, executor.Options{
		Wait:        f.wait,
		DryRun:      f.dryRun,
		FailFast:    f.failFast,
		Prune:       f.prune,
		PrunePublic: f.prunePublic,
		Refresh:     f.refresh,
		Logger:      logger,
		Clock:       c.clock,
	})
	save := applySaved(sv, &opts)
	if f.out != "" {
		save = saveTo(f.out, p, &opts)
	}

	// A saved plan is applied without a question: the reviewed file is the
	// approval.
	terminalPrune := sv == nil && (f.prune || p.HasRetention()) && !f.dryRun && !f.yes && style.IsTerminalInput(c.stdin) && style.IsTerminal(c.stderr)
	lanes, calls, closeClient, err := connectLanes(ctx, c, p, &opts)
	if err != nil {
		return un.startFailure(ctx, p.Name, withCode(connectExitCode(err), err))
	}
	defer closeClient()
	if terminalPrune {
		if err := confirmPrune(ctx, c, lanes, p, &opts); err != nil {
			return err
		}
	}
	if err := un.startProgress(&opts); err != nil {
		return withCode(exitInvalid, err)
	}
	rep, err := executor.RunAccounts(ctx, lanes, p, opts)
	un.stopProgress()
	if errors.Is(err, afi.ErrInvalidConfig) {
		// An account's credentials reach another account than the
		// plan says: nothing ran (exit 3).
		return un.deliver(ctx, rep, calls(), withCode(exitInvalid, err))
	}
	if err != nil {
		logger.Debug("run error", "err", err.Error(), "sdk", fmt.Sprintf("%+v", errors.Unwrap(err)))
	} else if serr := save(); serr != nil {
		rep.Error = serr.Error()
	}
	return un.deliver(ctx, rep, calls(), nil)
}

// overrides are the settings given on the command line, checked.
func overrides(fl *pflag.FlagSet, f *syncFlags) (executor.Overrides, error) {
	var ov executor.Overrides
	if fl.Changed("concurrency") {
		if f.concurrency < 1 {
			return ov, fmt.Errorf("--concurrency must be at least 1, not %d", f.concurrency)
		}
		ov.Concurrency = &f.concurrency
	}
	if fl.Changed("retries") {
		if f.retries < 0 {
			return ov, fmt.Errorf("--retries must be 0 or more, not %d", f.retries)
		}
		ov.Retries = &f.retries
	}
	if fl.Changed("timeout") {
		if f.timeout <= 0 {
			return ov, fmt.Errorf("--timeout must be positive, not %s", f.timeout)
		}
		ov.Timeout = &f.timeout
	}
	if fl.Changed("afi-limit") {
		if f.afiLimit < 1 || f.afiLimit > plan.MaxAFILimit {
			return ov, fmt.Errorf("--afi-limit must be 1 to %d, not %d", plan.MaxAFILimit, f.afiLimit)
		}
		ov.AFILimit = &f.afiLimit
	}
	return ov, nil
}

// newLogger builds the stderr logger from --log-level and --log-format.
func newLogger(c *cli) (*slog.Logger, error) { return newLoggerTo(c, c.stderr) }

// newLoggerTo builds a logger on w from --log-level and --log-format.
func newLoggerTo(c *cli, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.logLevel)
	}
	ho := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", c.logFormat)
}
