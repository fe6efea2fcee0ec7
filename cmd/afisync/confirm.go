package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/plan"
)

// errDeclined ends a sync whose prune the person at the terminal declined.
var errDeclined = errors.New("prune declined; nothing was changed")

// confirmPrune is the question on a terminal of sync --prune, and of a
// sync whose plan has retain: rules: it works out what
// the prune would delete (executor.PreviewPruneAccounts, a dry run), lists it on
// stderr and, when there is something to delete, asks. On "yes" it limits
// the run's prune to what it listed (opts.PruneOnly) and returns nil; any
// other answer, or an interrupt, is an exitFailed error before any
// mutating call.
func confirmPrune(ctx context.Context, c *cli, lanes []executor.Lane, p *plan.Plan, opts *executor.Options) error {
	what := "--prune"
	if !opts.Prune {
		what = "the plan's retain: rules"
	}
	fmt.Fprintln(c.stderr, "afisync: "+what+" on a terminal: looking for what it would delete first (--yes skips the question)")
	set, err := executor.PreviewPruneAccounts(ctx, lanes, p, *opts)
	switch {
	case ctx.Err() != nil:
		return withCode(exitFailed, errors.New("interrupted before the prune question; nothing was changed"))
	case err != nil:
		fmt.Fprintf(c.stderr, "afisync: could not work out what --prune would delete (%v); this run deletes nothing\n", afi.Explain(err))
		opts.PruneOnly = func(string, string) bool { return false }
		return nil
	}
	opts.PruneOnly = set.Allows
	if err := set.Write(c.stderr); err != nil {
		return withCode(exitFailed, err)
	}
	if len(set.Delete) == 0 {
		if set.Empty() {
			fmt.Fprintln(c.stderr, "afisync: --prune finds nothing to delete")
		}
		return nil
	}
	fmt.Fprint(c.stderr, set.Question())
	answer, err := readAnswer(ctx, c.stdin)
	if err != nil {
		fmt.Fprintln(c.stderr)
		return withCode(exitFailed, errors.New("interrupted at the prune question; nothing was changed"))
	}
	if strings.TrimSpace(answer) != "yes" {
		return withCode(exitFailed, errDeclined)
	}
	return nil
}

// readAnswer reads one line from r. Reading a terminal cannot be
// cancelled, so the read runs apart and is left behind when ctx is done
// (an interrupt): then readAnswer returns ctx's error at once. End of input
// is an answer too (whatever was typed before it).
func readAnswer(ctx context.Context, r io.Reader) (string, error) {
	done := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		done <- line
	}()
	select {
	case line := <-done:
		return line, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
