// Package simserve serves an ec2sim on a network address the way
// `afisync sim` does: preloaded from a seed file or a saved state, with its
// world autosaved, the client environment printed (and written to an env
// file), and a graceful shutdown. It is the part of the simulator that needs
// more than the standard library (YAML seeds); ec2sim itself stays
// stdlib-only.
package simserve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/internal/atomicfile"
)

// Config says how to serve a simulator.
type Config struct {
	Listen      string        // address to listen on
	StateFile   string        // load the world from it at start (if it exists); save it within a second of each change and on shutdown
	SeedFile    string        // preload AFIs from this YAML file when there is no state
	EnvFile     string        // also write the client environment there; removed on exit
	FPGARegions []string      // for the banner; the first is the clients' default region
	CopyTime    time.Duration // for the banner
	BuildTime   time.Duration // for the banner
	Account     string        // the default account, for the banner
}

// ErrSetup marks an error in the configuration (a bad state or seed file):
// the CLI exits 3 for it.
var ErrSetup = errors.New("simulator setup")

// Run serves sim as c says until ctx is done, printing the banner and
// client environment on stdout and save problems on stderr.
func Run(ctx context.Context, sim *ec2sim.Sim, c Config, stdout, stderr io.Writer) error {
	loaded, seeded, err := prepare(sim, c)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSetup, err)
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	endpoint := "http://" + ln.Addr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "ec2sim listening on %s\n", endpoint)
	fmt.Fprintf(&b, "# FPGA regions: %s; copy time %v, build time %v\n", strings.Join(c.FPGARegions, ", "), c.CopyTime, c.BuildTime)
	switch {
	case loaded:
		fmt.Fprintf(&b, "# state: %d AFIs loaded from %s\n", len(sim.Images("", "")), c.StateFile)
	case c.SeedFile != "":
		fmt.Fprintf(&b, "# seed: %d AFIs loaded from %s\n", seeded, c.SeedFile)
	}
	env := clientEnv(endpoint, c)
	b.WriteString(env)
	if c.EnvFile != "" {
		if err := atomicfile.Write(c.EnvFile, 0o644, func(w io.Writer) error {
			_, err := io.WriteString(w, env)
			return err
		}); err != nil {
			ln.Close()
			return fmt.Errorf("sim: --env-file: %w", err)
		}
		defer os.Remove(c.EnvFile)
		fmt.Fprintf(&b, "# (also in %s)\n", c.EnvFile)
	}
	fmt.Fprint(stdout, b.String())

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stopSaving, saved := make(chan struct{}), make(chan struct{})
	if c.StateFile != "" {
		t := time.NewTicker(StateSaveInterval)
		go func() {
			defer close(saved)
			defer t.Stop()
			Autosave(sim, c.StateFile, t.C, stopSaving, stderr)
		}()
	} else {
		close(saved)
	}
	select {
	case err = <-served:
	case <-ctx.Done():
		err = shutdown(srv, ShutdownGrace)
		<-served
	}
	close(stopSaving)
	<-saved
	if c.StateFile != "" {
		if serr := sim.SaveFile(c.StateFile); serr != nil {
			return serr
		}
		fmt.Fprintf(stderr, "afisync sim: state saved to %s\n", c.StateFile)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sim: %w", err)
	}
	return nil
}

// prepare loads the world from the state file, or else the seed file; a
// new (seeded) world is written to the state file at once: autosave only
// saves changes made after it starts, and a simulator killed before the
// first one must not leave its seed behind.
func prepare(sim *ec2sim.Sim, c Config) (loaded bool, seeded int, err error) {
	if c.StateFile != "" {
		if loaded, err = sim.LoadFile(c.StateFile); err != nil {
			return false, 0, err
		}
	}
	if c.SeedFile != "" && !loaded {
		if seeded, err = LoadSeed(sim, c.SeedFile); err != nil {
			return false, 0, err
		}
	}
	if c.StateFile != "" && !loaded {
		if err := sim.SaveFile(c.StateFile); err != nil {
			return false, 0, err
		}
	}
	return loaded, seeded, nil
}

// clientEnv is the shell environment that points the aws CLI and the AWS
// SDKs at the simulator on endpoint.
func clientEnv(endpoint string, c Config) string {
	region := "us-east-1"
	if len(c.FPGARegions) > 0 {
		region = c.FPGARegions[0]
	}
	var env strings.Builder
	fmt.Fprintf(&env, "# environment for the aws CLI and the AWS SDKs (EC2 and STS):\n")
	fmt.Fprintf(&env, "export AWS_ENDPOINT_URL=%s\n", endpoint)
	fmt.Fprintf(&env, "export AWS_ACCESS_KEY_ID=AKIDEXAMPLE   # account %s; see --accounts\n", c.Account)
	fmt.Fprintf(&env, "export AWS_SECRET_ACCESS_KEY=secret    # not checked\n")
	fmt.Fprintf(&env, "export AWS_REGION=%s AWS_DEFAULT_REGION=%s\n", region, region)
	return env.String()
}

// ShutdownGrace is how long an interrupted simulator lets calls in
// flight finish before it closes every connection.
const ShutdownGrace = time.Second

// shutdown stops srv gracefully, but for at most grace: then it closes every
// connection that is left. Shutdown alone would wait up to 5 s for a
// connection a client opened and has not used yet (the server counts it as
// new, not idle).
func shutdown(srv *http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	srv.SetKeepAlivesEnabled(false)
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return srv.Close()
}

// simSeed is the --seed file: a list of AFIs to preload.
type simSeed struct {
	Images []simSeedImage `yaml:"images"`
}

// simSeedImage is one AFI of a seed file. Only region is required.
type simSeedImage struct {
	ID              string            `yaml:"id"`
	AGFI            string            `yaml:"agfi"`
	Account         string            `yaml:"account"`
	Region          string            `yaml:"region"`
	Name            string            `yaml:"name"`
	Description     string            `yaml:"description"`
	State           string            `yaml:"state"`
	Message         string            `yaml:"message"`
	ShellVersion    string            `yaml:"shell_version"`
	OwnerAlias      string            `yaml:"owner_alias"`
	Tags            map[string]string `yaml:"tags"`
	LoadPermissions []string          `yaml:"load_permissions"`
	Public          bool              `yaml:"public"`
	ProductCodes    []string          `yaml:"product_codes"`
	CreateTime      time.Time         `yaml:"create_time"`
	ReadyIn         time.Duration     `yaml:"ready_in"`
	line            int
}

// LoadSeed reads a seed file strictly and adds its AFIs to sim.
func LoadSeed(sim *ec2sim.Sim, path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var seed simSeed
	if err := dec.Decode(&seed); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	// A second pass over the node tree gives each image its line number.
	if err := yaml.Unmarshal(raw, &doc); err == nil && len(doc.Content) == 1 {
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "images" {
				for j, n := range root.Content[i+1].Content {
					if j < len(seed.Images) {
						seed.Images[j].line = n.Line
					}
				}
			}
		}
	}
	now := sim.Now()
	for _, s := range seed.Images {
		img := ec2sim.Image{
			ID: s.ID, AGFI: s.AGFI, Account: s.Account, Region: s.Region, Name: s.Name,
			Description: s.Description, State: s.State, Message: s.Message, ShellVersion: s.ShellVersion,
			OwnerAlias: s.OwnerAlias, Tags: s.Tags, LoadPermissions: s.LoadPermissions, Public: s.Public,
			ProductCodes: s.ProductCodes, CreateTime: s.CreateTime,
		}
		if s.ReadyIn > 0 {
			img.ReadyAt = now.Add(s.ReadyIn)
			if img.State == "" {
				img.State = ec2sim.StatePending
			}
		}
		if _, err := sim.AddImage(img); err != nil {
			return 0, fmt.Errorf("%s:%d: %w", path, s.line, err)
		}
	}
	return len(seed.Images), nil
}

// StateSaveInterval is how often a served simulator with a state file checks whether the
// world changed and, if so, saves it.
const StateSaveInterval = time.Second

// Autosave saves the simulator's world to path on each tick when it changed
// since the last save, until stop is closed, so that a simulator that is
// killed loses at most the last interval's changes. A failed save is
// reported on w and tried again at the next tick.
func Autosave(sim *ec2sim.Sim, path string, tick <-chan time.Time, stop <-chan struct{}, w io.Writer) {
	last := sim.Changes()
	for {
		select {
		case <-stop:
			return
		case <-tick:
			n := sim.Changes()
			if n == last {
				continue
			}
			if err := sim.SaveFile(path); err != nil {
				fmt.Fprintf(w, "afisync sim: %v\n", err)
				continue
			}
			last = n
		}
	}
}
