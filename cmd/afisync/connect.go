package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/internal/simenv"
	"github.com/afisync/afisync/plan"
)

// connect returns the AWS client a command uses: the standard AWS chain with
// the global flags or, with --simulate, an in-process simulator seeded with
// the plan's sources (opts is adjusted for it). close releases what connect
// started; it is never nil.
func connect(ctx context.Context, c *cli, p *plan.Plan, opts *executor.Options) (client *afi.Client, close func(), err error) {
	close = func() {}
	cfg := afi.Config{Profile: c.profile, Region: c.region, EndpointURL: c.endpointURL}
	if c.simulate {
		env, err := simenv.Start(p)
		if err != nil {
			return nil, close, err
		}
		close = func() { env.Close() }
		fmt.Fprintf(c.stderr, "*** SIMULATED: talking to an in-process EC2 simulator at %s, not to AWS. Nothing real is copied. ***\n", env.Endpoint)
		cfg = env.Config()
		opts.Simulated = true
		opts.PollInterval = simenv.PollInterval
	}
	client, err = afi.New(ctx, cfg)
	if err != nil {
		close()
		return nil, func() {}, err
	}
	return client, close, nil
}

// connectExitCode is the exit status for an error from connect: the
// command line's (3) for a configuration the user must fix, such as an
// unknown --region or profile; else 1.
func connectExitCode(err error) int {
	if errors.Is(err, afi.ErrInvalidConfig) {
		return exitInvalid
	}
	return exitFailed
}
