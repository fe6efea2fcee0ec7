package ci

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/afisync/afisync/report"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"100% done", "100%25 done", "100%25 done"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"k: v, w", "k: v, w", "k%3A v%2C w"},
		{"%0A", "%250A", "%250A"},
	} {
		if got := EscapeData(tc.in); got != tc.data {
			t.Errorf("EscapeData(%q) = %q, want %q", tc.in, got, tc.data)
		}
		if got := EscapeProperty(tc.in); got != tc.prop {
			t.Errorf("EscapeProperty(%q) = %q, want %q", tc.in, got, tc.prop)
		}
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env    map[string]string
		want   GitHub
		active bool
	}{
		{nil, GitHub{}, false},
		{map[string]string{"GITHUB_ACTIONS": "true"}, GitHub{Annotate: true}, true},
		{map[string]string{"GITHUB_ACTIONS": "false", "GITHUB_STEP_SUMMARY": "/s"}, GitHub{StepSummary: "/s"}, true},
	} {
		got := FromEnv(func(k string) string { return tc.env[k] })
		if got != tc.want || got.Active() != tc.active {
			t.Errorf("FromEnv(%v) = %+v", tc.env, got)
		}
	}
}

func sample() *report.Report {
	r := &report.Report{Plan: "fleet", Interrupted: true, Warnings: []string{"selector matched nothing"}, Targets: []report.Target{
		{SourceAFI: "afi-1", SourceRegion: "us-east-1", Region: "eu-west-1", Status: report.StatusFailed, CopyAFI: "afi-2", Message: "copy failed: 50% of\nthe image, bad"},
		{SourceAFI: "afi-1", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusCopied},
		{SourceAFI: "afi-3", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusTimedOut},
		{SourceAFI: "afi-4", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusSkipped, Message: "source not found"},
	}}
	r.Finish()
	return r
}

func TestAnnotations(t *testing.T) {
	var b strings.Builder
	if err := (GitHub{}).Annotations(&b, sample()); err != nil || b.Len() != 0 {
		t.Fatalf("annotated outside GitHub Actions: %q", b.String())
	}
	if err := (GitHub{Annotate: true}).Annotations(&b, sample()); err != nil {
		t.Fatal(err)
	}
	want := "::error title=afisync%3A us-east-1/afi-1 → eu-west-1 failed::copy failed: 50%25 of%0Athe image, bad (copy afi-2)\n" +
		"::error title=afisync%3A us-east-1/afi-3 → us-west-2 timed-out::timed-out\n" +
		"::error title=afisync%3A us-east-1/afi-4 → us-west-2 skipped::source not found\n" +
		"::error title=afisync%3A interrupted::the run was interrupted: 1 failed, 1 timed out, 1 skipped, 1 copied\n" +
		"::warning title=afisync::selector matched nothing\n"
	if b.String() != want {
		t.Errorf("annotations:\n%s\nwant:\n%s", b.String(), want)
	}
	// A plan with accounts: names the target's account.
	b.Reset()
	rep := &report.Report{Targets: []report.Target{{SourceAFI: "afi-5", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusSkipped,
		Message: "account ci: AccessDenied", AccountName: "ci"}}}
	if err := (GitHub{Annotate: true}).Annotations(&b, rep); err != nil {
		t.Fatal(err)
	}
	if want := "::error title=afisync%3A account ci%3A us-east-1/afi-5 → us-west-2 skipped::account ci: AccessDenied\n"; b.String() != want {
		t.Errorf("annotation %q, want %q", b.String(), want)
	}
	b.Reset()
	(GitHub{Annotate: true}).ErrorAnnotation(&b, "sync", errors.New("no credentials:\nnone"))
	if b.String() != "::error title=afisync sync failed::no credentials:%0Anone\n" {
		t.Errorf("error annotation %q", b.String())
	}
}

func TestWriteSummaryAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	os.WriteFile(path, []byte("## earlier step\n"), 0o644)
	g := GitHub{StepSummary: path}
	if err := g.WriteSummary(sample()); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteErrorSummary("sync", "fleet", errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	var md strings.Builder
	sample().Write(&md, report.FormatMarkdown)
	if !strings.HasPrefix(string(got), "## earlier step\n"+md.String()) {
		t.Errorf("summary file does not hold the earlier text then the Markdown report:\n%s", got)
	}
	if !strings.Contains(string(got), "### afisync sync of plan \"fleet\" failed") {
		t.Errorf("error summary missing:\n%s", got)
	}
	if err := (GitHub{StepSummary: filepath.Join(path, "nope")}).WriteSummary(sample()); err == nil {
		t.Error("writing to an impossible path succeeded")
	}
	if err := (GitHub{}).WriteSummary(sample()); err != nil {
		t.Error(err)
	}
}
