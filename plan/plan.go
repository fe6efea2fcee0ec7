// Package plan reads afisync plan files (schema version 1), validates them
// strictly with file:line:col errors, expands them into desired targets, and
// computes the pure difference between those targets and what exists in AWS.
//
// The package does no I/O beyond reading the plan file and makes no AWS call.
package plan

import "time"

// SchemaVersion is the only plan-file version this build understands.
const SchemaVersion = 1

// Management tag keys written on every copy afisync makes. They are how later
// runs recognise their own copies, including pending and failed ones, which
// AWS shows without a global ID.
const (
	TagSource = "afisync:source" // value: <source-region>/<source-afi-id>
	TagPlan   = "afisync:plan"   // value: the plan's name
)

// Plan is a loaded, validated plan with defaults merged into every entry.
type Plan struct {
	Version  int
	Name     string
	Defaults Defaults
	Settings Settings
	AFIs     []Entry
	// File is the name the plan was loaded from ("-" or "<stdin>" for stdin).
	File string
}

// Defaults are the plan-wide values merged into each entry.
type Defaults struct {
	SourceRegion   string
	Regions        []string
	Tags           map[string]string
	CopySourceTags bool
	ShareWith      []string
}

// Settings are executor knobs from the plan; zero means "not set in the plan"
// and command-line flags override them.
type Settings struct {
	Concurrency int
	Retries     int
	Timeout     time.Duration
}

// Entry is one element of the plan's afis list with defaults already applied:
// exactly one of ID and Select is set.
type Entry struct {
	ID             string    // afi-…; empty when Select is set
	Select         *Selector // nil when ID is set
	SourceRegion   string
	Regions        []string // destination regions (never contains SourceRegion)
	Tags           map[string]string
	CopySourceTags bool
	ShareWith      []string
	Name           string // empty: keep the source's name
	Description    string // empty: keep the source's description
	Pos            Pos    // where the entry starts in the plan file
}

// Selector picks every owned, available AFI in the source region whose name
// matches the glob (if set) and that carries all the tags (if set).
type Selector struct {
	Name string
	Tags map[string]string
}

// Pos is a 1-based position in a plan file.
type Pos struct {
	Line, Col int
}

// Target is one desired copy: a source (an AFI, or a selector still to be
// resolved against the source region's inventory) in one destination region,
// with everything the copy must carry.
type Target struct {
	SourceRegion   string
	SourceAFI      string    // empty when Selector is set
	Selector       *Selector // nil for explicit AFIs
	Region         string    // destination region
	Tags           map[string]string
	CopySourceTags bool
	ShareWith      []string
	Name           string
	Description    string
	Entry          int // index of the plan entry this target comes from
}
