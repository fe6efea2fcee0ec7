package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/afisync/afisync/ec2sim"
)

const pruneQuestion = "Delete 1 copy? Only 'yes' is accepted: "

// seedPruneWorld makes a world where the plan "pty" copies a source to
// eu-west-1 and no longer wants its copy in us-west-2: a sync --prune
// copies one and deletes one. It returns the plan and the copy to delete.
func seedPruneWorld(t *testing.T, sim *ec2sim.Sim) (planFile, unwanted string) {
	t.Helper()
	src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "nic"})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := sim.AddImage(ec2sim.Image{Region: "us-west-2", AGFI: src.AGFI, Name: "nic", SourceID: src.ID, SourceRegion: "us-east-1",
		Tags: map[string]string{"afisync:source": "us-east-1/" + src.ID, "afisync:plan:pty": "pty"}})
	if err != nil {
		t.Fatal(err)
	}
	return writePlan(t, "version: 1\nname: pty\ndefaults:\n  source_region: us-east-1\n  regions: [eu-west-1]\nafis:\n  - id: "+src.ID+"\n"), cp.ID
}

// ptySession is afisync (this test binary, as TestHelperAfisync) running
// on a pseudo-terminal: its stdin, stdout and stderr.
type ptySession struct {
	t      *testing.T
	cmd    *exec.Cmd
	ptmx   *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	asked  chan struct{} // closed when the prune question appears
	exited chan error
	read   chan struct{} // closed when the terminal's output has been read
}

func startInPTY(t *testing.T, args ...string) *ptySession {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperAfisync$", "--"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") && !strings.HasPrefix(kv, "GITHUB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AFISYNC_TEST_HELPER=1", "TERM=xterm-256color", "AWS_EC2_METADATA_DISABLED=true")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	s := &ptySession{t: t, cmd: cmd, ptmx: ptmx, asked: make(chan struct{}), exited: make(chan error, 1), read: make(chan struct{})}
	t.Cleanup(func() { ptmx.Close() })
	go func() {
		defer close(s.read)
		buf := make([]byte, 4096)
		seen := false
		for {
			n, err := ptmx.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			if !seen && strings.Contains(s.out.String(), pruneQuestion) {
				seen = true
				close(s.asked)
			}
			s.mu.Unlock()
			if err != nil {
				return // EIO once the child has exited
			}
		}
	}()
	go func() { s.exited <- cmd.Wait() }()
	return s
}

// hang bounds how long a child may take: a hang detector, not a timing
// assertion.
const hang = 2 * time.Minute

// whenAsked waits for the prune question; false if afisync exited first.
func (s *ptySession) whenAsked() bool {
	select {
	case <-s.asked:
		return true
	case err := <-s.exited:
		s.exited <- err
		return false
	case <-time.After(hang):
		s.cmd.Process.Kill()
		s.t.Fatalf("afisync never asked:\n%s", s.output())
	}
	return false
}

// wait returns afisync's exit status and what the terminal showed, with
// escape codes and carriage returns taken out.
func (s *ptySession) wait() (int, string) {
	var err error
	select {
	case err = <-s.exited:
	case <-time.After(hang):
		s.cmd.Process.Kill()
		s.t.Fatalf("afisync did not finish:\n%s", s.output())
	}
	<-s.read
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return code, s.output()
}

func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.ReplaceAll(ansi.ReplaceAllString(s.out.String(), ""), "\r", "")
}

// TestPruneAsksOnATerminal: sync --prune on a terminal lists what it would
// delete and asks; "no" (or an interrupt) changes nothing and exits 1,
// "yes" deletes, and --yes does not ask.
func TestPruneAsksOnATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs afisync on a pseudo-terminal")
	}
	for _, tc := range []struct {
		name    string
		flags   []string
		answer  string // typed at the question; "^C" sends SIGINT
		code    int
		deleted bool
		want    string
	}{
		{"no", nil, "no", 1, false, "afisync: prune declined; nothing was changed"},
		{"anything but yes", nil, "y", 1, false, "afisync: prune declined; nothing was changed"},
		{"interrupted", nil, "^C", 1, false, "interrupted at the prune question; nothing was changed"},
		{"yes", nil, "yes", 0, true, "1 copying, 1 pruned"},
		{"--yes", []string{"--yes"}, "", 0, true, "1 copying, 1 pruned"},
		{"--auto-approve", []string{"--auto-approve"}, "", 0, true, "1 copying, 1 pruned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noCI(t)
			sim, url := simEnv(t)
			plan, unwanted := seedPruneWorld(t, sim)
			s := startInPTY(t, append([]string{"sync", "--prune", "--plan", plan, "--endpoint-url", url}, tc.flags...)...)
			asked := s.whenAsked()
			switch {
			case tc.answer == "" && asked:
				t.Errorf("sync --yes asked:\n%s", s.output())
				io.WriteString(s.ptmx, "no\n")
			case tc.answer != "" && !asked:
				t.Fatalf("sync --prune on a terminal did not ask:\n%s", s.output())
			case tc.answer == "^C":
				if n := mutatingCalls(sim); n != 0 {
					t.Errorf("%d mutating calls before the answer", n)
				}
				s.cmd.Process.Signal(os.Interrupt)
			case tc.answer != "":
				if n := mutatingCalls(sim); n != 0 {
					t.Errorf("%d mutating calls before the answer", n)
				}
				io.WriteString(s.ptmx, tc.answer+"\n")
			}
			code, out := s.wait()
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out)
			}
			if tc.answer != "" && !strings.Contains(out, "sync will delete 1 copy:\n  - "+unwanted+" in us-west-2") {
				t.Errorf("the question does not list %s:\n%s", unwanted, out)
			}
			_, kept := sim.Image(unwanted)
			if kept == tc.deleted {
				t.Errorf("copy %s still there: %v, want %v", unwanted, kept, !tc.deleted)
			}
			if n := mutatingCalls(sim); !tc.deleted && n != 0 {
				t.Errorf("declined, yet %d mutating calls", n)
			}
		})
	}
}

// TestPruneDoesNotAskOffATerminal: without a terminal on both stdin and
// stderr, sync --prune deletes as it always did.
func TestPruneDoesNotAskOffATerminal(t *testing.T) {
	noCI(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	for _, tc := range []struct {
		name  string
		stdin io.Reader
	}{
		{"pipe", strings.NewReader("")},
		{"stdin a terminal, stderr not", tty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, url := simEnv(t)
			plan, unwanted := seedPruneWorld(t, sim)
			var out, errb bytes.Buffer
			code := testCLI(tc.stdin, &out, &errb).run(context.Background(), []string{"sync", "--prune", "--plan", plan, "--endpoint-url", url, "--no-progress"})
			if code != 0 || strings.Contains(errb.String(), "Only 'yes'") {
				t.Errorf("exit %d:\n%s\n%s", code, out.String(), errb.String())
			}
			if _, kept := sim.Image(unwanted); kept {
				t.Errorf("copy %s was not pruned", unwanted)
			}
		})
	}
}

func TestReadAnswer(t *testing.T) {
	got, err := readAnswer(context.Background(), strings.NewReader("yes\nmore"))
	if err != nil || got != "yes\n" {
		t.Errorf("readAnswer = %q, %v", got, err)
	}
	// Nobody types: an interrupt ends the wait.
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := readAnswer(ctx, r); !errors.Is(err, context.Canceled) {
		t.Errorf("readAnswer after an interrupt: %v", err)
	}
}

// TestRetentionAsksOnATerminal: a plan whose retain: rule expires a copy
// asks on a terminal like --prune, without --prune: "no" changes nothing,
// "yes" deletes it (expired). Applying a saved plan of it (sync --from)
// does not ask: the reviewed file is the approval.
func TestRetentionAsksOnATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs afisync on a pseudo-terminal")
	}
	for _, tc := range []struct {
		answer  string
		code    int
		deleted bool
		want    string
	}{
		{"no", 1, false, "afisync: prune declined; nothing was changed"},
		{"yes", 0, true, "1 expired"},
		{"saved", 0, true, "1 expired"},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			noCI(t)
			sim, url := simEnv(t)
			old, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "shell-1", CreateTime: sim.Now().Add(-48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "shell-2"}); err != nil {
				t.Fatal(err)
			}
			cp, err := sim.AddImage(ec2sim.Image{Region: "us-west-2", AGFI: old.AGFI, Name: "shell-1", SourceID: old.ID, SourceRegion: "us-east-1",
				Tags: map[string]string{"afisync:source": "us-east-1/" + old.ID, "afisync:plan:pty": "pty"}})
			if err != nil {
				t.Fatal(err)
			}
			plan := writePlan(t, "version: 1\nname: pty\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\n  retain: {keep_last: 1}\nafis:\n  - select: {name: \"shell-*\"}\n")
			if tc.answer == "saved" {
				saved := filepath.Join(t.TempDir(), "saved.json")
				if code, _, stderr := runCLI(t, "diff", "--plan", plan, "--endpoint-url", url, "--out", saved); code != exitOK {
					t.Fatalf("diff --out: exit %d\n%s", code, stderr)
				}
				s := startInPTY(t, "sync", "--from", saved, "--endpoint-url", url)
				code, out := s.wait()
				if code != tc.code || !strings.Contains(out, tc.want) || strings.Contains(out, "looking for what it would delete") {
					t.Errorf("sync --from: exit %d, want %d and %q without a question:\n%s", code, tc.code, tc.want, out)
				}
				if _, kept := sim.Image(cp.ID); kept {
					t.Errorf("copy %s still there after sync --from", cp.ID)
				}
				return
			}
			s := startInPTY(t, "sync", "--plan", plan, "--endpoint-url", url)
			if !s.whenAsked() {
				t.Fatalf("a retain: rule on a terminal did not ask:\n%s", s.output())
			}
			if n := mutatingCalls(sim); n != 0 {
				t.Errorf("%d mutating calls before the answer", n)
			}
			io.WriteString(s.ptmx, tc.answer+"\n")
			code, out := s.wait()
			if code != tc.code || !strings.Contains(out, tc.want) || !strings.Contains(out, cp.ID+" in us-west-2") {
				t.Errorf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out)
			}
			if _, kept := sim.Image(cp.ID); kept == tc.deleted {
				t.Errorf("copy %s still there: %v, want %v", cp.ID, kept, !tc.deleted)
			}
		})
	}
}
