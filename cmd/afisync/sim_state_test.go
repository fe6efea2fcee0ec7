package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimSavesSeededWorldAtStart: with --seed and --state, the seeded world
// is on disk as soon as the endpoint is announced, before any change, so a
// simulator killed at once does not come back empty. The "kill" is a copy of
// the state file taken while the first simulator still runs; the aws CLI
// then reads the seeded AFIs from a simulator started on that copy.
func TestSimSavesSeededWorldAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	needAWSCLI(t)
	t.Parallel() // a process test: runs alongside the others, after the in-process tests
	dir := t.TempDir()
	seed, state, killed := filepath.Join(dir, "seed.yaml"), filepath.Join(dir, "state.json"), filepath.Join(dir, "killed.json")
	if err := os.WriteFile(seed, []byte(seedYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, stop := startSim(t, "--seed", seed, "--state", state)
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatalf("no state file right after start: %v", err)
	}
	if err := os.WriteFile(killed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	stop()

	ep, out, _ := startSim(t, "--state", killed)
	if !strings.Contains(out.String(), "state: 2 AFIs loaded") {
		t.Errorf("restart output:\n%s", out)
	}
	got := describeOne(t, ep, "us-east-1", "afi-01a7ea9bafe3ef8cc")
	if got["Name"] != "hello_world_1.3.0" {
		t.Errorf("seeded AFI after the restart: %v", got)
	}
}
