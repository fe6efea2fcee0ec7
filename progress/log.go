package progress

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/human"
	"github.com/afisync/afisync/internal/style"
)

// logReporter writes one log line per phase change and otherwise at most one
// per interval, timed by the snapshots' own clock so that tests need no
// sleeping.
type logReporter struct {
	o Options

	mu     sync.Mutex
	phase  string
	lastAt time.Time
	closed bool
}

func newLog(o Options) *logReporter { return &logReporter{o: o} }

// Update logs p when its phase differs from the last logged one or when
// the interval has passed since the last line.
func (l *logReporter) Update(p executor.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if p.Phase == l.phase && !l.lastAt.IsZero() && p.Now.Sub(l.lastAt) < l.o.LogInterval {
		return
	}
	l.phase, l.lastAt = p.Phase, p.Now
	l.o.Logger.Info("progress", Attrs(p)...)
}

// Attrs are the attributes of one progress log line: phase, elapsed time,
// deadline, totals and a per-region breakdown.
func Attrs(p executor.Progress) []any {
	t := Totals(p)
	attrs := []any{
		slog.String("phase", p.Phase),
		slog.String("elapsed", human.Duration(p.Now.Sub(p.Started))),
	}
	if d := Deadline(p, p.Now); d != "" {
		attrs = append(attrs, slog.String("deadline", d))
	}
	attrs = append(attrs,
		slog.Int("targets", t.Total()),
		slog.Int("pending", t.Pending),
		slog.Int("available", t.Available),
		slog.Int("failed", t.Failed),
		slog.Int("todo", t.Other),
	)
	var regions []string
	for _, r := range p.Regions {
		regions = append(regions, r.Region+": "+Counts(r, style.Palette{}))
	}
	if len(regions) > 0 {
		attrs = append(attrs, slog.String("regions", strings.Join(regions, "; ")))
	}
	return attrs
}

// Writer returns the live view's Out; log lines need no special care.
func (l *logReporter) Writer() io.Writer { return l.o.Out }

// Close stops logging.
func (l *logReporter) Close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
