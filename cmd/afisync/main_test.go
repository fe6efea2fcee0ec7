package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builtDir holds binaries that tests of this package share (see
// builtAfisync); TestMain removes it after the last test.
var builtDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "afisync-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builtDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var built struct {
	once sync.Once
	path string
	err  error
}

// builtAfisync returns afisync built as `go build -buildvcs=auto` builds it
// (a plain build; -buildvcs=auto overrides a GOFLAGS=-buildvcs=false from
// the environment), once for the whole package: tests that need the real
// binary, not this test binary as TestHelperAfisync, share it. Linking
// afisync costs about two seconds of CPU on a 2-core machine, paid once.
func builtAfisync(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		bin := filepath.Join(builtDir, "afisync")
		if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.path = bin
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}
