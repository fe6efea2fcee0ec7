package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/notify"
)

// Exit codes, as documented in the README and docs/design.md.
const (
	exitOK      = 0 // every target in its desired state
	exitFailed  = 1 // something failed, was skipped, timed out or was interrupted
	exitChanges = 2 // diff / sync --dry-run with --detailed-exitcode: changes pending
	exitInvalid = 3 // the plan or the command line is invalid; nothing was called
)

// exitError carries an exit code out of a command's RunE. A nil err means the
// command has already printed everything it has to say.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that run returns code. A nil err means "exit silently".
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// quiet drops the message of an invalid-plan error: its problems and
// summary are already printed.
func quiet(err error) error {
	var ee *exitError
	var pe *planInvalidError
	if errors.As(err, &ee) && errors.As(err, &pe) {
		return withCode(ee.code, nil)
	}
	return err
}

// cli holds what every subcommand shares: its standard streams and the global
// flags.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	profile     string
	region      string
	endpointURL string
	simulate    bool
	logLevel    string
	logFormat   string
	noColor     bool

	// notify holds the notifier settings no flag sets (retries and their
	// backoff; zero: notify's defaults). Tests shorten the waits.
	notify notify.Config
	// clock is the runs' clock (nil: real time). Tests pass one that moves
	// a simulator's manual clock on instead of sleeping.
	clock executor.Clock
}

// run executes afisync with args (without the program name) and returns the
// process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return (&cli{stdin: stdin, stdout: stdout, stderr: stderr}).run(ctx, args)
}

// run executes afisync with args on c's streams and settings, and returns
// the process exit code.
func (c *cli) run(ctx context.Context, args []string) int {
	stdin, stdout, stderr := c.stdin, c.stdout, c.stderr
	root := newRootCmd(c)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "afisync: %v\n", ee.err)
		}
		return ee.code
	}
	// Anything cobra reports itself (unknown command or flag, bad flag value,
	// wrong number of arguments) is a command-line error.
	fmt.Fprintf(stderr, "afisync: %v\nRun 'afisync --help' for usage.\n", err)
	return exitInvalid
}

func newRootCmd(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "afisync",
		Short: "Replicate Amazon FPGA Images across AWS regions from a declarative plan",
		Long: `afisync keeps Amazon FPGA Images (AFIs) present, tagged and shared in every
AWS region a YAML plan asks for. It compares the plan with DescribeFpgaImages,
copies what is missing with CopyFpgaImage, waits, and prints a report.

Exit codes: 0 success; 1 something failed, was skipped or timed out;
2 changes pending (diff --detailed-exitcode); 3 invalid plan or command line.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(), // adds --version
	}
	root.SetVersionTemplate("afisync {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&c.profile, "profile", "", "AWS shared-config profile (default: the standard AWS chain)")
	pf.StringVar(&c.region, "region", "", "AWS region for calls that need one (default: the standard AWS chain)")
	pf.StringVar(&c.endpointURL, "endpoint-url", "", "send every AWS call (EC2, STS) to this URL, like AWS_ENDPOINT_URL")
	pf.BoolVar(&c.simulate, "simulate", false, "run against an in-process EC2 simulator instead of AWS")
	pf.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&c.logFormat, "log-format", "text", "log format on stderr: text or json")
	pf.BoolVar(&c.noColor, "no-color", false, "never colour output (also when NO_COLOR is set; colour is only used on terminals)")

	root.AddCommand(
		newVersionCmd(c),
		newValidateCmd(c),
		newDiffCmd(c),
		newSyncCmd(c),
		newPreflightCmd(c),
		newImportCmd(c),
		newShowCmd(c),
		newSimCmd(c),
		newManCmd(c),
	)
	return root
}
