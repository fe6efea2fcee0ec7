// Package plan reads afisync plan files (schema version 1), validates them
// strictly with file:line:col errors, and expands them into the desired
// targets. What those targets need, given what exists in AWS, is package
// reconcile's job.
//
// The package does no I/O beyond reading the plan file and makes no AWS call.
package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the only plan-file version this build understands.
const SchemaVersion = 1

// Management tag keys written on every copy afisync makes. They are how later
// runs recognise their own copies, including pending and failed ones, which
// AWS shows without a global ID.
const (
	TagSource = "afisync:source" // value: <source-region>/<source-afi-id>
	TagPlan   = "afisync:plan"   // value: the plan's name
	// TagBuild marks an AFI afisync built, from its creation on
	// (CreateFpgaImage's TagSpecification): its value is the build's key
	// (reconcile.BuildKey), by which every later run finds it.
	TagBuild = "afisync:build"
)

// SourceKey names a source AFI as "<region>/<afi-id>": the value of the
// TagSource management tag, and the key of a source in reconcile.Inventory.
func SourceKey(region, id string) string { return region + "/" + id }

// GroupAll is the only load-permission group: everyone (public).
const GroupAll = "all"

// Plan is a loaded, validated plan with defaults merged into every entry.
type Plan struct {
	Version int    // schema version; always SchemaVersion once loaded
	Name    string // the plan's name, written on every copy as the TagPlan tag
	// Defaults are the plan-wide Options, as written (empty lists and maps
	// are nil) over the schema's own defaults (copy_source_tags: true). They
	// are kept for reference and for EffectiveYAML; every Entry already
	// carries the merged result.
	Defaults Options
	Settings Settings
	AFIs     []Entry // the afis list, in file order
	// Accounts are the plan's accounts: entries, sorted by name; nil when
	// the plan has no accounts: (every entry uses the command's own
	// credentials).
	Accounts []Account
	// File is the name the plan was loaded from (StdinName for stdin).
	File string
}

// Options are the keys an entry inherits from the plan's defaults when it
// does not write them (see entryKeys in schema.go for how each one merges).
type Options struct {
	SourceRegion   string            // the AFIs' region
	Regions        []string          // destination regions (on an entry, never its SourceRegion)
	Tags           map[string]string // tags on every copy; an entry's are merged over the defaults' (never nil on an entry)
	CopySourceTags bool              // copies carry the source AFI's tags; true when not written
	ShareWith      []string          // account IDs given load permission on every copy
	// ShareWithAccounts are the share_with items that name an account of
	// the plan's accounts: (by name); ForAccount resolves them to IDs.
	ShareWithAccounts []string
	// Account is the name of the plan account whose credentials the
	// entry's copies are made with; "": the command's own credentials
	// (like Terraform's default provider).
	Account string
	// ShareWithGroups are load-permission groups; only "all" (public) exists
	// and it is never implied: it must be written.
	ShareWithGroups  []string
	ExclusiveTags    bool // remove tags from copies that the plan does not list
	ExclusiveSharing bool // remove load permissions that the plan does not list
	// Retain is the retention rule of a select entry (retain:); nil: none.
	Retain *Retain
}

// Settings are executor knobs from the plan; zero means "not set in the plan"
// and command-line flags override them.
type Settings struct {
	Concurrency int           // copies in flight at once (1..256); 0: not set
	Retries     int           // new attempts after a transient failure (0..20); see RetriesSet
	Timeout     time.Duration // time limit of a run (what sync --timeout overrides); 0: not set
	// RetriesSet is true when the plan writes settings.retries, so that an
	// explicit "retries: 0" (never retry) can be told from "not set".
	RetriesSet bool
	// Quota is settings.quota: the AFIs the account may hold per region
	// (what sync --afi-limit overrides); zero: not set.
	Quota Quota
}

// Entry is one element of the plan's afis list with defaults already applied:
// exactly one of ID, Select and Build is set (and Name, with Build). Its Options are the entry's own where
// it writes them, else the defaults' (tags: the entry's merged over the
// defaults'; regions: the defaults' less the entry's source region).
type Entry struct {
	ID     string    // afi-…; empty when Select or Build is set
	Select *Selector // nil unless the entry selects its sources
	Build  *Build    // nil unless the entry builds its source
	Options
	// Name is the copies' name; empty: keep the source's name. With Build,
	// it is also the name of the AFI built.
	Name        string
	Description string // empty: keep the source's description (with Build, also the built AFI's)
	Pos         Pos    // where the entry starts in the plan file
}

// Selector picks every owned, available AFI in the source region whose name
// matches the glob (if set) and that carries all the tags (if set).
type Selector struct {
	Name string            // glob in path.Match syntax; empty: any name
	Tags map[string]string // tags the source must carry, all of them; nil: any tags
}

// String renders a selector the way a plan writes it.
func (s *Selector) String() string {
	var parts []string
	if s.Name != "" {
		parts = append(parts, fmt.Sprintf("name=%q", s.Name))
	}
	keys := make([]string, 0, len(s.Tags))
	for k := range s.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("tag:%s=%q", k, s.Tags[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Build is how an entry's source AFI is built: CreateFpgaImage in the
// source region, from a DCP tarball in S3. A sync builds it at most once
// (see reconcile.BuildKey), then copies it like any source.
type Build struct {
	Input string // s3://bucket/key of the DCP tarball (InputStorageLocation)
	Logs  string // s3://bucket/prefix/ for the build's logs (LogsStorageLocation); empty: none
}

// Pos is a 1-based position in a plan file.
type Pos struct {
	Line, Col int
}

// String renders the position as "LINE:COL".
func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// Target is one desired copy: a source (an AFI, or a selector still to be
// resolved against the source region's inventory) in one destination region,
// with everything the copy must carry.
type Target struct {
	SourceRegion   string
	SourceAFI      string            // empty when Selector is set, or Build is and the build is not found yet
	Selector       *Selector         // nil for explicit AFIs
	Build          *Build            // how the source is built; nil for explicit and selected AFIs
	Region         string            // destination region
	Tags           map[string]string // merged user tags, without management tags
	CopySourceTags bool
	ShareWith      []string
	// ShareWithGroups are load-permission groups the copy is shared with
	// (only "all", which makes it public).
	ShareWithGroups  []string
	ExclusiveTags    bool // remove copy tags the plan does not list (never aws: or afisync: ones)
	ExclusiveSharing bool // remove load permissions the plan does not list
	// Retain is the entry's retention rule (select entries only); nil: none.
	Retain      *Retain
	Name        string // empty: keep the source's name
	Description string // empty: keep the source's description
	Entry       int    // index of the plan entry this target comes from
	// Account is the entry's account name; "": the command's own
	// credentials.
	Account string
}
