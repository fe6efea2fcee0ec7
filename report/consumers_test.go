package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/afisync/afisync/internal/ci"
	"github.com/afisync/afisync/internal/style"
	"github.com/afisync/afisync/metrics"
	"github.com/afisync/afisync/notify"
	"github.com/afisync/afisync/report"
)

// TestEveryStatusEveryConsumer runs a report with a single target of each
// status through every consumer of the status table — the exit code, the
// report's predicates, notify, metrics, style and the GitHub annotations —
// and checks that each follows the table. (The progress counts are checked
// in package executor, TestProgressCountsEveryStatus.)
func TestEveryStatusEveryConsumer(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	for _, s := range report.Statuses {
		in := s.Info()
		rep := &report.Report{Plan: "p", StartedAt: t0, FinishedAt: t0.Add(time.Minute), DryRun: in.Pending,
			Targets: []report.Target{{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", Region: "us-west-2", Status: s}}}
		rep.Finish()

		// The exit code and the report's predicates.
		wantExit, wantDetailed := 0, 0
		switch {
		case in.Failure:
			wantExit, wantDetailed = 1, 1
		case in.Pending:
			wantDetailed = 2
		}
		if got := rep.ExitCode(false); got != wantExit {
			t.Errorf("%s: ExitCode(false) = %d, want %d", s, got, wantExit)
		}
		if got := rep.ExitCode(true); got != wantDetailed {
			t.Errorf("%s: ExitCode(true) = %d, want %d", s, got, wantDetailed)
		}
		if rep.Failed() != in.Failure || rep.Changed() != in.Change || rep.Pending() != in.Pending {
			t.Errorf("%s: Failed, Changed, Pending = %v, %v, %v; the table says %+v", s, rep.Failed(), rep.Changed(), rep.Pending(), in)
		}

		// notify: when it posts, and the Slack message's icon and list.
		ev := notify.Event{Command: "sync", Report: rep}
		for on, want := range map[notify.On]bool{notify.OnFailure: in.Failure, notify.OnChange: in.Failure || in.Change, notify.OnAlways: true} {
			if got := notify.Wanted(on, ev); got != want {
				t.Errorf("%s: notify.Wanted(%s) = %v, want %v", s, on, got, want)
			}
		}
		icon := ":white_check_mark:"
		switch {
		case in.Failure:
			icon = ":x:"
		case in.Pending:
			icon = ":large_yellow_circle:"
		}
		text := notify.SlackText(ev)
		if !strings.HasPrefix(text, icon+" ") {
			t.Errorf("%s: Slack text does not start with %s: %q", s, icon, text)
		}
		if got := strings.Contains(text, "Not satisfied"); got != in.Failure {
			t.Errorf("%s: Slack text lists the target as not satisfied: %v, want %v", s, got, in.Failure)
		}

		// metrics: success, and the target counted under its status.
		run := metrics.Run{Plan: "p", Report: rep, Started: rep.StartedAt, Finished: rep.FinishedAt}
		if run.Succeeded() == in.Failure {
			t.Errorf("%s: metrics.Run.Succeeded() = %v", s, run.Succeeded())
		}
		reg, err := metrics.Registry(run, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if got := targets(mfs, s); got != 1 {
			t.Errorf("%s: afisync_targets{status=%q} = %v, want 1", s, s, got)
		}

		// style: the word in its own colour; the text report paints it.
		painted := style.Palette{On: true}.Status(s)
		if painted == string(s) || !strings.Contains(painted, string(s)) {
			t.Errorf("%s: painted as %q", s, painted)
		}
		var b bytes.Buffer
		if err := rep.WriteText(&b, style.Palette{On: true}.Status); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "  "+painted+"  ") {
			t.Errorf("%s: text report lacks the painted status %q:\n%s", s, painted, b.String())
		}

		// ci: an ::error annotation for exactly the failures.
		b.Reset()
		if err := (ci.GitHub{Annotate: true}).Annotations(&b, rep); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "::error"); got != in.Failure {
			t.Errorf("%s: GitHub error annotation: %v, want %v:\n%s", s, got, in.Failure, b.String())
		}
	}
}

// targets returns afisync_targets{status=s}.
func targets(mfs []*dto.MetricFamily, s report.Status) float64 {
	for _, mf := range mfs {
		if mf.GetName() != "afisync_targets" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "status" && lp.GetValue() == string(s) {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
