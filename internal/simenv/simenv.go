// Package simenv starts the in-process EC2 simulator behind `--simulate`:
// an ec2sim on a loopback port, seeded with a plan's sources, and the AWS
// configuration that points afisync at it.
package simenv

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/plan"
)

// Simulated runs use short copies and builds so that `sync --simulate
// --wait` finishes in seconds, and poll accordingly.
const (
	CopyTime     = 3 * time.Second
	BuildTime    = 6 * time.Second
	Jitter       = 0.5
	PollInterval = 500 * time.Millisecond
)

// Env is a running simulator.
type Env struct {
	Sim      *ec2sim.Sim
	Endpoint string // http://127.0.0.1:PORT
	// Accounts are the simulated IDs of the plan's accounts, by name:
	// the account's id: (or its role's account) when the plan gives one,
	// else one made up (SimulatedAccountID).
	Accounts map[string]string
	srv      *http.Server
	served   chan struct{} // closed when Serve has returned
}

// Start serves a new simulator on a loopback port and seeds it with every
// explicit source AFI of p (available, owned by the caller) and, for each
// selector, one AFI that it matches. Builds take BuildTime.
func Start(p *plan.Plan) (*Env, error) {
	ids := AccountIDs(p)
	keys := map[string]string{}
	for name, id := range ids {
		keys[AccessKey(name)] = id
	}
	sim := ec2sim.New(ec2sim.Options{CopyTime: CopyTime, BuildTime: BuildTime, Jitter: Jitter, Seed: 1, Accounts: keys})
	if err := seed(sim, p, ids); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the simulator: %w", err)
	}
	e := &Env{Sim: sim, Accounts: ids, Endpoint: "http://" + ln.Addr().String(), srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}, served: make(chan struct{})}
	go func() {
		defer close(e.served)
		if err := e.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return e, nil
}

// Config returns the AWS configuration that sends every call to the
// simulator with static credentials.
func (e *Env) Config() afi.Config {
	return afi.Config{
		Region:      "us-east-1",
		EndpointURL: e.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("AKIASIMULATED", "simulated", ""),
	}
}

// AccountConfig is the configuration of plan account a in the simulator,
// from base (Config's): an account with a profile signs with the
// simulated access key of its own (AccessKey), which the simulator maps to
// its ID; an account with a role assumes it through the simulator's STS
// with base's credentials. No profile is read.
func (e *Env) AccountConfig(base afi.Config, a plan.Account) afi.Config {
	c := afi.AccountConfig(base, a)
	c.Profile, c.SourceProfile = "", ""
	c.Credentials = base.Credentials
	if a.RoleARN == "" {
		c.Credentials = credentials.NewStaticCredentialsProvider(AccessKey(a.Name), "simulated", "")
	}
	return c
}

// AccessKey is the simulated access key ID of plan account name.
func AccessKey(name string) string {
	return "AKIASIM" + strings.ToUpper(hex.EncodeToString([]byte(name)))
}

// AccountIDs are the simulated IDs of p's accounts, by name: each
// account's ID when the plan knows it, else SimulatedAccountID of its
// place among the accounts.
func AccountIDs(p *plan.Plan) map[string]string {
	ids := map[string]string{}
	for i, a := range p.Accounts {
		ids[a.Name] = a.ID
		if a.ID == "" {
			ids[a.Name] = SimulatedAccountID(i)
		}
	}
	return ids
}

// SimulatedAccountID is the made-up ID of the i-th account (from 0) of a
// plan whose accounts: entry gives no ID: 100000000001, 100000000002, ….
func SimulatedAccountID(i int) string { return fmt.Sprintf("%012d", 100000000001+i) }

// Close stops the simulator at once: it closes the listener and every
// connection, idle or not, and returns when the server has stopped. A run
// closes the simulator after it has reported, when none of its calls is in
// flight, so there is nothing to wait for. (http.Server.Shutdown would wait
// up to 5 s for a connection the SDK opened and never used: the server
// counts a connection that has sent nothing as new, not idle, for its first
// 5 seconds.)
func (e *Env) Close() error {
	err := e.srv.Close()
	<-e.served
	return err
}

// Seed adds p's sources to sim: each explicit source AFI, available and
// owned by its entry's account (the simulator's default account for an
// entry without account:), and one AFI matching each selector. Builds are not seeded: the sync makes them.
func Seed(sim *ec2sim.Sim, p *plan.Plan) error { return seed(sim, p, AccountIDs(p)) }

// seed is Seed with the simulated accounts' IDs: each source is owned by
// its entry's account.
func seed(sim *ec2sim.Sim, p *plan.Plan, ids map[string]string) error {
	seen := map[string]bool{}
	for i, e := range p.AFIs {
		img := ec2sim.Image{Region: e.SourceRegion, State: "available", Account: ids[e.Account]}
		switch {
		case e.Build != nil:
			continue
		case e.ID != "":
			if seen[plan.SourceKey(e.SourceRegion, e.ID)] {
				continue
			}
			seen[plan.SourceKey(e.SourceRegion, e.ID)] = true
			img.ID = e.ID
			img.Name = e.Name
			if img.Name == "" {
				img.Name = "simulated-" + e.ID
			}
			img.Description = e.Description
		case e.Select != nil:
			img.Name = strings.NewReplacer("*", "sim", "?", "s").Replace(e.Select.Name)
			if img.Name == "" {
				img.Name = fmt.Sprintf("simulated-selector-%d", i+1)
			}
			img.Tags = map[string]string{}
			for k, v := range e.Select.Tags {
				img.Tags[k] = v
			}
		}
		if _, err := sim.AddImage(img); err != nil {
			return fmt.Errorf("seed the simulator with %s: %w", img.ID, err)
		}
	}
	return nil
}
