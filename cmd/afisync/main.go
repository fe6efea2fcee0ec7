// Command afisync keeps Amazon FPGA Images (AFIs) present, tagged and shared in
// every AWS region a YAML plan asks for.
//
// The command only wires flags to library calls; every decision lives in the
// library packages: plan (the plan file), reconcile (what each target needs),
// executor (running it), outcome (the report, notifications, metrics, CI
// outputs and exit status after a run) and ec2sim.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/afisync/afisync/executor"
)

func main() {
	os.Exit(runWithSignals(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Exit))
}

// runWithSignals is run with SIGINT and SIGTERM wired to stopOnSignals.
func runWithSignals(args []string, stdin io.Reader, stdout, stderr io.Writer, exit func(int)) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go stopOnSignals(sigs, cancel, stderr, exit)
	return run(ctx, args, stdin, stdout, stderr)
}

// stopOnSignals stops the run on the first SIGINT or SIGTERM — calls in
// flight get executor.DefaultStopGrace, then the report is written and the
// exit status is 1 — and exits at once, with status 1 and no report, on the
// second.
func stopOnSignals(sigs <-chan os.Signal, stop func(), stderr io.Writer, exit func(int)) {
	s, ok := <-sigs
	if !ok {
		return
	}
	fmt.Fprintf(stderr, "afisync: %v: stopping; calls in flight get up to %s (%v again exits at once)\n",
		s, executor.DefaultStopGrace, s)
	stop()
	if s, ok = <-sigs; !ok {
		return
	}
	fmt.Fprintf(stderr, "afisync: %v again: exiting now, without a report\n", s)
	exit(exitFailed)
}
