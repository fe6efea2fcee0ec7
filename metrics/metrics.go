// Package metrics writes a run's outcome as Prometheus text exposition for
// node_exporter's textfile collector: targets by status, copies started,
// API calls, throttles and errors by region and action, the run's duration
// and whether it succeeded, and the time of the last successful run. The
// file is replaced atomically (a temporary file in the same directory,
// renamed over it), so the collector never reads half a file.
//
// Every metric is a gauge named afisync_… and carries the plan's name as
// the plan label. Alert on time() - afisync_last_success_timestamp_seconds.
package metrics

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/internal/atomicfile"
	"github.com/afisync/afisync/report"
)

// Names and conventions of the metrics file.
const (
	// Suffix is the ending the textfile collector reads.
	Suffix = ".prom"
	// LastSuccess is the metric kept across failed runs.
	LastSuccess = "afisync_last_success_timestamp_seconds"
	// copyAction is the API action whose successful calls start copies.
	copyAction = "CopyFpgaImage"
)

// Run is what the metrics describe.
type Run struct {
	Plan string
	// Report is the run's report; nil when the run produced none (Err).
	Report *report.Report
	// Calls are the API calls the run made, from (*afi.Client).Calls.
	Calls []afi.CallStat
	// Started and Finished time the run.
	Started, Finished time.Time
	// Err is why the run produced no report.
	Err error
}

// Succeeded reports whether the run counts as a success: it produced a
// report whose exit status is 0 without --detailed-exitcode (every target
// in its desired state; for a dry run, nothing unsatisfiable).
func (r Run) Succeeded() bool {
	return r.Err == nil && r.Report != nil && !r.Report.Failed()
}

// CheckPath checks a --metrics-file value.
func CheckPath(path string) error {
	if !strings.HasSuffix(path, Suffix) {
		return fmt.Errorf("--metrics-file %q must end in %s: the textfile collector reads only *%s files", path, Suffix, Suffix)
	}
	return nil
}

// Write writes the metrics of run to path atomically. When the run did not
// succeed, the last-success time is carried over from the file already at
// path (if any, and if it parses); logger hears about a previous file that
// does not.
func Write(path string, run Run, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var last time.Time
	if run.Succeeded() {
		last = run.Finished
	} else {
		t, err := ReadLastSuccess(path, run.Plan)
		if err != nil {
			logger.Warn("metrics: cannot read the last success time from the previous file; leaving it out", "file", path, "err", err)
		}
		last = t
	}
	reg, err := Registry(run, last)
	if err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// ReadLastSuccess returns the afisync_last_success_timestamp_seconds of
// plan in the metrics file at path: the zero time when the file does not
// exist or holds none, an error when it cannot be read or parsed.
func ReadLastSuccess(path, plan string) (time.Time, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	return lastSuccess(f, plan)
}

// Parse reads a metrics file in the text exposition format with
// Prometheus' own parser.
func Parse(r io.Reader) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(r)
}

func lastSuccess(r io.Reader, plan string) (time.Time, error) {
	families, err := Parse(r)
	if err != nil {
		return time.Time{}, err
	}
	mf := families[LastSuccess]
	if mf == nil {
		return time.Time{}, nil
	}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "plan" && lp.GetValue() == plan && m.GetGauge() != nil {
				v := m.GetGauge().GetValue()
				if v <= 0 {
					return time.Time{}, nil
				}
				return time.Unix(0, int64(v*1e9)).UTC(), nil
			}
		}
	}
	return time.Time{}, nil
}

// Registry builds the metrics of run, with last as the last-success time
// (zero: left out).
func Registry(run Run, last time.Time) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	constLabels := prometheus.Labels{"plan": run.Plan}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: constLabels})
		reg.MustRegister(g)
		return g
	}
	vec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: constLabels}, labels)
		reg.MustRegister(g)
		return g
	}

	success := 0.0
	if run.Succeeded() {
		success = 1
	}
	gauge("afisync_run_success", "1 if the last run left every target in its desired state, else 0.").Set(success)
	gauge("afisync_run_timestamp_seconds", "When the last run finished, in seconds since the epoch.").Set(seconds(run.Finished))
	gauge("afisync_run_duration_seconds", "How long the last run took.").Set(run.Finished.Sub(run.Started).Seconds())
	if !last.IsZero() {
		gauge(LastSuccess, "When the last successful run finished, in seconds since the epoch.").Set(seconds(last))
	}

	// A plan with accounts: counts its targets per account as well
	// (account: the 12-digit ID, account_name: its name in the plan); the
	// API call series are summed over the accounts.
	perAccount := run.Report != nil && len(run.Report.Accounts) > 0
	var targets *prometheus.GaugeVec
	if perAccount {
		targets = vec("afisync_targets", "Targets (source AFI x destination region) of the last run by account and status.", "account", "account_name", "status")
	} else {
		targets = vec("afisync_targets", "Targets (source AFI x destination region) of the last run by status.", "status")
	}
	started := vec("afisync_copies_started", "Copies the last run started (successful CopyFpgaImage calls) by destination region.", "region")
	if run.Report != nil {
		gauge("afisync_run_interrupted", "1 if the last run was interrupted.").Set(boolean(run.Report.Interrupted))
		for _, s := range report.Statuses {
			if !perAccount {
				targets.WithLabelValues(string(s)).Set(float64(run.Report.Summary[s]))
				continue
			}
			for _, a := range run.Report.Accounts {
				targets.WithLabelValues(a.ID, a.Name, string(s)).Set(float64(a.Summary[s]))
			}
		}
		for _, t := range run.Report.Targets {
			started.WithLabelValues(t.Region) // every destination, 0 unless a copy started
		}
	}
	// The AFI quota is per account and region: a plan with accounts:
	// labels its quota series with the account as well.
	quotaLabels := []string{"region"}
	if perAccount {
		quotaLabels = []string{"account", "account_name", "region"}
	}
	headroom := vec("afisync_afi_headroom", "AFIs the account may still create in the region after the last run's plan (limit - held - copies + deletions; negative: over), by region.", quotaLabels...)
	limit := vec("afisync_afi_limit", "The AFI limit the last run used, by region and where it came from (flag, plan, service-quotas, default).", append(slices.Clip(quotaLabels), "source")...)
	held := vec("afisync_afis_held", "AFIs the account held in the region when the last run read its inventory (any state but deleted).", quotaLabels...)
	if run.Report != nil {
		for _, q := range run.Report.Quota {
			lv := []string{q.Region}
			if perAccount {
				lv = []string{q.Account, q.AccountName, q.Region}
			}
			headroom.WithLabelValues(lv...).Set(float64(q.Headroom))
			limit.WithLabelValues(append(slices.Clip(lv), q.Source)...).Set(float64(q.Limit))
			held.WithLabelValues(lv...).Set(float64(q.Held))
		}
	}
	calls := vec("afisync_api_calls", "API call attempts of the last run (retries included) by region and action.", "region", "action")
	throttled := vec("afisync_api_throttled", "API call attempts of the last run answered with throttling, by region and action.", "region", "action")
	errs := vec("afisync_api_errors", "API call attempts of the last run that failed otherwise, by region and action.", "region", "action")
	for _, c := range sortedCalls(run.Calls) {
		calls.WithLabelValues(c.Region, c.Action).Set(float64(c.Attempts))
		throttled.WithLabelValues(c.Region, c.Action).Set(float64(c.Throttled))
		errs.WithLabelValues(c.Region, c.Action).Set(float64(c.Errors))
		if c.Action == copyAction {
			started.WithLabelValues(c.Region).Add(float64(c.Attempts - c.Throttled - c.Errors))
		}
	}
	return reg, nil
}

func sortedCalls(cs []afi.CallStat) []afi.CallStat {
	out := append([]afi.CallStat(nil), cs...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Action < out[j].Action
	})
	return out
}

func seconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func boolean(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
