package importer

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// document is an imported plan before rendering.
type document struct {
	parts   []*part // one with no account name: a single-account import
	o       Options
	entries []*source // every part's, in order

	// Settings every entry shares, written once in defaults.
	regions   []string
	shareWith []string
	public    bool

	// What verify found a sync of the plan does.
	claims, adopts, changes int
	also                    map[string][]string // source ID → changes beyond the claim
}

func newDocument(parts []*part, o Options, entries []*source) *document {
	d := &document{parts: parts, o: o, entries: entries, also: map[string][]string{}}
	d.regions = regionsOf(entries[0])
	d.shareWith = entries[0].shareWith
	d.public = entries[0].public
	for _, s := range entries[1:] {
		if !slices.Equal(regionsOf(s), d.regions) {
			d.regions = nil
		}
		if !slices.Equal(s.shareWith, d.shareWith) {
			d.shareWith = nil
		}
		d.public = d.public && s.public
	}
	return d
}

func regionsOf(s *source) []string {
	rs := make([]string, len(s.copies))
	for i, c := range s.copies {
		rs[i] = c.region
	}
	return rs
}

// multi reports whether the plan has accounts:.
func (d *document) multi() bool { return d.parts[0].acct.Name != "" }

// verify asks reconcile.Diff what a sync of the rendered plan p does in
// each account of parts (its entries, as plan.ForAccount gives them to a
// sync, against the account's inventory), and keeps what it changes beyond
// claiming each copy for the comments. A change that makes a copy is a bug
// in Build.
func (d *document) verify(p *plan.Plan, parts []*part) error {
	ids := map[string]string{}
	for _, pt := range parts {
		ids[pt.acct.Name] = pt.inv.Account
	}
	var changes []reconcile.Change
	for _, pt := range parts {
		sub := p.ForAccount(pt.acct.Name, ids)
		changes = append(changes, reconcile.Diff(sub.Targets(), pt.inv, reconcile.DiffOptions{PlanName: d.o.Name}).Changes...)
	}
	d.claims, d.adopts, d.changes = 0, 0, 0
	d.also = map[string][]string{}
	entryOf := map[string]int{}
	for i, e := range p.AFIs {
		entryOf[e.ID] = i
	}
	where := map[alsoKey][]string{}
	var order []alsoKey
	for _, c := range changes {
		switch c.Action {
		case reconcile.ActionNone:
			continue
		case reconcile.ActionUpdate, reconcile.ActionAdopt, reconcile.ActionWait:
		default:
			return fmt.Errorf("a sync of the imported plan would %s %s/%s in %s (%s): a bug in afisync import",
				c.Action, c.Target.SourceRegion, c.Target.SourceAFI, c.Target.Region, c.Reason)
		}
		var rest reconcile.Updates
		claimed := false
		for _, u := range c.Updates {
			switch {
			case u.Kind == reconcile.UpdateTag && (plan.IsClaimKey(u.Key) || u.Key == plan.TagSource):
				claimed = true
			case (u.Kind == reconcile.UpdateTag || u.Kind == reconcile.UpdateUntag) && plan.ReservedTag(u.Key):
				// afisync's own bookkeeping (the legacy claim, the sharing
				// digest): not a change to what the copy carries for users.
			default:
				rest = append(rest, u)
			}
		}
		if claimed {
			d.claims++
		}
		if c.Action == reconcile.ActionAdopt {
			d.adopts++
		}
		if len(rest) > 0 {
			d.changes++
			for _, u := range rest {
				k := alsoKey{c.Target.SourceAFI, u.String()}
				if len(where[k]) == 0 {
					order = append(order, k)
				}
				where[k] = append(where[k], c.Target.Region)
			}
		}
	}
	// One line per change, naming the regions of the copies it is made on.
	for _, k := range order {
		on := "in " + strings.Join(where[k], ", ")
		if len(where[k]) == len(p.AFIs[entryOf[k.source]].Regions) {
			on = "on every copy"
		}
		d.also[k.source] = append(d.also[k.source], fmt.Sprintf("a sync changes: %s %s", k.update, on))
	}
	return nil
}

// alsoKey is one change a sync makes to copies of one source.
type alsoKey struct{ source, update string }

// render writes the plan as YAML, with its comments.
func (d *document) render() []byte {
	root := mapping()
	root.HeadComment = d.header()
	addPair(root, "version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(plan.SchemaVersion)})
	addPair(root, "name", strNode(d.o.Name))
	if d.multi() {
		accts := mapping()
		for _, pt := range d.parts {
			if pt.nothing == "" {
				a := pt.acct
				a.ID = pt.inv.Account
				addPair(accts, a.Name, plan.AccountNode(a))
			}
		}
		addPair(root, "accounts", accts)
		root.Content[len(root.Content)-2].HeadComment = "how afisync reaches each account; id: is the one STS reported (GetCallerIdentity)"
	}
	def := mapping()
	addPair(def, "source_region", strNode(d.o.SourceRegion))
	if d.regions != nil {
		addPair(def, "regions", strList(d.regions))
	}
	if len(d.o.Tags) > 0 {
		addPair(def, "tags", tagsNode(d.o.Tags))
		def.Content[len(def.Content)-2].HeadComment = "from --tags: a sync puts these on every copy"
	}
	if len(d.shareWith) > 0 {
		addPair(def, "share_with", strList(d.shareWith))
	}
	if d.public {
		addPair(def, "share_with_groups", strList([]string{plan.GroupAll}))
	}
	addPair(root, "defaults", def)

	afis := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range d.entries {
		m := mapping()
		m.HeadComment = d.entryComment(s)
		addPair(m, "id", strNode(s.im.ID))
		if s.account != "" {
			addPair(m, "account", strNode(s.account))
		}
		if s.name != "" {
			addPair(m, "name", strNode(s.name))
		}
		if s.description != "" {
			addPair(m, "description", strNode(s.description))
		}
		if d.regions == nil {
			addPair(m, "regions", strList(regionsOf(s)))
		}
		if len(s.tags) > 0 {
			addPair(m, "tags", tagsNode(s.tags))
		}
		if !s.copySourceTags {
			addPair(m, "copy_source_tags", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
		}
		if d.shareWith == nil && len(s.shareWith) > 0 {
			addPair(m, "share_with", strList(s.shareWith))
		}
		if !d.public && s.public {
			addPair(m, "share_with_groups", strList([]string{plan.GroupAll}))
		}
		afis.Content = append(afis.Content, m)
	}
	addPair(root, "afis", afis)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	// Encoding a tree of plain nodes cannot fail.
	_ = enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}})
	_ = enc.Close()
	buf.WriteString(d.footer())
	return buf.Bytes()
}

// header says what the plan is, where it came from and what a sync of it
// does.
func (d *document) header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan %q, written by afisync import", d.o.Name)
	if d.o.Command != "" {
		fmt.Fprintf(&b, " (%s)", d.o.Command)
	}
	b.WriteString(".\n")
	what := fmt.Sprintf("It lists the AFIs account %s owns in %s", d.parts[0].inv.Account, d.o.SourceRegion)
	var sharees []string // accounts of the plan that own no entry
	if d.multi() {
		var in []string
		for _, pt := range d.parts {
			switch {
			case pt.nothing == "" && len(pt.entries) > 0:
				in = append(in, fmt.Sprintf("%s (%s)", pt.acct.Name, pt.inv.Account))
			case pt.nothing == "":
				sharees = append(sharees, fmt.Sprintf("%s (%s)", pt.acct.Name, pt.inv.Account))
			}
		}
		if len(in) == 1 {
			what = fmt.Sprintf("It lists the AFIs account %s owns in %s", in[0], d.o.SourceRegion)
		} else {
			what = fmt.Sprintf("It lists the AFIs accounts %s own in %s", andList(in), d.o.SourceRegion)
		}
	}
	if d.o.SelectName != "" {
		what += fmt.Sprintf(" whose name matches %q", d.o.SelectName)
	}
	if d.o.SelectName != "" {
		what += " and"
	}
	what += " that have a copy (the same AGFI) in another region, each with the regions of its copies and, as its settings, what all its copies agree on: tags with the same value, a name or description other than the source's, the accounts every copy is shared with."
	if d.multi() {
		if len(sharees) == 1 {
			what += fmt.Sprintf(" Account %s owns none of them; it is in the plan because copies are shared with it.", sharees[0])
		} else if len(sharees) > 1 {
			what += fmt.Sprintf(" Accounts %s own none of them; they are in the plan because copies are shared with them.", andList(sharees))
		}
		what += " Each entry's account: is the account that owns it, whose credentials a sync copies it with; share_with names the plan's accounts by name."
	}
	b.WriteString(wrap(what, 76))
	b.WriteString("\n#\n")
	copies := 0
	for _, s := range d.entries {
		copies += len(s.copies)
	}
	var sync string
	switch claim := plan.ClaimKey(d.o.Name); {
	case d.claims == 0:
		sync = fmt.Sprintf("A sync of this plan copies nothing: its %s carry its claim (%s) already", plural(copies, "copy"), claim)
	case d.claims < copies:
		sync = fmt.Sprintf("A sync of this plan copies nothing: it claims %d of its %s (tags %s and %s); the others carry its claim already", d.claims, plural(copies, "copy"), plan.TagSource, claim)
	default:
		sync = fmt.Sprintf("A sync of this plan copies nothing: it claims its %s (tags %s and %s)", plural(copies, "copy"), plan.TagSource, claim)
	}
	if d.adopts > 0 {
		sync += fmt.Sprintf(", and adopts the %d that afisync did not make", d.adopts)
	}
	sync += "."
	if d.changes > 0 {
		sync += fmt.Sprintf(" It also changes %s where the copies disagree or the plan adds to them: see the entries.", plural(d.changes, "copy"))
	}
	sync += " Add regions to an entry to replicate it further."
	b.WriteString(wrap(sync, 76))
	return b.String()
}

// entryComment says where an entry came from: the source, its copies, and
// anything the entry could not say or a sync would change.
func (d *document) entryComment(s *source) string {
	var parts []string
	for _, c := range s.copies {
		var notes []string
		notes = append(notes, c.im.ID)
		if c.im.State != reconcile.StateAvailable {
			notes = append(notes, c.im.State)
		}
		if others := plan.OtherClaims(c.im.Tags, d.o.Name); len(others) > 0 {
			notes = append(notes, "claimed by plan "+strings.Join(quoteAll(others), ", plan "))
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", c.region, strings.Join(notes, ", ")))
	}
	lines := []string{fmt.Sprintf("%s %q in %s: copies in %s", s.im.ID, s.im.Name, d.o.SourceRegion, strings.Join(parts, ", "))}
	for _, c := range s.copies {
		if !c.im.CreateTime.IsZero() && !s.im.CreateTime.IsZero() && c.im.CreateTime.Before(s.im.CreateTime) {
			lines = append(lines, fmt.Sprintf("note: the copy in %s (%s) is older than this AFI; if it is the original, import from %s instead", c.region, c.im.ID, c.region))
		}
	}
	lines = append(lines, s.notes...)
	lines = append(lines, d.also[s.im.ID]...)
	return strings.Join(lines, "\n")
}

// footer lists what was left out, as comments after the plan.
func (d *document) footer() string {
	var b strings.Builder
	var left []string
	for _, pt := range d.parts {
		for _, l := range pt.left {
			if d.multi() {
				l = "account " + pt.acct.Name + ": " + l
			}
			left = append(left, l)
		}
	}
	if len(left) > 0 {
		b.WriteString("\n# Not imported:\n")
		for _, l := range left {
			b.WriteString("#   " + l + "\n")
		}
	}
	var nothing []string
	for _, pt := range d.parts {
		if pt.nothing != "" {
			nothing = append(nothing, fmt.Sprintf("%s (%s, %s): no AFI to import, and no other account shares with it", pt.acct.Name, pt.inv.Account, how(pt.acct)))
		}
	}
	if len(nothing) > 0 {
		b.WriteString("\n# Accounts left out of accounts: (a plan uses every account it declares):\n")
		for _, l := range nothing {
			b.WriteString("#   " + l + "\n")
		}
	}
	for _, pt := range d.parts {
		if len(pt.inv.Unlisted) == 0 {
			continue
		}
		if d.multi() {
			fmt.Fprintf(&b, "\n# Regions of account %s that could not be listed (its copies there are not in this plan):\n", pt.acct.Name)
		} else {
			b.WriteString("\n# Regions that could not be listed (copies there are not in this plan):\n")
		}
		for _, r := range sortedKeys(pt.inv.Unlisted) {
			b.WriteString("#   " + r + ": " + oneLine(pt.inv.Unlisted[r]) + "\n")
		}
	}
	return b.String()
}

// how says how the import reached an account: its profile or role.
func how(a plan.Account) string {
	if a.RoleARN != "" {
		return "role " + a.RoleARN
	}
	return "profile " + a.Profile
}

// andList writes "a", "a and b" or "a, b and c".
func andList(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// wrap breaks a sentence into lines of at most width characters, for a
// comment.
func wrap(s string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Quote(x)
	}
	return out
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func addPair(m *yaml.Node, key string, val *yaml.Node) {
	m.Content = append(m.Content, strNode(key), val)
}

// strNode is a string scalar; the encoder quotes it where YAML would read
// it as something else (a number, true, null).
func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// strList is a one-line [a, b] list.
func strList(list []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range list {
		n.Content = append(n.Content, strNode(s))
	}
	return n
}

// tagsNode is a block mapping of tags, sorted by key.
func tagsNode(tags map[string]string) *yaml.Node {
	n := mapping()
	keys := sortedKeys(tags)
	sort.Strings(keys)
	for _, k := range keys {
		addPair(n, k, strNode(tags[k]))
	}
	return n
}
