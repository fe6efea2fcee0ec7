package plan

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// doc is a plan file being read: the Plan so far, and what reading its
// entries needs.
type doc struct {
	*Plan
	defaults *entryDraft    // the defaults mapping, read like an entry
	ids      map[string]int // the line of each AFI ID's entry
	sels     map[string]int // the line of each selector, by source region and selector
	builds   map[string]int // the line of each build, by source region, input, logs and name
}

// entryDraft is an entry under afis, or the defaults, being read.
type entryDraft struct {
	*Entry
	node    *yaml.Node       // the mapping
	where   string           // the mapping in messages: "afis entry 2", "defaults"
	fields  map[string]field // the keys written, by name
	bad     map[string]bool  // the keys whose value had a problem: later checks stay quiet about them
	regions []listItem       // the regions written, with where each is
	// defaults is what an entry inherits from (nil for the defaults).
	defaults *entryDraft
}

// has reports whether the mapping writes the key.
func (x *entryDraft) has(key string) bool {
	_, ok := x.fields[key]
	return ok
}

// label names an entry in messages: its AFI ID once read, else its place.
func (x *entryDraft) label() string {
	if x.ID != "" {
		return x.ID
	}
	return x.where
}

// draftOf is an entry with the given options and nothing written, such as
// the defaults seen by validate --print.
func draftOf(o Options) *entryDraft {
	return &entryDraft{Entry: &Entry{Options: o}, where: "defaults"}
}

// field is one key: value pair of a mapping.
type field struct{ key, val *yaml.Node }

// fields checks that n is a mapping whose keys are all known, unique plain
// words, and returns its pairs by key. where names the mapping in messages.
func (ps *parser) fields(n *yaml.Node, where string, known []string) map[string]field {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		ps.at(n, fmt.Sprintf("%s must be a mapping (key: value lines), got %s", where, kindName(n)), "")
		return nil
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if !ps.plainKey(k, where) {
			continue
		}
		if prev, dup := out[k.Value]; dup {
			ps.at(k, fmt.Sprintf("duplicate key %s in %s", quote(k.Value), where),
				fmt.Sprintf("it is already set at line %d; YAML would keep only one, so remove the other", prev.key.Line))
			continue
		}
		if !slices.Contains(known, k.Value) {
			ps.at(k, fmt.Sprintf("unknown key %s in %s", quote(k.Value), where), keyHint(k.Value, known))
			continue
		}
		out[k.Value] = field{k, v}
	}
	return out
}

// plainKey reports whether a mapping key is a plain scalar, recording a
// problem if not.
func (ps *parser) plainKey(k *yaml.Node, where string) bool {
	switch {
	case k.Kind != yaml.ScalarNode:
		ps.at(k, fmt.Sprintf("keys in %s must be plain words, got %s", where, kindName(k)), "")
		return false
	case k.Tag == "!!merge":
		ps.at(k, "YAML merge keys (<<) are not supported in a plan",
			"write the keys out, or put shared values under defaults")
		return false
	}
	return true
}

// keyHint suggests what an unknown key should have been.
func keyHint(key string, known []string) string {
	if s := closest(key, known, 2); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if home, ok := keyHome[key]; ok {
		return fmt.Sprintf("%q belongs %s", key, home)
	}
	if s := closest(key, allKeys, 2); s != "" {
		return fmt.Sprintf("did you mean %q? it belongs %s", s, keyHome[s])
	}
	return "valid keys here: " + strings.Join(known, ", ")
}

// readKeys reads the keys of a mapping (fs, from fields) into v, in table
// order, and reports a required key that is missing at the mapping n.
// prefix qualifies key names in messages ("defaults."). It returns the keys
// whose value had a problem.
func readKeys[T any](ps *parser, keys []key[T], n *yaml.Node, fs map[string]field, prefix string, v *T) map[string]bool {
	bad := map[string]bool{}
	for _, k := range keys {
		f, ok := fs[k.name]
		switch {
		case ok && !k.read(ps, f, prefix+k.name, v):
			bad[k.name] = true
		case !ok && k.required != "":
			ps.at(n, fmt.Sprintf("missing %q", k.name), k.required)
		}
		if ps.stop {
			break
		}
	}
	return bad
}

// plan reads the root mapping; nil after a problem that stops the reading.
func (ps *parser) plan(root *yaml.Node) *Plan {
	d := &doc{
		Plan:     &Plan{Version: SchemaVersion, File: ps.file, Defaults: schemaDefaults},
		defaults: draftOf(schemaDefaults),
		ids:      map[string]int{},
		sels:     map[string]int{},
		builds:   map[string]int{},
	}
	ps.doc = d
	readKeys(ps, topKeys, root, ps.fields(root, "the plan", names(topKeys)), "", d)
	if ps.stop {
		return nil
	}
	ps.unusedAccounts()
	return d.Plan
}

// defaults reads the defaults mapping, whose keys are the inherited entry
// keys.
func (ps *parser) defaults(f field, what string, d *doc) bool {
	x := d.defaults
	x.node = resolve(f.val)
	x.fields = ps.fields(f.val, what, names(defaultsKeys))
	x.bad = readKeys(ps, defaultsKeys, x.node, x.fields, what+".", x)
	d.Defaults = x.Options
	if x.SourceRegion != "" {
		for _, r := range x.regions {
			if r.name == x.SourceRegion {
				ps.at(r.node, fmt.Sprintf("defaults.regions holds %s, which is defaults.source_region", quote(r.name)),
					"remove it: an AFI is never copied into its own source region")
			}
		}
	}
	return true
}

// settings reads the executor knobs; anything not written stays zero.
func (ps *parser) settings(f field, what string) (Settings, bool) {
	var s Settings
	bad := readKeys(ps, settingsKeys, resolve(f.val), ps.fields(f.val, what, names(settingsKeys)), what+".", &s)
	return s, len(bad) == 0
}

// afis reads the list of entries.
func (ps *parser) afis(f field, what string, d *doc) bool {
	items, _ := ps.list(f, what, MaxEntries, "")
	if len(items) == 0 && resolve(f.val).Kind == yaml.SequenceNode {
		ps.at(f.key, "afis is empty: nothing to copy", "list at least one entry, with id: afi-… or select: {name: …}")
	}
	for i, it := range items {
		if e, ok := ps.entry(i, it, d); ok {
			d.AFIs = append(d.AFIs, e)
		}
	}
	return true
}

// entry reads one element of afis and merges the defaults into it.
func (ps *parser) entry(i int, n *yaml.Node, d *doc) (Entry, bool) {
	nerr := len(ps.errs)
	x := &entryDraft{Entry: &Entry{}, node: resolve(n), where: fmt.Sprintf("afis entry %d", i+1), defaults: d.defaults}
	x.Pos = posOf(x.node)
	x.fields = ps.fields(x.node, x.where, names(entryKeys))
	if x.fields == nil {
		return *x.Entry, false
	}
	ps.oneSource(x)
	x.bad = readKeys(ps, entryKeys, x.node, x.fields, "", x)
	ps.inheritDefaults(x)
	ps.accountPartition(x)
	ps.unique(x, d)
	return *x.Entry, len(ps.errs) == nerr
}

// oneSource checks that an entry names its source AFIs one way: an id, a
// select or a build (which needs a name: the AFI it builds gets it).
func (ps *parser) oneSource(x *entryDraft) {
	written := written(x, "id", "select", "build")
	switch {
	case len(written) > 1:
		ps.at(written[1].key, fmt.Sprintf("%s has both %s and %s", x.where, written[0].key.Value, written[1].key.Value),
			"use id for one AFI, select for a set of AFIs or build to create one; split it into several entries")
	case len(written) == 0:
		ps.at(x.node, x.where+" has none of id, select and build",
			"add id: afi-… for one AFI, select: {name: …, tags: {…}} for every matching AFI, or build: {input: s3://…} to create one")
	case x.has("build") && !x.has("name"):
		ps.at(x.node, x.where+" builds an AFI but has no name", "add name: the name of the AFI it builds (and of its copies)")
	}
}

// written returns the fields of those keys the mapping writes, in the
// order given.
func written(x *entryDraft, keys ...string) []field {
	var out []field
	for _, k := range keys {
		if f, ok := x.fields[k]; ok {
			out = append(out, f)
		}
	}
	return out
}

// selector reads select: a name glob and/or tags. ok is false when anything
// in it was wrong.
func (ps *parser) selector(f field, what string) (*Selector, bool) {
	nerr := len(ps.errs)
	fs := ps.fields(f.val, what, names(selectKeys))
	if fs == nil {
		return nil, false
	}
	if len(fs) == 0 {
		if len(ps.errs) == nerr { // else an unknown key, reported already, was probably meant
			ps.at(resolve(f.val), what+" has neither name nor tags",
				`give a name pattern, tags, or both; name: "*" selects every AFI you own in the source region`)
		}
		return nil, false
	}
	s := &Selector{}
	readKeys(ps, selectKeys, resolve(f.val), fs, what+".", s)
	return s, len(ps.errs) == nerr
}
