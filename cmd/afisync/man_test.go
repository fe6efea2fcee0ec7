package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestManPages(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1795000000") // 2026-11-18: pages are reproducible
	dir := filepath.Join(t.TempDir(), "man")    // created by the command
	code, stdout, stderr := execAfisync(t, nil, "man", dir)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// One page per visible command; none for the hidden man command itself
	// nor for help.
	for _, want := range []string{"afisync.1", "afisync-sync.1", "afisync-diff.1", "afisync-validate.1",
		"afisync-preflight.1", "afisync-sim.1", "afisync-version.1", "afisync-completion.1", "afisync-completion-bash.1"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s among %v", want, names)
		}
	}
	for _, unwanted := range []string{"afisync-man.1", "afisync-help.1"} {
		if slices.Contains(names, unwanted) {
			t.Errorf("%s written; it is not a user-facing command", unwanted)
		}
	}
	if want := fmt.Sprintf("afisync: wrote %d man pages to %s\n", len(names), dir); stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}

	b, err := os.ReadFile(filepath.Join(dir, "afisync-sync.1"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		`.TH "AFISYNC-SYNC" "1" "Nov 2026" "afisync ` + versionString() + `" "afisync manual"`,
		`\fB--plan\fP`, `\fB--wait\fP`, // a local flag
		`\fB--profile\fP`, // a global one
		"Exit codes",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("afisync-sync.1 lacks %q", want)
		}
	}
	if strings.Contains(page, "Auto generated") {
		t.Error("afisync-sync.1 carries cobra's auto-generated history section")
	}
}

func TestManNeedsDir(t *testing.T) {
	if code, _, _ := execAfisync(t, nil, "man"); code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
}
