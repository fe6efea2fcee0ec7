package main

import (
	"context"
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
	fl.StringVar(&u.notifyOn, "notify-on", string(notify.DefaultOn), "when to notify: failure, change (copied, updated, adopted, pruned or failed) or always")
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
	return rep.WriteText(un.c.stdout, style.Palette{On: true}.Status)
}

// failed tells CI, the metrics file and the webhooks about a run of plan
// that produced no report. The exit status is already 1.
func (un *unattended) failed(ctx context.Context, plan string, runErr error, client *afi.Client) {
	un.stopProgress()
	un.plan = plan
	if un.logger == nil { // failed before progress started
		un.logger, _ = newLoggerTo(un.c, un.c.stderr)
	}
	if err := un.github.WriteErrorSummary(un.command, un.plan, runErr); err != nil {
		un.logger.Warn("cannot write the GitHub step summary", "err", err)
	}
	_ = un.github.ErrorAnnotation(un.c.stderr, un.command, runErr)
	now := time.Now()
	if un.u.metricsFile != "" {
		run := metrics.Run{Plan: un.plan, Started: un.started, Finished: now, Err: runErr, Calls: calls(client)}
		if err := metrics.Write(un.u.metricsFile, run, un.logger); err != nil {
			un.logger.Error("cannot write the metrics file", "err", err)
		}
	}
	n := un.notify
	n.Logger = un.logger
	notify.Send(ctx, n, notify.Event{Command: un.command, Plan: un.plan, Err: runErr, Started: un.started, Finished: now})
}

// finished tells CI, the metrics file and the webhooks how the run went,
// after the report is printed, and returns the exit status: code, or 1
// when the metrics file could not be written or a --notify-required
// notification was not delivered.
func (un *unattended) finished(ctx context.Context, rep *report.Report, client *afi.Client, code int) int {
	if err := un.github.WriteSummary(rep); err != nil {
		un.logger.Warn("cannot write the GitHub step summary", "err", err)
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
