package main

import (
	"strings"
	"testing"
)

// TestValidateCountsEveryProblem: the summary line counts every problem
// found, not the 100 listed plus the line that sums up the rest.
func TestValidateCountsEveryProblem(t *testing.T) {
	const path = "../../testdata/plans/invalid/too-many-problems.yaml"
	code, _, stderr := execAfisync(t, nil, "validate", "--plan", path)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if code != exitInvalid || len(lines) != 102 {
		t.Fatalf("exit %d, %d stderr lines; want %d and 100 problems, a sum-up line and the summary", code, len(lines), exitInvalid)
	}
	if want := "afisync: " + path + " is not a valid plan: 4001 problems; nothing was called"; lines[101] != want {
		t.Errorf("summary = %q, want %q", lines[101], want)
	}
}
