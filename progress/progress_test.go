package progress

import (
	"bytes"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbauerster/cupwriter"

	"github.com/afisync/afisync/executor"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func snap(phase string, at time.Duration, regions ...executor.RegionProgress) executor.Progress {
	return executor.Progress{Phase: phase, Started: t0, Now: t0.Add(at), Deadline: t0.Add(2 * time.Hour), Regions: regions}
}

// syncBuffer is a bytes.Buffer safe for the live view's drawing goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var escape = regexp.MustCompile("\x1b")

func TestLogThrottle(t *testing.T) {
	west := executor.RegionProgress{Region: "us-west-2", Pending: 2, Available: 1}
	eu := executor.RegionProgress{Region: "eu-west-1", Failed: 1, Other: 2}
	for _, tc := range []struct {
		name  string
		snaps []executor.Progress
		want  []string // phases of the lines written, in order
	}{
		{"first snapshot is logged", []executor.Progress{snap("inventory", 0, west)}, []string{"inventory"}},
		{"phase changes are logged at once", []executor.Progress{
			snap("inventory", 0, west), snap("copying", time.Second, west), snap("waiting", 2*time.Second, west), snap("done", 3*time.Second, west),
		}, []string{"inventory", "copying", "waiting", "done"}},
		{"same phase is throttled to one line per interval", []executor.Progress{
			snap("waiting", 0, west), snap("waiting", 10*time.Second, west), snap("waiting", 29*time.Second, west),
			snap("waiting", 30*time.Second, west), snap("waiting", 45*time.Second, west), snap("waiting", 61*time.Second, west),
		}, []string{"waiting", "waiting", "waiting"}},
		{"many copies starting make one line", []executor.Progress{
			snap("copying", 0, eu), snap("copying", time.Millisecond, eu), snap("copying", 2*time.Millisecond, eu),
		}, []string{"copying"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := New(Options{Out: &buf, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
			for _, s := range tc.snaps {
				r.Update(s)
			}
			r.Close()
			r.Update(snap("late", time.Hour, west)) // ignored after Close
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				m := regexp.MustCompile(`phase=(\S+)`).FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("line without phase: %q", l)
				}
				got = append(got, m[1])
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("logged phases %v, want %v\n%s", got, tc.want, buf.String())
			}
			if escape.MatchString(buf.String()) {
				t.Errorf("log output has escape codes:\n%q", buf.String())
			}
		})
	}
}

func TestLogLine(t *testing.T) {
	var buf bytes.Buffer
	r := New(Options{Out: &buf, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	r.Update(snap("waiting", 90*time.Second,
		executor.RegionProgress{Region: "eu-west-1", Failed: 1, Other: 2},
		executor.RegionProgress{Region: "us-west-2", Pending: 2, Available: 1}))
	line := buf.String()
	for _, want := range []string{
		`msg=progress`, `phase=waiting`, `elapsed=1m30s`, `deadline="05:00:00Z (in 1h59m)"`[:9],
		`targets=6`, `pending=2`, `available=1`, `failed=1`, `todo=2`,
		`regions="eu-west-1: 1 failed, 2 to do; us-west-2: 2 pending, 1 available"`,
	} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line lacks %s:\n%s", want, line)
		}
	}
}

func TestDeadline(t *testing.T) {
	old := time.Local
	time.Local = time.UTC
	defer func() { time.Local = old }()
	for _, tc := range []struct {
		p    executor.Progress
		now  time.Time
		want string
	}{
		{executor.Progress{}, t0, ""},
		{snap("waiting", 0), t0.Add(time.Minute), "05:00:00Z (in 1h59m)"},
		{snap("waiting", 0), t0.Add(3 * time.Hour), "05:00:00Z (passed)"},
	} {
		if got := Deadline(tc.p, tc.now); got != tc.want {
			t.Errorf("Deadline = %q, want %q", got, tc.want)
		}
	}
}

func TestLiveView(t *testing.T) {
	out := &syncBuffer{}
	now := t0.Add(95 * time.Second)
	r := New(Options{Out: out, Live: true, Refresh: time.Millisecond, Width: 120, Now: func() time.Time { return now }})
	r.Update(snap("inventory", 0,
		executor.RegionProgress{Region: "eu-west-1", Other: 2},
		executor.RegionProgress{Region: "us-west-2", Other: 3}))
	r.Update(snap("waiting", 90*time.Second,
		executor.RegionProgress{Region: "eu-west-1", Pending: 1, Failed: 1},
		executor.RegionProgress{Region: "us-west-2", Pending: 1, Available: 2}))
	if _, err := r.Writer().Write([]byte("a log line\n")); err != nil {
		t.Fatal(err)
	}
	r.Update(snap("done", 100*time.Second,
		executor.RegionProgress{Region: "eu-west-1", Available: 1, Failed: 1},
		executor.RegionProgress{Region: "us-west-2", Available: 3}))
	r.Close()
	r.Close() // idempotent
	got := out.String()
	last := got[strings.LastIndex(got, "afisync  done"):]
	for _, want := range []string{
		"elapsed 1m40s", "4 available, 1 failed",
		"eu-west-1 [", "] 1 available, 1 failed",
		"us-west-2 [======================] 3 available",
	} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame lacks %q:\n%s", want, last)
		}
	}
	if !strings.Contains(got, "a log line") {
		t.Errorf("log line written through the view is lost:\n%s", got)
	}
	if strings.Contains(got, "\x1b[31m") {
		t.Error("colour without Color")
	}
}

func TestLiveViewColorAndAbort(t *testing.T) {
	out := &syncBuffer{}
	r := New(Options{Out: out, Live: true, Color: true, Refresh: time.Millisecond})
	r.Update(snap("waiting", time.Second, executor.RegionProgress{Region: "us-west-2", Pending: 1, Failed: 1}))
	r.Close() // interrupted: no PhaseDone
	got := out.String()
	if !strings.Contains(got, "\x1b[31mfailed\x1b[0m") || !strings.Contains(got, "\x1b[33mpending\x1b[0m") {
		t.Errorf("status words not coloured:\n%q", got)
	}
}

func TestOff(t *testing.T) {
	var buf bytes.Buffer
	var r Reporter = Off{Out: &buf}
	r.Update(snap("waiting", 0))
	r.Close()
	if r.Writer() != &buf || buf.Len() != 0 {
		t.Error("Off wrote something or lost its writer")
	}
}

func TestFallbackSize(t *testing.T) {
	for _, tc := range []struct{ width, want int }{{0, DefaultWidth}, {132, 132}} {
		w, h, err := sizedWriter{Writer: cupwriter.New(&bytes.Buffer{}, true), width: tc.width}.GetTermSize()
		if err != nil || w != tc.want || h <= 0 {
			t.Errorf("width %d: GetTermSize = %d, %d, %v; want %d, >0, nil", tc.width, w, h, err, tc.want)
		}
	}
}
