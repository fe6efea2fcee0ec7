package main

import (
	"debug/buildinfo"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
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
	// The build's VCS revision may follow the version, in a binary that
	// recorded one.
	if lines[0] != "afisync "+versionString() || !strings.HasPrefix(lines[0], "afisync v1.2.3-test") {
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

func TestDescribeVersion(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: at},
			{Key: "vcs.modified", Value: modified},
		}
	}
	const rev = "3221b7363e8be511e925917576b1b4937ee948a2"
	tests := []struct {
		name    string
		ldflags string
		bi      *debug.BuildInfo
		want    string
	}{
		{"no build information", "", nil, "(devel)"},
		{"ldflags only", "v1.2.3", nil, "v1.2.3"},
		{"go install @version", "",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}},
			"v0.1.0"},
		{"go build in a clean checkout", "",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261125201256-3221b7363e8b"}, Settings: vcs(rev, "2026-11-25T20:12:56Z", "false")},
			"v0.0.0-20261125201256-3221b7363e8b (commit 3221b7363e8b, 2026-11-25T20:12:56Z)"},
		{"go build in a modified checkout", "",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261125201256-3221b7363e8b+dirty"}, Settings: vcs(rev, "2026-11-25T20:12:56Z", "true")},
			"v0.0.0-20261125201256-3221b7363e8b+dirty (commit 3221b7363e8b, modified, 2026-11-25T20:12:56Z)"},
		{"release build: ldflags win over the module version", "v1.2.3",
			&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3-0.20261125201256-3221b7363e8b"}, Settings: vcs(rev, "2026-11-25T20:12:56Z", "false")},
			"v1.2.3 (commit 3221b7363e8b, 2026-11-25T20:12:56Z)"},
		{"go build without VCS stamping (-buildvcs=false, a git worktree)", "",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"(devel)"},
		{"short revision kept whole", "",
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("abc123", "", "false")},
			"(devel) (commit abc123)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeVersion(tt.ldflags, tt.bi); got != tt.want {
				t.Errorf("describeVersion(%q, …) = %q, want %q", tt.ldflags, got, tt.want)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	for _, set := range []string{"", "v1.2.3-test"} {
		t.Run("version="+set, func(t *testing.T) {
			old := version
			version = set
			defer func() { version = old }()
			for _, arg := range []string{"--version", "-v"} {
				code, stdout, stderr := execAfisync(t, nil, arg)
				if code != exitOK || stderr != "" {
					t.Fatalf("%s: exit %d, stderr %q", arg, code, stderr)
				}
				if want := "afisync " + versionString() + "\n"; stdout != want {
					t.Errorf("%s: stdout = %q, want %q", arg, stdout, want)
				}
				// `afisync version` starts with the same line.
				_, full, _ := execAfisync(t, nil, "version")
				if first, _, _ := strings.Cut(full, "\n"); first+"\n" != stdout {
					t.Errorf("version's first line %q differs from %s's %q", first, arg, stdout)
				}
			}
			if set != "" && !strings.HasPrefix(versionString(), set) {
				t.Errorf("versionString() = %q, want the -ldflags version %q first", versionString(), set)
			}
		})
	}
}

// TestVersionOfBuiltBinary builds afisync with and without
// -ldflags "-X main.version=…" (the plain build is builtAfisync's, shared
// with other tests of the package), and checks that --version tells what
// the toolchain recorded in the binary (debug/buildinfo, what
// `go version -m` prints): the -ldflags version, else the module version;
// and the VCS revision whenever one was recorded (a git clone records it; a
// git worktree or GOFLAGS=-buildvcs=false does not, and then the module
// version is "(devel)").
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the afisync binary twice")
	}
	t.Parallel() // a process test: runs alongside the others, after the in-process tests
	dir := t.TempDir()
	for _, tt := range []struct {
		name, ldflags, want string
	}{
		{"without ldflags", "", ""},
		{"with ldflags", "-X main.version=v9.8.7-test", "v9.8.7-test"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var bin string
			if tt.ldflags == "" {
				bin = builtAfisync(t)
			} else {
				bin = filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
				// -buildvcs=auto as in builtAfisync.
				args := []string{"build", "-buildvcs=auto", "-o", bin, "-ldflags", tt.ldflags, "."}
				if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
					t.Fatalf("go build: %v\n%s", err, out)
				}
			}
			out, err := exec.Command(bin, "--version").Output()
			if err != nil {
				t.Fatalf("%s --version: %v", bin, err)
			}
			got := strings.TrimSuffix(string(out), "\n")

			info, err := buildinfo.ReadFile(bin)
			if err != nil {
				t.Fatalf("reading the build information of %s: %v", bin, err)
			}
			modVersion, rev := info.Main.Version, ""
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" {
					rev = s.Value
				}
			}
			want := tt.want
			if want == "" {
				want = modVersion
			}
			t.Logf("--version: %q (module %s, revision %q)", got, modVersion, rev)
			if want == "" || !strings.HasPrefix(got, "afisync "+want) {
				t.Errorf("--version = %q, want it to start with %q", got, "afisync "+want)
			}
			if got == "afisync dev" {
				t.Error("--version says dev: the build information was ignored")
			}
			if rev != "" && !strings.Contains(got, "(commit "+rev[:12]) {
				t.Errorf("--version = %q, want the recorded revision %s", got, rev[:12])
			}
		})
	}
}
