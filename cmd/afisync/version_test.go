package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	old := version
	version = "v1.2.3-test" // what -ldflags "-X main.version=…" sets
	defer func() { version = old }()

	code, stdout, stderr := execAfisync(t, nil, "version")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2+len(sdkModules) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), 2+len(sdkModules), stdout)
	}
	if lines[0] != "afisync v1.2.3-test" {
		t.Errorf("line 1 = %q, want the version set at build time", lines[0])
	}
	if want := "go " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH; lines[1] != want {
		t.Errorf("line 2 = %q, want %q", lines[1], want)
	}
	for i, m := range sdkModules {
		// A version, or "(not linked)" in a build without the SDK.
		if v, ok := strings.CutPrefix(lines[2+i], m+" "); !ok || v == "" {
			t.Errorf("line %d = %q, want %q and its version", 3+i, lines[2+i], m)
		}
	}
	if stderr != "" {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestVersionRejectsArguments(t *testing.T) {
	if code, _, _ := execAfisync(t, nil, "version", "extra"); code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
}
