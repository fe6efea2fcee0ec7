package style

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/afisync/afisync/report"
)

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
