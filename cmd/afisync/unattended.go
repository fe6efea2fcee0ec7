package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/ci"
	"github.com/afisync/afisync/internal/style"
	"github.com/afisync/afisync/metrics"
	"github.com/afisync/afisync/notify"
	"github.com/afisync/afisync/progress"
	"github.com/afisync/afisync/report"
)

// unattendedFlags are the flags for runs nobody watches (cron, pipelines):
// progress, notifications and metrics. sync and diff share them.
type unattendedFlags struct {
	noProgress     bool
	notify         []string
	notifyFormat   string
	notifyOn       string
	notifyTimeout  time.Duration
	notifyRequired bool
	metricsFile    string
}

func addUnattendedFlags(cmd *cobra.Command, u *unattendedFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&u.noProgress, "no-progress", false, fmt.Sprintf(
		"no progress output on stderr (default: a live view on a terminal, else a log line per phase and at most one per %s)", progress.DefaultLogInterval))
	fl.StringArrayVar(&u.notify, "notify", nil, "POST the outcome to this webhook URL (repeatable; default: the URLs in $"+notifyEnv+"); the URL is never printed")
	fl.StringVar(&u.notifyFormat, "notify-format", string(notify.DefaultFormat), "notification body: json (the JSON report) or slack (summary and failed targets)")
	fl.StringVar(&u.notifyOn, "notify-on", string(notify.DefaultOn), "when to notify: failure, change (copied, updated, pruned or failed) or always")
	fl.DurationVar(&u.notifyTimeout, "notify-timeout", notify.DefaultTimeout, "time limit for all notifications of a run, retries included")
	fl.BoolVar(&u.notifyRequired, "notify-required", false, "exit 1 when a notification could not be delivered")
	fl.StringVar(&u.metricsFile, "metrics-file", "", "write Prometheus metrics to this file (atomically; must end in .prom, for node_exporter's textfile collector)")
}

// notifyEnv names the environment variable that holds webhook URLs
// (separated by white space) when no --notify is given: it keeps the
// secret out of the command line, which other users can see in ps.
const notifyEnv = "AFISYNC_NOTIFY"

// notifyBase holds the notifier settings that no flag sets (retries and
// their backoff); tests shorten its waits.
var notifyBase = notify.Config{}

// unattended carries one run's progress view, notifier, metrics and CI
// outputs from the flags to the end of the run.
type unattended struct {
	c       *cli
	u       *unattendedFlags
	command string
	plan    string
	notify  notify.Config
	github  ci.GitHub
	started time.Time
	view    progress.Reporter
	logger  *slog.Logger
}

// newUnattended checks the flags; its error is a command-line error.
func newUnattended(c *cli, u *unattendedFlags, command string) (*unattended, error) {
	format, err := notify.ParseFormat(u.notifyFormat)
	if err != nil {
		return nil, err
	}
	on, err := notify.ParseOn(u.notifyOn)
	if err != nil {
		return nil, err
	}
	if u.notifyTimeout <= 0 {
		return nil, fmt.Errorf("--notify-timeout must be positive, not %s", u.notifyTimeout)
	}
	if len(u.notify) == 0 {
		u.notify = strings.Fields(os.Getenv(notifyEnv))
	}
	for _, raw := range u.notify {
		if err := notify.CheckURL(raw); err != nil {
			return nil, err
		}
	}
	if u.notifyRequired && len(u.notify) == 0 {
		return nil, fmt.Errorf("--notify-required needs at least one --notify URL")
	}
	if u.metricsFile != "" {
		if err := metrics.CheckPath(u.metricsFile); err != nil {
			return nil, err
		}
	}
	return &unattended{
		c: c, u: u, command: command,
		notify:  withNotifyFlags(notifyBase, u.notify, format, on, u.notifyTimeout),
		github:  ci.FromEnv(os.Getenv),
		started: time.Now(),
		view:    progress.Off{Out: c.stderr},
	}, nil
}

func withNotifyFlags(c notify.Config, urls []string, f notify.Format, on notify.On, timeout time.Duration) notify.Config {
	c.URLs, c.Format, c.On, c.Timeout = urls, f, on, timeout
	return c
}

// startProgress starts the progress output (unless --no-progress) and
// gives the run a logger that writes above the live view instead of
// through it.
func (un *unattended) startProgress(plan string, opts *executor.Options) error {
	un.plan = plan
	if !un.u.noProgress {
		base, err := newLoggerTo(un.c, un.c.stderr)
		if err != nil {
			return err
		}
		un.view = progress.New(progress.Options{
			Out:    un.c.stderr,
			Live:   style.IsTerminal(un.c.stderr),
			Color:  style.ColorEnabled(un.c.stderr, un.c.noColor, os.Getenv),
			Logger: base,
		})
		opts.Progress = un.view.Update
	}
	logger, err := newLoggerTo(un.c, un.view.Writer())
	if err != nil {
		return err
	}
	un.logger = logger
	opts.Logger = logger
	return nil
}

// stopProgress draws the view's last frame; the report comes next.
func (un *unattended) stopProgress() { un.view.Close() }

// writeReport prints the report on stdout, its status words coloured when
// stdout is a terminal that takes colour and the format is text.
func (un *unattended) writeReport(rep *report.Report, format report.Format) error {
	if format != report.FormatText || !style.ColorEnabled(un.c.stdout, un.c.noColor, os.Getenv) {
		return rep.Write(un.c.stdout, format)
	}
	var b bytes.Buffer
	if err := rep.Write(&b, format); err != nil {
		return err
	}
	_, err := io.WriteString(un.c.stdout, style.ColorReport(b.String(), rep, style.Palette{On: true}))
	return err
}

// outcome is how a run's report leaves the process: its format on stdout,
// the --report file, and how the exit code is read from it.
type outcome struct {
	format     report.Format
	reportFile string
	detailed   bool
	dryRun     bool
}

// failedReport is the report of a run that could not start: no targets,
// and an error that says why.
func (un *unattended) failedReport(plan string, err error) *report.Report {
	now := time.Now()
	rep := &report.Report{Plan: plan, StartedAt: un.started, FinishedAt: now, Error: err.Error()}
	rep.Finish()
	return rep
}

// deliver prints the report on stdout, writes the --report file, the
// GitHub step summary and annotations, the metrics file and the webhooks,
// and returns the command's result. runErr, when set, is why the run could
// not start (it carries its exit code); rep then has no targets, and the
// text report is left out, since the error on stderr says all of it.
func (un *unattended) deliver(ctx context.Context, o outcome, rep *report.Report, client *afi.Client, runErr error) error {
	rep.DryRun = rep.DryRun || o.dryRun
	code := rep.ExitCode(o.detailed)
	var printErr error
	if runErr == nil || o.format != report.FormatText {
		printErr = un.writeReport(rep, o.format)
	}
	if o.reportFile != "" {
		if err := rep.WriteFile(o.reportFile, o.format); err != nil && printErr == nil {
			printErr = err
		}
	}
	if rep.Error != "" && runErr == nil {
		fmt.Fprintf(un.c.stderr, "afisync: %s\n", rep.Error)
	}
	if printErr != nil {
		code = exitFailed
	}
	code = un.finished(ctx, rep, client, code)
	var ee *exitError
	switch {
	case errors.As(runErr, &ee):
		return quiet(runErr)
	case runErr != nil:
		return withCode(exitFailed, runErr)
	case printErr != nil:
		return withCode(code, printErr)
	case code != exitOK:
		return withCode(code, nil)
	}
	return nil
}

// finished tells CI, the metrics file and the webhooks how the run went,
// after the report is printed, and returns the exit status: code, or 1
// when the metrics file could not be written or a --notify-required
// notification was not delivered.
func (un *unattended) finished(ctx context.Context, rep *report.Report, client *afi.Client, code int) int {
	summary := func() error { return un.github.WriteSummary(rep) }
	if rep.Error != "" && len(rep.Targets) == 0 {
		summary = func() error { return un.github.WriteErrorSummary(un.command, rep.Plan, errors.New(rep.Error)) }
	}
	if err := summary(); err != nil {
		un.logger.Warn("cannot write the GitHub step summary", "err", err)
	}
	if rep.Error != "" {
		_ = un.github.ErrorAnnotation(un.c.stderr, un.command, errors.New(rep.Error))
	}
	_ = un.github.Annotations(un.c.stderr, rep)
	if un.u.metricsFile != "" {
		run := metrics.Run{Plan: rep.Plan, Report: rep, Started: rep.StartedAt, Finished: rep.FinishedAt, Calls: calls(client)}
		if err := metrics.Write(un.u.metricsFile, run, un.logger); err != nil {
			un.logger.Error("cannot write the metrics file", "err", err)
			code = exitFailed
		}
	}
	n := un.notify
	n.Logger = un.logger
	for _, res := range notify.Send(ctx, n, notify.Event{Command: un.command, Plan: rep.Plan, Report: rep}) {
		if res.Err != nil && un.u.notifyRequired {
			code = exitFailed
		}
	}
	return code
}

func calls(c *afi.Client) []afi.CallStat {
	if c == nil {
		return nil
	}
	return c.Calls()
}
