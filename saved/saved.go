// Package saved reads and writes saved plans: what `afisync diff --out FILE`
// decided, for `afisync sync --from FILE` to apply exactly, after review.
//
// A saved plan is a JSON document (format "afisync-saved-plan", version 1)
// holding the effective plan, the account, the run settings that shape the
// decisions, and each decision with the observed state it rests on
// (reconcile.Decision). Applying it re-reads the world and refuses, with
// nothing changed, when any decision or its basis differs: the plan is
// stale. The format is documented in docs/saved-plans.md.
package saved

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/afisync/afisync/internal/atomicfile"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// Format and Version identify a saved plan. A later version may add fields;
// one that changes their meaning gets a new Version, which this build
// refuses by name.
const (
	Format  = "afisync-saved-plan"
	Version = 1
)

// File is a saved plan.
type File struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	// Afisync is the version of afisync that made it.
	Afisync string `json:"afisync_version,omitempty"`
	// PlanFile is where the plan was read from; PlanYAML is the effective
	// plan (defaults merged), itself a valid plan file: what --from applies.
	PlanFile string   `json:"plan_file"`
	PlanName string   `json:"plan_name"`
	PlanYAML string   `json:"plan_yaml"`
	Account  string   `json:"account"`
	Settings Settings `json:"settings"`
	// Decisions are the diff's decisions, sorted by target.
	Decisions []reconcile.Decision `json:"decisions"`
	// Accounts are, for a plan with accounts:, each account's ID and
	// decisions, sorted by name (Account is then empty and Decisions
	// empty).
	Accounts []Account `json:"accounts,omitempty"`
}

// Account is one account's part of a saved plan with accounts:.
type Account struct {
	Name      string               `json:"name"` // its name under the plan's accounts: ("" for the command's own credentials)
	ID        string               `json:"id"`   // the 12-digit ID it was made in
	Decisions []reconcile.Decision `json:"decisions"`
}

// Settings are the run settings that shape decisions; --from applies them
// as saved.
type Settings struct {
	Retries     int  `json:"retries"`
	Prune       bool `json:"prune,omitempty"`
	PrunePublic bool `json:"prune_public,omitempty"`
	Refresh     bool `json:"refresh,omitempty"`
}

// New makes a saved plan of p's decisions in account.
func New(p *plan.Plan, account string, s Settings, ds []reconcile.Decision, now time.Time, version string) (*File, error) {
	y, err := p.EffectiveYAML()
	if err != nil {
		return nil, err
	}
	if ds == nil {
		ds = []reconcile.Decision{}
	}
	return &File{Format: Format, Version: Version, CreatedAt: now.UTC(), Afisync: version, PlanFile: p.File, PlanName: p.Name,
		PlanYAML: string(y), Account: account, Settings: s, Decisions: ds}, nil
}

// Write writes f to path atomically, readable by its owner only (a plan
// names accounts and AFIs).
func (f *File) Write(path string) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	})
}

// Read reads a saved plan and checks that this build understands it.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is not a saved plan: %w", path, err)
	}
	switch {
	case f.Format != Format:
		return nil, fmt.Errorf("%s is not a saved plan (format %q, want %q): make one with afisync diff --out", path, f.Format, Format)
	case f.Version > Version:
		return nil, fmt.Errorf("%s is a version %d saved plan; this afisync reads version %d: upgrade afisync", path, f.Version, Version)
	case f.Version < 1:
		return nil, fmt.Errorf("%s has no version", path)
	}
	return &f, nil
}

// Plan parses the saved effective plan.
func (f *File) Plan() (*plan.Plan, error) {
	p, err := plan.Parse(f.PlanFile+" (saved)", []byte(f.PlanYAML))
	var errs *plan.Errors
	if errors.As(err, &errs) {
		return nil, fmt.Errorf("the saved plan's plan is invalid: %v", errs.List[0])
	}
	return p, err
}
