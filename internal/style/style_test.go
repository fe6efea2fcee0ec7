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
		{SourceAFI: "afi-0123456789abcdef1", SourceRegion: "us-east-1", Region: "eu-west-1", Status: report.StatusAdopted, CopyAFI: "afi-2"},
	}}
	rep.Finish()
	var plain, off, col strings.Builder
	if err := rep.Write(&plain, report.FormatText); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteText(&off, Palette{}.Status); err != nil {
		t.Fatal(err)
	}
	if off.String() != plain.String() {
		t.Errorf("palette off changed the text:\n%s", off.String())
	}
	if err := rep.WriteText(&col, Palette{On: true}.Status); err != nil {
		t.Fatal(err)
	}
	if sgr.ReplaceAllString(col.String(), "") != plain.String() {
		t.Errorf("colouring changed more than colour:\n%q\n%q", col.String(), plain.String())
	}
	for _, want := range []string{red + "failed" + reset, green + "copied" + reset, green + "adopted" + reset} {
		if !strings.Contains(col.String(), want) {
			t.Errorf("coloured report lacks %q:\n%s", want, col.String())
		}
	}
	// Only the STATUS column is coloured, not the same words in messages.
	if n := strings.Count(col.String(), red); n != 1 {
		t.Errorf("%d red spans, want 1:\n%q", n, col.String())
	}
}

// TestEveryStatusHasAColor checks that every status's colour in the
// report's table has escape codes here.
func TestEveryStatusHasAColor(t *testing.T) {
	for _, s := range report.Statuses {
		code, ok := codes[s.Info().Color]
		if !ok {
			t.Errorf("%s: colour %q has no escape code", s, s.Info().Color)
			continue
		}
		if got, want := (Palette{On: true}).Status(s), code+string(s)+reset; got != want {
			t.Errorf("Status(%s) = %q, want %q", s, got, want)
		}
		if got := (Palette{}).Status(s); got != string(s) {
			t.Errorf("palette off: Status(%s) = %q", s, got)
		}
	}
}
