package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/afisync/afisync/plan"
)

// execAfisync runs the CLI in-process with stdin and returns the exit code
// and what it wrote to stdout and stderr.
func execAfisync(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code = testCLI(stdin, &out, &errOut).run(context.Background(), args)
	return code, out.String(), errOut.String()
}

const examplePlan = "../../plans/example.yaml"

// exampleSummary is validate's verdict on plans/example.yaml; update it
// when the example changes.
const exampleSummary = `valid plan "fpga-fleet": 4 entries, 8 targets in 5 regions (1 selector, expanded when sync runs)`

func TestValidateExample(t *testing.T) {
	code, stdout, stderr := execAfisync(t, nil, "validate", "--plan", examplePlan)
	if code != exitOK {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitOK, stderr)
	}
	if want := examplePlan + ": " + exampleSummary + "\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
}

// TestValidateAccounts: the summary counts a plan's accounts, and --print
// states them (ID from the role ARN included).
func TestValidateAccounts(t *testing.T) {
	const accountsPlan = "../../testdata/plans/valid/accounts.yaml"
	code, stdout, stderr := execAfisync(t, nil, "validate", "--plan", accountsPlan, "--print")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if want := accountsPlan + `: valid plan "fleet": 3 entries, 6 targets in 2 regions, 4 accounts (1 selector, expanded when sync runs)` + "\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	for _, want := range []string{"accounts:\n  ci:\n    profile: ci-sso\n", "    role_arn: arn:aws:iam::222222222222:role/afisync\n", `    id: "222222222222"`, "account: prod"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--print output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestValidatePrintRoundTrips(t *testing.T) {
	code, stdout, stderr := execAfisync(t, nil, "validate", "--plan", examplePlan, "--print")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, exampleSummary) {
		t.Errorf("with --print the summary goes to stderr; got %q", stderr)
	}
	printed, err := plan.Parse("printed.yaml", []byte(stdout))
	if err != nil {
		t.Fatalf("--print output is not a valid plan: %v\n%s", err, stdout)
	}
	orig, err := plan.Load(examplePlan)
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{cmpopts.IgnoreFields(plan.Plan{}, "File"), cmpopts.IgnoreFields(plan.Entry{}, "Pos"), cmpopts.EquateEmpty()}
	if diff := cmp.Diff(orig, printed, opts); diff != "" {
		t.Errorf("--print output means a different plan (-example +printed):\n%s", diff)
	}
	// The effective plan states the merged values on every entry.
	for _, want := range []string{"source_region: us-west-2\n    regions: [eu-west-1, eu-west-2]", "copy_source_tags: false"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--print output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestValidateStdin(t *testing.T) {
	data, err := os.ReadFile(examplePlan)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := execAfisync(t, bytes.NewReader(data), "validate", "--plan", "-")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if want := plan.StdinName + ": " + exampleSummary + "\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}

	bad := strings.NewReader("version: 1\nname: x\nafis:\n  - id: afi-1\n    regions: [eu-wset-1]\n")
	code, stdout, stderr = execAfisync(t, bad, "validate", "--plan", "-")
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d", code, exitInvalid)
	}
	want := `<stdin>:4:5: afis entry 1 has no source region; add source_region: here or under defaults
<stdin>:4:9: malformed AFI ID "afi-1"; an AFI ID is "afi-" and 17 hexadecimal digits, like afi-0123456789abcdef0
<stdin>:5:15: unknown region "eu-wset-1"; did you mean "eu-west-1"?
afisync: <stdin> is not a valid plan: 3 problems; nothing was called
`
	if diff := cmp.Diff(want, stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
}

// TestValidateInvalidPlans runs every invalid plan under testdata through
// the CLI: exit 3, nothing on stdout, and on stderr exactly the golden
// errors (FILE:LINE:COL lines) followed by one summary line.
func TestValidateInvalidPlans(t *testing.T) {
	files, err := filepath.Glob("../../testdata/plans/invalid/*.yaml")
	if err != nil || len(files) < 20 {
		t.Fatalf("found %d invalid plans (err %v)", len(files), err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			code, stdout, stderr := execAfisync(t, nil, "validate", "--plan", path)
			if code != exitInvalid {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInvalid, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			golden, err := os.ReadFile(strings.TrimSuffix(path, ".yaml") + ".golden")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			if !regexp.MustCompile(`^afisync: .* is not a valid plan: \d+ problems?; nothing was called$`).MatchString(last) {
				t.Errorf("last stderr line = %q", last)
			}
			pos := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+:\d+: \S`)
			for _, l := range lines[:len(lines)-1] {
				if !pos.MatchString(l) {
					t.Errorf("stderr line lacks FILE:LINE:COL: %q", l)
				}
			}
			got := strings.Join(lines[:len(lines)-1], "\n") + "\n"
			want := strings.ReplaceAll(string(golden), "testdata/plans/invalid/", "../../testdata/plans/invalid/")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors differ from %s.golden (-want +got):\n%s", strings.TrimSuffix(filepath.Base(path), ".yaml"), diff)
			}
		})
	}
}

func TestValidateCommandLineErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string // on stderr
	}{
		"no --plan":     {[]string{"validate"}, "--plan is required"},
		"missing file":  {[]string{"validate", "--plan", "does-not-exist.yaml"}, "cannot read the plan: open does-not-exist.yaml"},
		"directory":     {[]string{"validate", "--plan", "."}, "cannot read the plan"},
		"extra arg":     {[]string{"validate", "--plan", examplePlan, "extra"}, `unknown command "extra"`},
		"unknown flag":  {[]string{"validate", "--plann", examplePlan}, "unknown flag: --plann"},
		"flag no value": {[]string{"validate", "--plan"}, "flag needs an argument"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := execAfisync(t, nil, tc.args...)
			if code != exitInvalid {
				t.Errorf("exit %d, want %d", code, exitInvalid)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 entries", 1: "1 entry", 2: "2 entries"} {
		if got := plural(n, "entry"); got != want {
			t.Errorf("plural(%d, entry) = %q, want %q", n, got, want)
		}
	}
	if got := plural(3, "region"); got != "3 regions" {
		t.Errorf("plural(3, region) = %q", got)
	}
}
