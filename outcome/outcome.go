// Package outcome is what happens after an afisync sync or diff, however it
// ended: the report on stdout (its status words coloured on a terminal), the
// --report file, the GitHub step summary and annotations, the metrics file,
// the webhooks, and the exit status. The CLI fills a Config from its flags
// and hands Deliver the run's report.
package outcome

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/internal/ci"
	"github.com/afisync/afisync/internal/style"
	"github.com/afisync/afisync/metrics"
	"github.com/afisync/afisync/notify"
	"github.com/afisync/afisync/report"
)

// exitFailed is the exit status of a run whose report, metrics file or
// required notification could not be written (report.ExitCode's 1).
const exitFailed = 1

// Config says where a run's outcome goes.
type Config struct {
	// Command is the afisync command ("sync" or "diff"), named in
	// notifications and CI summaries.
	Command string
	// Format is the report's format, on Stdout and in ReportFile.
	Format report.Format
	// ReportFile, when set, also receives the report (atomically).
	ReportFile string
	// Detailed makes a dry run with pending changes exit 2
	// (--detailed-exitcode).
	Detailed bool
	// DryRun marks the report as a dry run's.
	DryRun bool
	// Stdout receives the report; Stderr the run's error and the CI
	// annotations.
	Stdout, Stderr io.Writer
	// Color colours the status words of a text report on Stdout.
	Color bool
	// GitHub is the GitHub Actions environment (ci.FromEnv).
	GitHub ci.GitHub
	// MetricsFile, when set, receives the run's Prometheus metrics.
	MetricsFile string
	// Notify names the webhooks, the body format, which runs notify, the
	// time limit and the retries (zero values take notify's defaults). Its
	// Logger is replaced by Logger.
	Notify notify.Config
	// NotifyRequired makes a notification that was not delivered exit 1.
	NotifyRequired bool
	// Logger receives the notifier's lines and warnings about outputs that
	// could not be written; nil discards them.
	Logger *slog.Logger
}

// Check reports a Config that cannot work, in the words of the flags that
// set it: a webhook URL that is not http(s) (named only by notify.Redact), a
// required notification without a URL, a metrics file whose name
// node_exporter would not read.
func (c *Config) Check() error {
	for _, raw := range c.Notify.URLs {
		if err := notify.CheckURL(raw); err != nil {
			return err
		}
	}
	if c.NotifyRequired && len(c.Notify.URLs) == 0 {
		return errors.New("--notify-required needs at least one --notify URL")
	}
	if c.MetricsFile != "" {
		if err := metrics.CheckPath(c.MetricsFile); err != nil {
			return err
		}
	}
	return nil
}

// Run is what a sync or diff leaves for Deliver.
type Run struct {
	Report *report.Report
	// Calls are the run's AWS calls, for the metrics file; nil when it made
	// none.
	Calls []afi.CallStat
	// StartFailed is set when the run could not start (Report comes from
	// StartFailure) and the caller prints why on stderr: a text report,
	// which would only repeat it, is left out of Stdout.
	StartFailed bool
}

// StartFailure is the report of a run that could not start: no targets,
// and the error that says why.
func StartFailure(plan string, started time.Time, err error) *report.Report {
	rep := &report.Report{Plan: plan, StartedAt: started, FinishedAt: time.Now(), Error: err.Error()}
	rep.Finish()
	return rep
}

// Deliver tells everyone cfg names how the run went, in this order: the
// report on Stdout and in ReportFile, the run's error on Stderr, the GitHub
// step summary and annotations, the metrics file, the webhooks. Each is
// attempted even when an earlier one failed.
//
// It returns the exit status: the report's (report.ExitCode: 0, 1, or 2
// for a dry run with pending changes and cfg.Detailed), or 1 when the
// report, the metrics file or a required notification could not be
// written; and err, why the report could not be printed or written.
func Deliver(ctx context.Context, cfg Config, run Run) (code int, err error) {
	rep := run.Report
	rep.DryRun = rep.DryRun || cfg.DryRun
	code = rep.ExitCode(cfg.Detailed)
	if !run.StartFailed || cfg.Format != report.FormatText {
		err = writeReport(cfg, rep)
	}
	if cfg.ReportFile != "" {
		if werr := rep.WriteFile(cfg.ReportFile, cfg.Format); werr != nil && err == nil {
			err = werr
		}
	}
	if rep.Error != "" && !run.StartFailed {
		// One line per account of a run over several accounts.
		for _, line := range strings.Split(rep.Error, "\n") {
			fmt.Fprintf(cfg.Stderr, "afisync: %s\n", line)
		}
	}
	if err != nil {
		code = exitFailed
	}
	if !tell(ctx, cfg, run) {
		code = exitFailed
	}
	return code, err
}

// writeReport prints the report on Stdout, its status words coloured when
// cfg.Color is set and the format is text.
func writeReport(cfg Config, rep *report.Report) error {
	if cfg.Format != report.FormatText || !cfg.Color {
		return rep.Write(cfg.Stdout, cfg.Format)
	}
	return rep.WriteText(cfg.Stdout, style.Palette{On: true}.Status)
}

// tell writes the GitHub step summary and annotations, the metrics file and
// the webhooks, once the report is out. It returns false when the metrics
// file could not be written or a required notification was not delivered.
func tell(ctx context.Context, cfg Config, run Run) (ok bool) {
	rep, logger := run.Report, cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	summary := func() error { return cfg.GitHub.WriteSummary(rep) }
	if rep.Error != "" && len(rep.Targets) == 0 {
		summary = func() error { return cfg.GitHub.WriteErrorSummary(cfg.Command, rep.Plan, errors.New(rep.Error)) }
	}
	if err := summary(); err != nil {
		logger.Warn("cannot write the GitHub step summary", "err", err)
	}
	if rep.Error != "" {
		_ = cfg.GitHub.ErrorAnnotation(cfg.Stderr, cfg.Command, errors.New(rep.Error))
	}
	_ = cfg.GitHub.Annotations(cfg.Stderr, rep)
	ok = true
	if cfg.MetricsFile != "" {
		m := metrics.Run{Plan: rep.Plan, Report: rep, Started: rep.StartedAt, Finished: rep.FinishedAt, Calls: run.Calls}
		if err := metrics.Write(cfg.MetricsFile, m, logger); err != nil {
			logger.Error("cannot write the metrics file", "err", err)
			ok = false
		}
	}
	n := cfg.Notify
	n.Logger = logger
	for _, res := range notify.Send(ctx, n, notify.Event{Command: cfg.Command, Plan: rep.Plan, Report: rep}) {
		if res.Err != nil && cfg.NotifyRequired {
			ok = false
		}
	}
	return ok
}
