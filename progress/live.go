package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/human"
	"github.com/afisync/afisync/internal/style"
)

// liveReporter draws a header row (phase, elapsed, deadline, totals) and one
// bar per destination region; a region's bar fills as its copies settle
// (become available or fail).
type liveReporter struct {
	o   Options
	pal style.Palette
	p   *mpb.Progress

	// mu guards the latest snapshot, which decorators read while drawing.
	mu   sync.Mutex
	snap executor.Progress
	have bool
	// barsMu guards the bars; it is never held while a decorator runs.
	barsMu  sync.Mutex
	header  *mpb.Bar
	bars    map[string]*mpb.Bar
	nameW   int
	settled bool

	closeOnce sync.Once
}

func newLive(o Options) *liveReporter {
	l := &liveReporter{o: o, pal: style.Palette{On: o.Color}, bars: map[string]*mpb.Bar{}}
	l.p = mpb.New(mpb.WithOutput(o.Out), mpb.WithRefreshRate(o.Refresh),
		mpb.WithConsoleWriter(sizedWriter{Writer: cupwriter.New(o.Out, true), width: o.Width}))
	l.header = l.p.New(0, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return l.headerLine() })))
	return l
}

func (l *liveReporter) snapshot() (executor.Progress, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.snap, l.have
}

// headerLine is the top row: "afisync  waiting  elapsed 1m30s  deadline
// 05:00:00Z (in 1h58m)  3 pending, 5 available".
func (l *liveReporter) headerLine() string {
	p, ok := l.snapshot()
	if !ok {
		return l.pal.Bold("afisync") + "  starting"
	}
	now := l.o.Now()
	if p.Phase == executor.PhaseDone {
		now = p.Now
	}
	s := fmt.Sprintf("%s  %s  elapsed %s", l.pal.Bold("afisync"), p.Phase, human.Duration(now.Sub(p.Started)))
	if d := Deadline(p, now); d != "" {
		s += "  deadline " + d
	}
	return s + "  " + Counts(Totals(p), l.pal)
}

// regionLine is a region's name, padded, and its counts.
func (l *liveReporter) region(name string) (executor.RegionProgress, bool) {
	p, _ := l.snapshot()
	for _, r := range p.Regions {
		if r.Region == name {
			return r, true
		}
	}
	return executor.RegionProgress{}, false
}

// Update records p, adds a bar for each region seen for the first time and
// moves every bar to its region's settled count; at PhaseDone it completes
// the view.
func (l *liveReporter) Update(p executor.Progress) {
	l.mu.Lock()
	l.snap, l.have = p, true
	l.mu.Unlock()

	l.barsMu.Lock()
	defer l.barsMu.Unlock()
	if l.settled {
		return
	}
	for _, r := range p.Regions {
		if len(r.Region) > l.nameW {
			l.nameW = len(r.Region)
		}
	}
	for _, r := range p.Regions {
		b := l.bars[r.Region]
		if b == nil {
			b = l.addBar(r.Region)
			l.bars[r.Region] = b
		}
		b.SetTotal(int64(r.Total()), false)
		b.SetCurrent(int64(r.Available + r.Failed))
	}
	if p.Phase == executor.PhaseDone {
		l.finish(false)
	}
}

func (l *liveReporter) addBar(name string) *mpb.Bar {
	w := l.nameW
	label := func(decor.Statistics) string { return fmt.Sprintf("  %-*s", w, name) }
	counts := func(decor.Statistics) string {
		r, _ := l.region(name)
		return Counts(r, l.pal)
	}
	return l.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]").Filler("=").Tip(">").Padding("-"),
		mpb.BarWidth(barWidth),
		mpb.PrependDecorators(decor.Any(label)),
		mpb.AppendDecorators(decor.Any(counts)),
	)
}

// finish completes (or, when abort is set, stops) every row so that the
// container can draw its last frame and end. barsMu must be held.
func (l *liveReporter) finish(abort bool) {
	if l.settled {
		return
	}
	l.settled = true
	for _, b := range append([]*mpb.Bar{l.header}, l.barList()...) {
		if abort {
			b.Abort(false)
		} else {
			b.SetTotal(-1, true)
		}
	}
}

func (l *liveReporter) barList() []*mpb.Bar {
	out := make([]*mpb.Bar, 0, len(l.bars))
	for _, b := range l.bars {
		out = append(out, b)
	}
	return out
}

// Write prints b above the live view while it runs, and straight to Out
// after it has stopped.
func (l *liveReporter) Write(b []byte) (int, error) {
	if n, err := l.p.Write(b); err == nil {
		return n, nil
	}
	return l.o.Out.Write(b)
}

// Writer returns l, which keeps log lines from tearing the view.
func (l *liveReporter) Writer() io.Writer { return l }

// Close stops the view (keeping its last frame on screen) and waits until
// it is drawn.
func (l *liveReporter) Close() {
	l.closeOnce.Do(func() {
		l.barsMu.Lock()
		l.finish(true)
		l.barsMu.Unlock()
		done := make(chan struct{})
		go func() { l.p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(closeTimeout):
			// Never let the view hold up the report.
			l.p.Shutdown()
		}
	})
}

// closeTimeout bounds how long Close waits for the last frame.
const closeTimeout = 5 * time.Second

// sizedWriter is the view's console writer. Live is only chosen for a
// terminal, so it always behaves as one (which also lets tests draw on a
// buffer); and when the terminal reports no size, as a fresh
// pseudo-terminal may (0x0), it draws at a fallback size instead of
// drawing nothing.
type sizedWriter struct {
	*cupwriter.Writer
	width int // fallback width; 0: DefaultWidth
}

// Default size of the live view when the terminal tells none.
const (
	DefaultWidth  = 100
	defaultHeight = 200
)

// IsTerminal is always true: see sizedWriter.
func (w sizedWriter) IsTerminal() bool { return true }

// GetTermSize returns the terminal's size, or the fallback size when there
// is no real terminal or it reports zero.
func (w sizedWriter) GetTermSize() (width, height int, err error) {
	if w.Writer.IsTerminal() {
		width, height, err = w.Writer.GetTermSize()
	}
	if err != nil || width <= 0 {
		width = w.width
		if width <= 0 {
			width = DefaultWidth
		}
	}
	if err != nil || height <= 0 {
		height = defaultHeight
	}
	return width, height, nil
}
