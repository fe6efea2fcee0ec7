// Package progress shows where a long sync stands. On a terminal it draws a
// live view (github.com/vbauerster/mpb/v8) with one row per destination
// region — pending, available and failed copies, elapsed time and the
// --wait deadline; anywhere else (cron, CI) it writes throttled one-line
// progress logs with no escape codes. Both are driven by the snapshots that
// executor.Options.Progress delivers.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/human"
	"github.com/afisync/afisync/internal/style"
)

// Defaults of the progress output.
const (
	// DefaultLogInterval is the least time between two progress log lines
	// when stderr is not a terminal; a change of phase is logged at once.
	DefaultLogInterval = 30 * time.Second
	// DefaultRefresh is how often the live view redraws.
	DefaultRefresh = 200 * time.Millisecond
	// barWidth is the width of the live view's per-region bar.
	barWidth = 24
)

// Options choose and shape the progress output.
type Options struct {
	// Out is where the live view draws (stderr).
	Out io.Writer
	// Live selects the live view; Out must then be a terminal. Without it,
	// progress goes to Logger as throttled lines.
	Live bool
	// Color colours status words in the live view.
	Color bool
	// Logger receives the progress lines when Live is unset; nil: discard.
	Logger *slog.Logger
	// LogInterval is the least time between two log lines
	// (0: DefaultLogInterval).
	LogInterval time.Duration
	// Refresh is the live view's redraw interval (0: DefaultRefresh).
	Refresh time.Duration
	// Width is the live view's width when the terminal tells none, or Out
	// is not a real terminal (tests); 0: DefaultWidth.
	Width int
	// Now tells the time for the live view's elapsed clock (nil: time.Now).
	Now func() time.Time
}

// Reporter receives snapshots and shows them.
type Reporter interface {
	// Update shows snapshot p. It is safe to call from any goroutine and
	// returns quickly, as executor.Options.Progress requires.
	Update(p executor.Progress)
	// Writer returns where other stderr output (logs) should go while the
	// reporter runs, so that it does not tear the live view.
	Writer() io.Writer
	// Close finishes the output: the live view draws its last frame and
	// stops. Close is idempotent.
	Close()
}

// New returns the Reporter o asks for.
func New(o Options) Reporter {
	if o.LogInterval <= 0 {
		o.LogInterval = DefaultLogInterval
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Live {
		return newLive(o)
	}
	return newLog(o)
}

// Off is a Reporter that shows nothing (--no-progress).
type Off struct{ Out io.Writer }

// Update does nothing.
func (Off) Update(executor.Progress) {}

// Writer returns Out.
func (o Off) Writer() io.Writer { return o.Out }

// Close does nothing.
func (Off) Close() {}

// Totals adds up the regions of a snapshot.
func Totals(p executor.Progress) executor.RegionProgress {
	var t executor.RegionProgress
	for _, r := range p.Regions {
		t.Pending += r.Pending
		t.Available += r.Available
		t.Failed += r.Failed
		t.Other += r.Other
	}
	return t
}

// Counts renders a region's (or a total's) counts, leaving out zeros except
// that an empty region says "nothing yet": "2 pending, 1 available, 1 failed,
// 3 to do".
func Counts(r executor.RegionProgress, pal style.Palette) string {
	var parts []string
	add := func(n int, word string, color func(string) string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, color(word)))
		}
	}
	add(r.Pending, "pending", pal.Yellow)
	add(r.Available, "available", pal.Green)
	add(r.Failed, "failed", pal.Red)
	add(r.Other, "to do", func(s string) string { return s })
	if len(parts) == 0 {
		return "nothing yet"
	}
	return strings.Join(parts, ", ")
}

// Deadline describes the --wait deadline as seen at now: "03:00:00Z (in
// 1h58m)", or "" without one.
func Deadline(p executor.Progress, now time.Time) string {
	if p.Deadline.IsZero() {
		return ""
	}
	left := p.Deadline.Sub(now)
	if left < 0 {
		return human.Clock(p.Deadline) + " (passed)"
	}
	return fmt.Sprintf("%s (in %s)", human.Clock(p.Deadline), human.Duration(left))
}
