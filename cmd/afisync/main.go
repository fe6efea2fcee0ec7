// Command afisync keeps Amazon FPGA Images (AFIs) present, tagged and shared in
// every AWS region a YAML plan asks for.
//
// The command only wires flags to library calls; every decision lives in the
// plan, executor and ec2sim packages.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
