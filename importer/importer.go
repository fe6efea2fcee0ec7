// Package importer writes a plan for AFIs that exist today: the AFIs an
// account owns in one region, each with the regions where a copy of it (the
// same AGFI) already exists, and the tags, name, description and sharing the
// copies agree on. It is `afisync import`.
//
// Gather takes the inventory (one DescribeRegions, one paginated
// DescribeFpgaImages per enabled region, one DescribeFpgaImageAttribute per
// copy found); Build is pure: from that inventory to a commented plan that
// plan.Parse accepts and whose sync copies nothing. Which copy of a source
// counts in a region is what reconcile.Diff decides, so the plan describes
// exactly the copies a sync of it adopts.
//
// Several accounts (import --account, --accounts): GatherAccounts takes
// each account's inventory with its own credentials, and BuildAccounts
// writes one plan with accounts:, account: on every entry and shares
// between the accounts by name, each account's entries verified against
// its own inventory as plan.ForAccount hands them to a sync.
package importer

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/afisync/afisync/internal/awsid"
	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// Options say what to import.
type Options struct {
	// SourceRegion is where the source AFIs are (defaults.source_region).
	SourceRegion string
	// Name is the plan's name: the claim a sync of it puts on every copy.
	Name string
	// SelectName, when set, imports only the AFIs whose name matches this
	// glob (path.Match syntax, as in a plan's select.name).
	SelectName string
	// Tags go into defaults.tags: a sync of the plan puts them on every
	// copy.
	Tags map[string]string
	// Command is the command line that wrote the plan, quoted in its header
	// comment ("": not quoted).
	Command string
}

// Limits of a plan (the README's plan reference).
const (
	maxEntries   = 1000
	maxPlanTags  = 48 // tags on a copy after merging (AWS's 50, less afisync's 2)
	maxShareWith = 100
	maxTextLen   = 256 // plan name, copy name, description
)

// Check reports what is wrong with the options before any AWS call: the
// same rules a plan applies to its name, source region, selector glob and
// tags.
func (o Options) Check() error {
	if o.SourceRegion == "" {
		return errors.New("--source-region is required: the region whose AFIs are the sources")
	}
	if err := plan.RegionError(o.SourceRegion); err != nil {
		return fmt.Errorf("--source-region: %w", err)
	}
	if o.Name == "" {
		return errors.New("--name is required: the plan's name, which its sync writes on every copy as a claim")
	}
	if why := textProblem(o.Name, maxTextLen); why != "" {
		return fmt.Errorf("--name: the plan name %s", why)
	}
	if o.SelectName != "" {
		if _, err := path.Match(o.SelectName, ""); err != nil {
			return fmt.Errorf("--select-name %q: malformed glob (path.Match syntax: * ? [abc])", o.SelectName)
		}
	}
	for _, k := range sortedKeys(o.Tags) {
		switch {
		case k == "":
			return errors.New("--tags: empty tag key (write key=value)")
		case plan.ReservedTag(k):
			return fmt.Errorf("--tags %q: the aws: and afisync: prefixes are reserved", k)
		case textProblem(k, awsid.MaxTagKeyLen) != "":
			return fmt.Errorf("--tags: tag key %q %s", k, textProblem(k, awsid.MaxTagKeyLen))
		case o.Tags[k] != "" && textProblem(o.Tags[k], awsid.MaxTagValueLen) != "":
			return fmt.Errorf("--tags %s: the value %s", k, textProblem(o.Tags[k], awsid.MaxTagValueLen))
		}
	}
	if len(o.Tags) > maxPlanTags {
		return fmt.Errorf("--tags: %d tags, a plan puts at most %d on a copy", len(o.Tags), maxPlanTags)
	}
	return nil
}

// textProblem says why s cannot be a plan's free-text value (a name, a
// description, a tag key or value) of at most max characters: "" when it
// can.
func textProblem(s string, max int) string {
	switch {
	case s == "":
		return "is empty"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("is longer than %d characters", max)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("contains the non-printable character %U", r)
		}
	}
	return ""
}

// Result is an imported plan.
type Result struct {
	// YAML is the plan, with comments saying where each entry came from.
	YAML []byte
	// Plan is YAML as plan.Parse reads it.
	Plan *plan.Plan
	// Entries counts the AFIs imported, Copies their copies, Regions the
	// destination regions.
	Entries, Copies, Regions int
	// Left lists the source AFIs not imported, each with why.
	Left []string
	// Changes counts the copies whose sync changes more than its claim
	// (where copies disagree, or --tags adds tags); the plan's comments
	// say what.
	Changes int
	// Accounts are the names of the plan's accounts (BuildAccounts; nil
	// for Build).
	Accounts []string
	// LeftAccounts lists the accounts BuildAccounts left out of the plan,
	// each with why: no AFI to import, and no other account shares with
	// it.
	LeftAccounts []string
}

// ErrNothing is Build's error when no AFI can be imported.
var ErrNothing = errors.New("nothing to import")

// source is one AFI to import and what its copies agree on.
type source struct {
	im     *reconcile.Image
	copies []copyOf // by region
	// The entry's settings.
	name, description string
	tags              map[string]string
	copySourceTags    bool
	shareWith         []string // IDs; in BuildAccounts, then the names of the import's accounts
	public            bool
	account           string   // the entry's account: in BuildAccounts
	notes             []string // comment lines about the entry
}

// copyOf is the copy of a source that counts in one region: the one
// reconcile.Diff finds.
type copyOf struct {
	region string
	im     *reconcile.Image
	perms  *reconcile.LoadPermissions // nil: not looked up (pending copies)
}

// candidates returns the AFIs that may be sources: those the account owns
// in the source region that afisync did not make (no afisync:source tag) and
// whose name matches the glob, by name and then ID. Those that cannot be
// sources (not available; a second AFI with an AGFI already seen) are in
// left.
func candidates(inv *reconcile.Inventory, o Options) (srcs []*reconcile.Image, left []string) {
	owned := inv.Owned[o.SourceRegion]
	var list []*reconcile.Image
	for i := range owned {
		im := &owned[i]
		if im.Tags[plan.TagSource] != "" {
			continue // a copy afisync made of an AFI elsewhere
		}
		if o.SelectName != "" {
			if ok, _ := path.Match(o.SelectName, im.Name); !ok {
				continue
			}
		}
		list = append(list, im)
	}
	// The oldest AFI of an AGFI is its source; later ones are copies.
	sort.Slice(list, func(a, b int) bool {
		if !list[a].CreateTime.Equal(list[b].CreateTime) {
			return list[a].CreateTime.Before(list[b].CreateTime)
		}
		return list[a].ID < list[b].ID
	})
	firstOf := map[string]string{}
	for _, im := range list {
		switch {
		case im.State != reconcile.StateAvailable:
			left = append(left, fmt.Sprintf("%s %q: %s, not available", im.ID, im.Name, im.State))
		case firstOf[im.AGFI] != "":
			left = append(left, fmt.Sprintf("%s %q: a copy of %s in the same region (same AGFI)", im.ID, im.Name, firstOf[im.AGFI]))
		default:
			firstOf[im.AGFI] = im.ID
			srcs = append(srcs, im)
		}
	}
	sort.Slice(srcs, func(a, b int) bool {
		if srcs[a].Name != srcs[b].Name {
			return srcs[a].Name < srcs[b].Name
		}
		return srcs[a].ID < srcs[b].ID
	})
	return srcs, left
}

// destinations are the regions other than the source region whose AFIs
// were listed, sorted.
func destinations(inv *reconcile.Inventory, o Options) []string {
	var rs []string
	for r := range inv.Owned {
		if _, down := inv.Unlisted[r]; r != o.SourceRegion && !down && plan.Partition(r) == plan.Partition(o.SourceRegion) {
			rs = append(rs, r)
		}
	}
	sort.Strings(rs)
	return rs
}

// findCopies asks reconcile.Diff which copy of each source counts in each
// destination, exactly as a sync of the imported plan will: by the
// afisync:source tag first (any plan's copy), then by AGFI. Regions where
// the source has only failed copies are not destinations (a sync would copy
// there again); the reasons go into the source's notes.
func findCopies(inv *reconcile.Inventory, o Options, srcs []*reconcile.Image) []*source {
	dests := destinations(inv, o)
	var targets []plan.Target
	for _, im := range srcs {
		for _, r := range dests {
			targets = append(targets, plan.Target{SourceRegion: o.SourceRegion, SourceAFI: im.ID, Region: r, Tags: map[string]string{}})
		}
	}
	d := reconcile.Diff(targets, inv, reconcile.DiffOptions{PlanName: o.Name})
	byID := map[string]*source{}
	out := make([]*source, len(srcs))
	for i, im := range srcs {
		out[i] = &source{im: im}
		byID[im.ID] = out[i]
	}
	for _, c := range d.Changes {
		s := byID[c.Target.SourceAFI]
		switch c.Action {
		case reconcile.ActionNone, reconcile.ActionUpdate, reconcile.ActionAdopt, reconcile.ActionWait:
			cp := copyOf{region: c.Target.Region, im: c.Copy}
			if c.Copy.State == reconcile.StateAvailable {
				cp.perms = inv.LoadPermissions[plan.SourceKey(c.Copy.Region, c.Copy.ID)]
			}
			s.copies = append(s.copies, cp)
		case reconcile.ActionRetry, reconcile.ActionFail:
			s.notes = append(s.notes, fmt.Sprintf("%s left out: its only copies there failed (%s)", c.Target.Region, strings.Join(c.Failed, ", ")))
		}
	}
	return out
}

// NeedPermissions lists the copies whose load permissions Build needs
// (DescribeFpgaImageAttribute): the available copy that counts for each
// source in each region. Gather looks them up into
// inv.LoadPermissions.
func NeedPermissions(inv *reconcile.Inventory, o Options) []reconcile.Image {
	srcs, _ := candidates(inv, o)
	var out []reconcile.Image
	for _, s := range findCopies(inv, o, srcs) {
		for _, c := range s.copies {
			if c.im.State == reconcile.StateAvailable && inv.LoadPermissions[plan.SourceKey(c.region, c.im.ID)] == nil {
				out = append(out, *c.im)
			}
		}
	}
	return out
}

// Build writes the plan for inv: one entry per source AFI in
// o.SourceRegion that has at least one copy elsewhere, listing the regions
// of its copies and, as the entry's settings, what all its available
// copies agree on: tags with the same value (without aws: and afisync:
// ones; the source's own tags through copy_source_tags when every copy
// carries them), a name or description other than the source's, accounts
// every copy is shared with, and public sharing when every copy is public.
// Settings every entry shares move to defaults. The plan's comments say
// where each entry came from, which AFIs were left out and why, and what a
// sync of it would change beyond claiming the copies.
//
// Build is pure. It checks its own output with plan.Parse and then
// reconcile.Diff: a sync of the plan copies nothing.
func Build(inv *reconcile.Inventory, o Options) (*Result, error) {
	return build([]*part{{inv: inv}}, o)
}

// part is one account's share of an import: the account (Name "" in a
// single-account import, which writes no accounts:), its inventory, its
// entries and the AFIs left out.
type part struct {
	acct    plan.Account
	inv     *reconcile.Inventory
	entries []*source
	left    []string
	// nothing says why the account is not in the plan ("": it is): it has
	// no AFI to import and no other account shares with it.
	nothing string
}

// build writes the plan of parts (see Build and BuildAccounts).
func build(parts []*part, o Options) (*Result, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	multi := parts[0].acct.Name != ""
	nameOf := map[string]string{} // account ID → name in the plan
	for _, pt := range parts {
		if multi {
			nameOf[pt.inv.Account] = pt.acct.Name
		}
	}
	var entries []*source
	var left []string
	named := map[string]bool{} // accounts some share_with names
	for _, pt := range parts {
		srcs, l := candidates(pt.inv, o)
		pt.left = l
		for _, s := range findCopies(pt.inv, o, srcs) {
			if len(s.copies) == 0 {
				why := "no copy in another region"
				if len(s.notes) > 0 {
					why += "; " + strings.Join(s.notes, "; ")
				}
				pt.left = append(pt.left, fmt.Sprintf("%s %q: %s", s.im.ID, s.im.Name, why))
				continue
			}
			agree(s, o)
			if multi {
				s.account = pt.acct.Name
				s.shareWith = shareByName(s.shareWith, nameOf, pt.acct.Name)
				for _, n := range s.shareWith {
					named[n] = true
				}
			}
			pt.entries = append(pt.entries, s)
		}
		sort.Strings(pt.left)
		entries = append(entries, pt.entries...)
		for _, l := range pt.left {
			if multi {
				l = "account " + pt.acct.Name + ": " + l
			}
			left = append(left, l)
		}
	}
	res := &Result{Left: left}
	if len(entries) == 0 {
		return nil, nothingError(parts, o)
	}
	if len(entries) > maxEntries {
		return nil, fmt.Errorf("%d AFIs to import, and a plan holds at most %d entries: narrow it with --select-name", len(entries), maxEntries)
	}
	var in []*part
	for _, pt := range parts {
		if multi && len(pt.entries) == 0 && !named[pt.acct.Name] {
			pt.nothing = nothingPhrase(pt, o)
			res.LeftAccounts = append(res.LeftAccounts, fmt.Sprintf("%s (%s): %s", pt.acct.Name, pt.inv.Account, pt.nothing))
			continue
		}
		in = append(in, pt)
		res.Accounts = append(res.Accounts, pt.acct.Name)
	}
	doc := newDocument(parts, o, entries)
	// Render, read it back as afisync will, and ask Diff what a sync of it
	// does; the answer goes into the comments.
	p, err := plan.Parse("import", doc.render())
	if err != nil {
		return nil, fmt.Errorf("the imported plan is not valid (a bug in afisync import): %w", err)
	}
	if err := doc.verify(p, in); err != nil {
		return nil, err
	}
	res.YAML = doc.render()
	res.Plan = p
	res.Entries = len(entries)
	regions := map[string]bool{}
	for _, s := range entries {
		res.Copies += len(s.copies)
		for _, c := range s.copies {
			regions[c.region] = true
		}
	}
	res.Regions = len(regions)
	res.Changes = doc.changes
	return res, nil
}

// nothingPhrase says that an account has no AFI to import, and which were
// left out.
func nothingPhrase(pt *part, o Options) string {
	what := "no AFI it owns in " + o.SourceRegion
	if pt.acct.Name == "" {
		what = "no AFI that account " + pt.inv.Account + " owns in " + o.SourceRegion
	}
	if o.SelectName != "" {
		what += fmt.Sprintf(" with a name matching %q", o.SelectName)
	}
	msg := what + " has a copy in another region"
	if len(pt.left) > 0 {
		msg += " (" + strings.Join(pt.left, "; ") + ")"
	}
	return msg
}

// nothingError is build's error when no account has an AFI to import.
func nothingError(parts []*part, o Options) error {
	if len(parts) == 1 && parts[0].acct.Name == "" {
		return fmt.Errorf("%w: %s", ErrNothing, nothingPhrase(parts[0], o))
	}
	var each []string
	for _, pt := range parts {
		each = append(each, fmt.Sprintf("account %s (%s): %s", pt.acct.Name, pt.inv.Account, nothingPhrase(pt, o)))
	}
	return fmt.Errorf("%w: %s", ErrNothing, strings.Join(each, "; "))
}

// shareByName writes the IDs of the import's accounts (nameOf: ID → name)
// in share_with by name, after the other IDs; own, the account whose copies
// these are, is left out (an account needs no load permission on its own
// AFIs).
func shareByName(ids []string, nameOf map[string]string, own string) []string {
	var out, names []string
	for _, id := range ids {
		switch n, ok := nameOf[id]; {
		case !ok:
			out = append(out, id)
		case n != own:
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append(out, names...)
}

// agree sets the entry's settings to what all its available copies agree
// on.
func agree(s *source, o Options) {
	var avail []copyOf
	for _, c := range s.copies {
		if c.im.State == reconcile.StateAvailable {
			avail = append(avail, c)
		}
	}
	s.copySourceTags = true
	if len(avail) == 0 {
		return // pending copies only: nothing to agree on yet
	}
	common := commonTags(s, avail)
	agreeSourceTags(s, common)
	planTags(s, common, o)
	s.name = agreeText(s, avail, "name", s.im.Name, func(im *reconcile.Image) string { return im.Name })
	s.description = agreeText(s, avail, "description", s.im.Description, func(im *reconcile.Image) string { return im.Description })
	agreeSharing(s, avail)
}

// commonTags returns the tags every available copy carries with the same
// value (and that a plan can write), noting the others.
func commonTags(s *source, avail []copyOf) map[string]string {
	common := map[string]string{}
	for k, v := range avail[0].im.Tags {
		if !plan.ReservedTag(k) {
			common[k] = v
		}
	}
	for _, c := range avail[1:] {
		for k, v := range common {
			if got, ok := c.im.Tags[k]; !ok || got != v {
				delete(common, k)
			}
		}
	}
	for _, k := range sortedKeys(common) {
		if why := tagProblem(k, common[k]); why != "" {
			s.notes = append(s.notes, fmt.Sprintf("tag %q left out: %s", k, why))
			delete(common, k)
		}
	}
	var differ []string
	seen := map[string]bool{}
	for _, c := range avail {
		for k := range c.im.Tags {
			if _, ok := common[k]; !ok && !plan.ReservedTag(k) && !seen[k] {
				seen[k] = true
				differ = append(differ, k)
			}
		}
	}
	if len(differ) > 0 {
		sort.Strings(differ)
		s.notes = append(s.notes, fmt.Sprintf("not the same on every copy, so not in the plan (a sync leaves them): %s", keysPhrase("tag", differ)))
	}
	return common
}

// agreeSourceTags decides copy_source_tags: the source's own tags come
// through it when every copy carries them; otherwise the plan must not ask
// for them.
func agreeSourceTags(s *source, common map[string]string) {
	var missing []string
	for _, k := range sortedKeys(s.im.Tags) {
		if plan.ReservedTag(k) {
			continue
		}
		if got, ok := common[k]; !ok || got != s.im.Tags[k] {
			s.copySourceTags = false
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		s.notes = append(s.notes, fmt.Sprintf("copy_source_tags: false, as the copies do not all carry the source's %s", keysPhrase("tag", missing)))
	}
}

// planTags sets the entry's tags: the common ones that neither the source
// (through copy_source_tags) nor defaults.tags bring, within a plan's limit.
func planTags(s *source, common map[string]string, o Options) {
	s.tags = map[string]string{}
	for k, v := range common {
		if srcV, ok := s.im.Tags[k]; s.copySourceTags && ok && srcV == v {
			continue // comes from the source
		}
		if dv, ok := o.Tags[k]; ok && dv == v {
			continue // comes from defaults.tags
		}
		s.tags[k] = v
	}
	if n := len(s.tags) + len(o.Tags); n > maxPlanTags {
		keys := sortedKeys(s.tags)
		drop := keys[len(keys)-(n-maxPlanTags):]
		for _, k := range drop {
			delete(s.tags, k)
		}
		s.notes = append(s.notes, fmt.Sprintf("tags %s left out (a plan puts at most %d tags on a copy; they stay on the copies)", strings.Join(drop, ", "), maxPlanTags))
	}
}

// agreeSharing sets share_with to the accounts every copy is shared with,
// and public when every copy is.
func agreeSharing(s *source, avail []copyOf) {
	public := true
	var users map[string]bool
	for _, c := range avail {
		isPublic := c.im.Public
		have := map[string]bool{}
		if c.perms != nil {
			for _, u := range c.perms.Users {
				have[u] = true
			}
			for _, g := range c.perms.Groups {
				isPublic = isPublic || g == plan.GroupAll
			}
		}
		public = public && isPublic
		if users == nil {
			users = have
			continue
		}
		for u := range users {
			if !have[u] {
				delete(users, u)
			}
		}
	}
	s.public = public
	var some []string
	for _, c := range avail {
		if c.perms == nil {
			continue
		}
		for _, u := range c.perms.Users {
			if !users[u] && !slices.Contains(some, u) {
				some = append(some, u)
			}
		}
	}
	if len(some) > 0 {
		sort.Strings(some)
		s.notes = append(s.notes, fmt.Sprintf("shared with only some copies, so not in the plan (a sync leaves them): %s", keysPhrase("account", some)))
	}
	for u := range users {
		if awsid.ValidAccountID(u) {
			s.shareWith = append(s.shareWith, u)
		}
	}
	sort.Strings(s.shareWith)
	if len(s.shareWith) > maxShareWith {
		s.notes = append(s.notes, fmt.Sprintf("%d accounts left out of share_with (a plan lists at most %d; they keep their access)", len(s.shareWith)-maxShareWith, maxShareWith))
		s.shareWith = s.shareWith[:maxShareWith]
	}
}

// agreeText returns the copies' common name (or description) when it is
// not the source's and a plan can write it, else "" (the source's, which a
// sync sets where a copy differs: a note says so).
func agreeText(s *source, avail []copyOf, what, srcValue string, get func(*reconcile.Image) string) string {
	v := get(avail[0].im)
	same := true
	for _, c := range avail[1:] {
		if get(c.im) != v {
			same = false
		}
	}
	if !same {
		var parts []string
		for _, c := range avail {
			parts = append(parts, fmt.Sprintf("%s %q", c.region, get(c.im)))
		}
		s.notes = append(s.notes, fmt.Sprintf("the copies' %ss differ (%s): a sync sets the source's, %q", what, strings.Join(parts, ", "), srcValue))
		return ""
	}
	if v == srcValue {
		return ""
	}
	if why := textProblem(v, maxTextLen); why != "" {
		s.notes = append(s.notes, fmt.Sprintf("the copies' %s %q cannot be written in a plan (it %s): a sync sets the source's, %q", what, v, why, srcValue))
		return ""
	}
	return v
}

// tagProblem says why a copy's tag cannot be written in a plan ("" when it
// can).
func tagProblem(k, v string) string {
	if why := textProblem(k, awsid.MaxTagKeyLen); why != "" {
		return "its key " + why
	}
	if v == "" {
		return ""
	}
	if why := textProblem(v, awsid.MaxTagValueLen); why != "" {
		return "its value " + why
	}
	return ""
}

// keysPhrase writes "tag a" or "tags a, b".
func keysPhrase(noun string, keys []string) string {
	if len(keys) == 1 {
		return noun + " " + keys[0]
	}
	return noun + "s " + strings.Join(keys, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
