package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/ci"
	"github.com/afisync/afisync/internal/style"
	"github.com/afisync/afisync/notify"
	"github.com/afisync/afisync/outcome"
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
	fl.StringVar(&u.notifyOn, "notify-on", string(notify.DefaultOn), "when to notify: failure, change (copied, updated, adopted, pruned or failed) or always")
	fl.DurationVar(&u.notifyTimeout, "notify-timeout", notify.DefaultTimeout, "time limit for all notifications of a run, retries included")
	fl.BoolVar(&u.notifyRequired, "notify-required", false, "exit 1 when a notification could not be delivered")
	fl.StringVar(&u.metricsFile, "metrics-file", "", "write Prometheus metrics to this file (atomically; must end in .prom, for node_exporter's textfile collector)")
}

// notifyEnv names the environment variable that holds webhook URLs
// (separated by white space) when no --notify is given: it keeps the
// secret out of the command line, which other users can see in ps.
const notifyEnv = "AFISYNC_NOTIFY"

// unattended carries one run's progress view and the outputs of its
// outcome (outcome.Config) from the flags to the end of the run.
type unattended struct {
	c       *cli
	u       *unattendedFlags
	out     outcome.Config
	started time.Time
	view    progress.Reporter
	logger  *slog.Logger
}

// newUnattended checks the flags and fills the outcome's Config from them
// (notifier settings no flag sets come from cli.notify); its error is a
// command-line error.
func newUnattended(c *cli, f *syncFlags, command string, format report.Format) (*unattended, error) {
	u := &f.unattended
	notifyFormat, err := notify.ParseFormat(u.notifyFormat)
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
	n := c.notify
	n.URLs, n.Format, n.On, n.Timeout = u.notify, notifyFormat, on, u.notifyTimeout
	out := outcome.Config{
		Command:        command,
		Format:         format,
		ReportFile:     f.reportFile,
		Detailed:       f.detailedExit,
		DryRun:         f.dryRun,
		Stdout:         c.stdout,
		Stderr:         c.stderr,
		Color:          style.ColorEnabled(c.stdout, c.noColor, os.Getenv),
		GitHub:         ci.FromEnv(os.Getenv),
		MetricsFile:    u.metricsFile,
		Notify:         n,
		NotifyRequired: u.notifyRequired,
	}
	if err := out.Check(); err != nil {
		return nil, err
	}
	return &unattended{c: c, u: u, out: out, started: time.Now(), view: progress.Off{Out: c.stderr}}, nil
}

// startProgress starts the progress output (unless --no-progress) and
// gives the run a logger that writes above the live view instead of
// through it.
func (un *unattended) startProgress(opts *executor.Options) error {
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

// deliver hands the report (and the run's AWS calls, for the metrics file)
// to outcome.Deliver and turns its exit status into the command's result.
// runErr, when set, is why the run could not start (rep is then
// outcome.StartFailure's): it carries its own exit code, and the error on
// stderr says all of it.
func (un *unattended) deliver(ctx context.Context, rep *report.Report, calls []afi.CallStat, runErr error) error {
	cfg := un.out
	cfg.Logger = un.logger
	code, err := outcome.Deliver(ctx, cfg, outcome.Run{Report: rep, Calls: calls, StartFailed: runErr != nil})
	var ee *exitError
	switch {
	case errors.As(runErr, &ee):
		return quiet(runErr)
	case runErr != nil:
		return withCode(exitFailed, runErr)
	case err != nil:
		return withCode(code, err)
	case code != exitOK:
		return withCode(code, nil)
	}
	return nil
}

// startFailure delivers the report of a run that could not start.
func (un *unattended) startFailure(ctx context.Context, plan string, err error) error {
	return un.deliver(ctx, outcome.StartFailure(plan, un.started, err), nil, err)
}
