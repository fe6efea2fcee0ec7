package style

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/report"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{350 * time.Millisecond, "350ms"},
		{3240 * time.Millisecond, "3.2s"},
		{42*time.Second + 400*time.Millisecond, "42s"},
		{2*time.Minute + 3*time.Second, "2m3s"},
		{2 * time.Minute, "2m"},
		{time.Hour + 5*time.Minute + 20*time.Second, "1h5m"},
		{2 * time.Hour, "2h"},
		{26*time.Hour + 30*time.Second, "26h1m"},
		{-90 * time.Second, "-1m30s"},
	} {
		if got := Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1536, "1.5 KiB"},
		{3 << 20, "3.0 MiB"},
		{5 << 30, "5.0 GiB"},
	} {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestClock(t *testing.T) {
	old := time.Local
	time.Local = time.UTC
	defer func() { time.Local = old }()
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	if got := Clock(at); got != "03:00:00Z" {
		t.Errorf("Clock = %q", got)
	}
	if got := Timestamp(at); got != "2026-11-25T03:00:00Z" {
		t.Errorf("Timestamp = %q", got)
	}
}

func TestColorEnabled(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	var buf bytes.Buffer
	for _, tc := range []struct {
		name    string
		noColor bool
		env     map[string]string
	}{
		{"buffer is not a terminal", false, nil},
		{"flag", true, nil},
		{"NO_COLOR", false, map[string]string{"NO_COLOR": "1"}},
		{"dumb terminal", false, map[string]string{"TERM": "dumb"}},
	} {
		if ColorEnabled(&buf, tc.noColor, env(tc.env)) {
			t.Errorf("%s: colour enabled", tc.name)
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestColorReport(t *testing.T) {
	rep := &report.Report{Plan: "p", Targets: []report.Target{
		{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusCopied, CopyAFI: "afi-1"},
		{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", Region: "eu-west-1", Status: report.StatusFailed, Message: "copied failed: in-sync"},
	}}
	rep.Finish()
	var b strings.Builder
	if err := rep.Write(&b, report.FormatText); err != nil {
		t.Fatal(err)
	}
	plain := b.String()
	if got := ColorReport(plain, rep, Palette{}); got != plain {
		t.Errorf("palette off changed the text:\n%s", got)
	}
	col := ColorReport(plain, rep, Palette{On: true})
	if sgr.ReplaceAllString(col, "") != plain {
		t.Errorf("colouring changed more than colour:\n%q\n%q", col, plain)
	}
	for _, want := range []string{red + "failed" + reset, green + "copied" + reset} {
		if !strings.Contains(col, want) {
			t.Errorf("coloured report lacks %q:\n%s", want, col)
		}
	}
	// Only the STATUS column is coloured, not the same words in messages.
	if n := strings.Count(col, red); n != 1 {
		t.Errorf("%d red spans, want 1:\n%q", n, col)
	}
}
