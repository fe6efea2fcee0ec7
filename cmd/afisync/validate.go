package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/plan"
)

func newValidateCmd(c *cli) *cobra.Command {
	var (
		planFile  string
		printPlan bool
	)
	cmd := &cobra.Command{
		Use:   "validate --plan FILE [--print]",
		Short: "Check a plan file offline; optionally print the effective plan",
		Long: `validate reads a plan file and checks it strictly: unknown keys, wrong types,
malformed AFI IDs, regions, account IDs and role ARNs, unknown account names,
duplicates, and empty target sets.
Every problem is printed to stderr as FILE:LINE:COL: what is wrong; what would
be right. It makes no AWS call and needs no credentials.

A valid plan prints a one-line summary and exits 0; --print instead writes the
effective plan (defaults merged into every entry) to stdout as YAML, which is
itself a valid plan, and the summary to stderr. An invalid plan exits 3.`,
		Example: `  afisync validate --plan plans/example.yaml
  afisync validate --plan plans/example.yaml --print
  cat plan.yaml | afisync validate --plan -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := loadPlanFlag(cmd.Context(), c, planFile)
			if err != nil {
				return quiet(err)
			}
			summary := planSummary(p)
			if !printPlan {
				fmt.Fprintln(c.stdout, summary)
				return nil
			}
			out, err := p.EffectiveYAML()
			if err != nil {
				return withCode(exitFailed, err)
			}
			if _, err := c.stdout.Write(out); err != nil {
				return withCode(exitFailed, err)
			}
			fmt.Fprintln(c.stderr, summary)
			return nil
		},
	}
	cmd.Flags().StringVar(&planFile, "plan", "", `plan file to check ("-" reads standard input)`)
	cmd.Flags().BoolVar(&printPlan, "print", false, "print the effective plan (defaults applied) as YAML to stdout")
	return cmd
}

// loadPlanFlag loads the plan named by a --plan flag ("-" reads the CLI's
// standard input). An invalid plan has its problems printed to stderr, one
// per line, and comes back as an exitInvalid error with nothing more to
// print; a missing flag or unreadable file is an exitInvalid error too.
//
// Reading stops when ctx is done (an interrupt), even when the plan comes
// from a pipe or FIFO that nobody writes to: that is an exitFailed error.
func loadPlanFlag(ctx context.Context, c *cli, path string) (*plan.Plan, error) {
	if path == "" {
		return nil, withCode(exitInvalid, errors.New(`--plan is required: name the plan file, or "-" to read it from standard input`))
	}
	type loaded struct {
		p   *plan.Plan
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		// Opening a FIFO blocks until a writer comes, and reading a pipe
		// until it is closed; neither can be cancelled, so the reader
		// runs apart and is left behind on an interrupt.
		var l loaded
		if path == "-" {
			l.p, l.err = plan.Read(plan.StdinName, c.stdin)
		} else {
			l.p, l.err = plan.Load(path)
		}
		done <- l
	}()
	var l loaded
	select {
	case l = <-done:
	case <-ctx.Done():
		name := path
		if path == "-" {
			name = "standard input"
		}
		return nil, withCode(exitFailed, fmt.Errorf("interrupted while reading the plan from %s", name))
	}
	var errs *plan.Errors
	switch {
	case errors.As(l.err, &errs):
		writePlanErrors(c.stderr, errs)
		return nil, withCode(exitInvalid, &planInvalidError{errs})
	case l.err != nil:
		return nil, withCode(exitInvalid, fmt.Errorf("cannot read the plan: %w", l.err))
	}
	return l.p, nil
}

// planInvalidError is an invalid plan whose problems have been printed; its
// text is the summary line, for reports.
type planInvalidError struct{ errs *plan.Errors }

func (e *planInvalidError) Error() string {
	return fmt.Sprintf("%s is not a valid plan: %s", e.errs.List[0].File, plural(e.errs.Len(), "problem"))
}

// writePlanErrors prints every problem on its own FILE:LINE:COL line, the
// form editors and CI annotators pick up, then a count.
func writePlanErrors(w io.Writer, errs *plan.Errors) {
	for _, e := range errs.List {
		fmt.Fprintln(w, e.Error())
	}
	file := errs.List[0].File
	fmt.Fprintf(w, "afisync: %s is not a valid plan: %s; nothing was called\n", file, plural(errs.Len(), "problem"))
}

// planSummary is validate's one-line verdict on a valid plan.
func planSummary(p *plan.Plan) string {
	targets := p.Targets()
	regions := map[string]bool{}
	for _, t := range targets {
		regions[t.Region] = true
	}
	selectors, builds := 0, 0
	for _, e := range p.AFIs {
		switch {
		case e.Select != nil:
			selectors++
		case e.Build != nil:
			builds++
		}
	}
	s := fmt.Sprintf("%s: valid plan %q: %s, %s in %s", p.File, p.Name,
		plural(len(p.AFIs), "entry"), plural(len(targets), "target"), plural(len(regions), "region"))
	if len(p.Accounts) > 0 {
		s += ", " + plural(len(p.Accounts), "account")
	}
	var notes []string
	if selectors > 0 {
		notes = append(notes, fmt.Sprintf("%s, expanded when sync runs", plural(selectors, "selector")))
	}
	if builds > 0 {
		notes = append(notes, fmt.Sprintf("%s, made by the first sync", plural(builds, "build")))
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, "; ") + ")"
	}
	return s
}

// plural writes "1 entry", "2 entries", "3 targets".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	if len(noun) > 1 && noun[len(noun)-1] == 'y' {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
