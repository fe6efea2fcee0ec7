package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/internal/golden"
)

func sample() *Report {
	t0 := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	r := &Report{
		Plan:       "fpga-fleet",
		Account:    "111122223333",
		StartedAt:  t0,
		FinishedAt: t0.Add(2*time.Minute + 3*time.Second),
		Targets: []Target{
			{SourceAFI: "afi-0fedcba9876543210", SourceRegion: "us-west-2", AGFI: "agfi-0fedcba9876543210", Region: "eu-west-1", CopyAFI: "afi-0aaaabbbbccccdddd", Status: StatusCopied, Attempts: 1},
			{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", AGFI: "agfi-0123456789abcdef0", Region: "us-west-2", CopyAFI: "afi-01111222233334444", Status: StatusInSync, Attempts: 1},
			{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", AGFI: "agfi-0123456789abcdef0", Region: "eu-west-1", CopyAFI: "afi-05555666677778888", Status: StatusFailed, Attempts: 2,
				Message: "NOT_FOUND: Source image is not found or the user ID is not authorized to copy source image."},
			{SourceAFI: "afi-0badbadbadbadbad0", SourceRegion: "us-east-1", Region: "us-west-2", Status: StatusSkipped,
				Message: "source afi-0badbadbadbadbad0 not found in us-east-1 (or not visible to account 111122223333)"},
			{SourceAFI: "afi-0cccccccccccccccc", SourceRegion: "us-east-1", Region: "eu-west-2", CopyAFI: "afi-0dddddddddddddddd", Status: StatusTimedOut, Attempts: 1,
				Message: "copy afi-0dddddddddddddddd still pending after 2h0m0s", Selector: `{name="release-*"}`},
		},
		Warnings: []string{`selector {name="nothing-*"} in us-east-1 matched no owned, available AFI`},
		Quota: []Quota{
			{Region: "eu-west-1", Held: 2, Limit: 100, Source: "default", Copies: 1, After: 3, Headroom: 97},
			{Region: "eu-west-2", Held: 120, Limit: 100, Source: "default", Copies: 1, After: 121, Headroom: -21},
			{Region: "us-west-2", Held: 18, Limit: 20, Source: "flag", Copies: 5, Deletes: 1, After: 22, Headroom: -2, Refused: true},
		},
	}
	r.Finish()
	return r
}

func TestRender(t *testing.T) {
	for _, f := range []Format{FormatText, FormatJSON, FormatMarkdown} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := sample().Write(&buf, f); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "report."+string(f)+".golden"), buf.Bytes())
		})
	}
}

func TestJSONSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().Write(&buf, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"plan", "started_at", "finished_at", "dry_run", "summary", "targets"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	tg := m["targets"].([]any)[0].(map[string]any)
	for _, k := range []string{"source_afi", "source_region", "region", "status", "attempts"} {
		if _, ok := tg[k]; !ok {
			t.Errorf("JSON target lacks %q", k)
		}
	}
}

func TestSortAndSummary(t *testing.T) {
	r := sample()
	if got, want := r.SummaryLine(), "1 failed, 1 timed out, 1 skipped, 1 copied, 1 in sync"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	first := r.Targets[0]
	if first.SourceRegion != "us-east-1" || first.SourceAFI != "afi-0123456789abcdef0" || first.Region != "eu-west-1" {
		t.Errorf("first target after sorting = %+v", first)
	}
}

func TestExitCode(t *testing.T) {
	mk := func(ss ...Status) *Report {
		r := &Report{}
		for _, s := range ss {
			r.Targets = append(r.Targets, Target{Status: s})
		}
		return r
	}
	tests := []struct {
		name     string
		r        *Report
		detailed bool
		want     int
	}{
		{"all in sync", mk(StatusInSync, StatusCopied), true, 0},
		{"copying counts as success", mk(StatusCopying), false, 0},
		{"failed", mk(StatusInSync, StatusFailed), false, 1},
		{"timed out", mk(StatusTimedOut), false, 1},
		{"skipped", mk(StatusSkipped), false, 1},
		{"pending, detailed", mk(StatusWouldCopy, StatusInSync), true, 2},
		{"pending, not detailed", mk(StatusWouldCopy), false, 0},
		{"adopted only", mk(StatusAdopted), true, 0},
		{"would adopt only, detailed", mk(StatusWouldAdopt), true, 2},
		{"would adopt only, not detailed", mk(StatusWouldAdopt), false, 0},
		{"failure beats pending", mk(StatusWouldCopy, StatusSkipped), true, 1},
		{"interrupted", &Report{Interrupted: true}, false, 1},
		{"a region refused for its AFI limit", &Report{Quota: []Quota{{Region: "us-west-2", Held: 18, Limit: 20, After: 23, Refused: true}}}, false, 1},
		{"a region over its limit at the start", &Report{Quota: []Quota{{Region: "us-west-2", Held: 21, Limit: 20, After: 21, Over: true}}}, false, 1},
		{"past the default limit: a warning only", &Report{Quota: []Quota{{Region: "us-west-2", Held: 120, Limit: 100, Source: "default", After: 121}}}, false, 0},
		{"empty", mk(), true, 0},
	}
	for _, tc := range tests {
		if got := tc.r.ExitCode(tc.detailed); got != tc.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tc.name, tc.detailed, got, tc.want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sample().WriteFile(path, FormatJSON); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("report file is not the JSON report: %v", err)
	}
	if r.Plan != "fpga-fleet" || len(r.Targets) != 5 {
		t.Errorf("report file = %+v", r)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("report mode = %v, want 0644", fi.Mode().Perm())
	}
}

// TestStatusTable checks that the table covers exactly Statuses and that
// its properties agree with one another.
func TestStatusTable(t *testing.T) {
	if len(statusInfo) != len(Statuses) {
		t.Errorf("the table has %d statuses, Statuses %d", len(statusInfo), len(Statuses))
	}
	for _, s := range Statuses {
		in, ok := statusInfo[s]
		if !ok {
			t.Errorf("%s: not in the table", s)
			continue
		}
		if in.Color == ColorNone {
			t.Errorf("%s: no colour", s)
		}
		if in.Failure && (in.Change || in.Available || in.Pending) {
			t.Errorf("%s: a failure that is also a change, available or pending: %+v", s, in)
		}
		if in.Pending && !in.Change {
			t.Errorf("%s: pending but not a change: %+v", s, in)
		}
		if in.Pending && in.Available {
			t.Errorf("%s: pending and available: %+v", s, in)
		}
		if !in.Terminal && s != StatusCopying {
			t.Errorf("%s: not terminal; only a copy pending in AWS is", s)
		}
		wantExit := map[bool]int{true: 1}[in.Failure]
		if got := s.ExitCode(false); got != wantExit {
			t.Errorf("%s: ExitCode(false) = %d, want %d", s, got, wantExit)
		}
		if in.Pending {
			wantExit = 2
		}
		if got := s.ExitCode(true); got != wantExit {
			t.Errorf("%s: ExitCode(true) = %d, want %d", s, got, wantExit)
		}
	}
	if in := Status("no-such-status").Info(); in != (StatusInfo{}) {
		t.Errorf("an unknown status means %+v", in)
	}
}

func TestWriteTextPaint(t *testing.T) {
	var plain, painted bytes.Buffer
	if err := sample().Write(&plain, FormatText); err != nil {
		t.Fatal(err)
	}
	paint := func(s Status) string { return "<" + string(s) + ">" }
	if err := sample().WriteText(&painted, paint); err != nil {
		t.Fatal(err)
	}
	// Painting changes the STATUS column's words only: removing the
	// brackets gives the plain report back, columns aligned as before.
	if got := strings.NewReplacer("<", "", ">", "").Replace(painted.String()); got != plain.String() {
		t.Errorf("painted report without paint:\n%s\nplain:\n%s", got, plain.String())
	}
	for _, tg := range sample().Targets {
		if !strings.Contains(painted.String(), "  <"+string(tg.Status)+">  ") {
			t.Errorf("status %s not painted:\n%s", tg.Status, painted.String())
		}
	}
	if n := strings.Count(painted.String(), "<"); n != len(sample().Targets) {
		t.Errorf("%d painted words, want %d (the header and messages stay plain):\n%s", n, len(sample().Targets), painted.String())
	}
}
