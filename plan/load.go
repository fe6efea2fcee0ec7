package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// StdinName is the file name Load gives a plan read from standard input; it
// appears in error messages and in Plan.File.
const StdinName = "<stdin>"

// Load reads and parses the plan file at path; the path "-" reads standard
// input. A file that cannot be read gives the underlying error (such as an
// *fs.PathError); an invalid plan gives *Errors listing every problem.
func Load(path string) (*Plan, error) {
	if path == "-" {
		return Read(StdinName, os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(path, f)
}

// Read reads a plan from r (at most MaxFileSize bytes are accepted) and
// parses it as Parse does; file names it in errors.
func Read(file string, r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", file, err)
	}
	return Parse(file, data)
}

// Parse parses and validates a plan (schema version 1) and merges its
// defaults into every entry. file names the plan in errors and in
// Plan.File; it is not opened.
//
// When the plan is invalid, Parse returns a nil *Plan and an *Errors holding
// every problem found, sorted by position, each with File and a Pos whose
// Line and Col are at least 1. Parse does no I/O and makes no AWS call.
func Parse(file string, data []byte) (*Plan, error) {
	ps := &parser{file: file}
	var p *Plan
	if len(data) > MaxFileSize {
		ps.atPos(Pos{1, 1}, fmt.Sprintf("the file is larger than %d MiB", MaxFileSize>>20),
			"a plan is a short YAML file; split very large plans into several")
	} else if root := ps.document(data); root != nil {
		p = ps.plan(root)
	}
	if len(ps.errs) > 0 {
		errs := &Errors{List: sortErrors(ps.errs)}
		if n := len(errs.List); n > maxErrors {
			more := errs.List[maxErrors]
			more.Msg = fmt.Sprintf("%d more problems from here on are not shown (%d in all)", n-maxErrors, n)
			more.Hint, more.Err = "fix the ones above and check the plan again", nil
			errs.List, errs.omitted = errs.List[:maxErrors+1], n-maxErrors
		}
		return nil, errs
	}
	return p, nil
}

// maxErrors is how many problems Parse lists before summing up the rest:
// past that, the file is probably not a plan at all.
const maxErrors = 100

// parser collects every problem in one file instead of stopping at the
// first.
type parser struct {
	file string
	errs []*Error
}

func (ps *parser) atPos(pos Pos, msg, hint string) *Error {
	e := &Error{File: ps.file, Pos: pos, Msg: msg, Hint: hint}
	ps.errs = append(ps.errs, e)
	return e
}

func (ps *parser) at(n *yaml.Node, msg, hint string) *Error {
	return ps.atPos(posOf(n), msg, hint)
}

func (ps *parser) problem(n *yaml.Node, p *problem) {
	ps.at(n, p.msg, p.hint)
}

// posOf is n's position, clamped to 1:1 for nodes yaml.v3 did not place.
func posOf(n *yaml.Node) Pos {
	p := Pos{Line: 1, Col: 1}
	if n != nil {
		p.Line = max(n.Line, 1)
		p.Col = max(n.Column, 1)
	}
	return p
}

// document decodes data into a YAML node tree and returns the plan's root
// node, or nil after recording why there is none.
func (ps *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := decodeNode(dec, &doc)
	if errors.Is(err, io.EOF) || (err == nil && len(doc.Content) == 0) {
		ps.atPos(Pos{1, 1}, "the plan file is empty", "start it with version: 1, name: and afis:")
		return nil
	}
	if err != nil {
		ps.syntaxError(data, err)
		return nil
	}
	var next yaml.Node
	switch err := decodeNode(dec, &next); {
	case err == nil:
		n := &next
		if len(next.Content) > 0 {
			n = next.Content[0]
		}
		ps.at(n, "a second YAML document starts here (after ---)",
			"a plan file holds exactly one document; remove the --- line or split the file")
	case !errors.Is(err, io.EOF):
		ps.syntaxError(data, err)
	}
	root := resolve(doc.Content[0])
	switch {
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		ps.at(root, "the plan file is empty", "start it with version: 1, name: and afis:")
		return nil
	case root.Kind != yaml.MappingNode:
		ps.at(root, fmt.Sprintf("a plan must be a YAML mapping, got %s", kindName(root)),
			"start it with version: 1, name: and afis:")
		return nil
	}
	return root
}

// decodeNode decodes the next document, turning a panic inside the YAML
// library into an error: a plan file must never crash afisync.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// syntaxError records a YAML syntax error at the offending character (see
// yamlErrorPos), or at the start of the line yaml.v3 names when that cannot
// be found.
func (ps *parser) syntaxError(data []byte, err error) {
	msg := err.Error()
	line, text := yamlErrorLine(msg)
	pos, ok := yamlErrorPos(data, msg)
	if !ok {
		pos = Pos{max(line, 1), 1}
	}
	hint := "fix the YAML syntax near here (indentation, a missing colon, or an unclosed quote or bracket)"
	switch {
	case readerErrors[text]:
		hint = "a plan must be UTF-8 text without control characters; save it as UTF-8"
	case lineHasTab(data, pos.Line):
		hint = "YAML indentation must use spaces, not tabs"
	}
	ps.atPos(pos, "invalid YAML: "+text, hint)
}

// lineHasTab reports whether the 1-based line of data is indented with a tab.
func lineHasTab(data []byte, line int) bool {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return false
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return bytes.Contains(bytes.TrimRight(data, " \t\r"), []byte("\t"))
}

// resolve follows YAML aliases (*name) to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe names a node's kind, with the value for scalars, for "got …"
// messages.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!bool":
			return n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!str":
			return "the text " + quote(n.Value)
		}
	}
	return kindName(n)
}

// kindName describes a node's kind for "got …" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "true/false"
		case "!!int", "!!float":
			return "a number"
		case "!!str":
			return "a string"
		}
		return "a scalar"
	}
	return "an alias"
}

// Key sets for each mapping in the schema.
var (
	topKeys      = []string{"version", "name", "defaults", "settings", "afis"}
	defaultsKeys = []string{"source_region", "regions", "tags", "copy_source_tags", "share_with",
		"share_with_groups", "exclusive_tags", "exclusive_sharing"}
	settingsKeys = []string{"concurrency", "retries", "timeout"}
	entryKeys    = []string{"id", "select", "source_region", "regions", "tags", "copy_source_tags", "share_with",
		"share_with_groups", "exclusive_tags", "exclusive_sharing", "name", "description"}
	selectKeys = []string{"name", "tags"}
	allKeys    = []string{"version", "name", "defaults", "settings", "afis", "source_region", "regions", "tags",
		"copy_source_tags", "share_with", "share_with_groups", "exclusive_tags", "exclusive_sharing",
		"concurrency", "retries", "timeout", "id", "select", "description"}
)

// keyHome says where a key belongs, for keys written in the wrong mapping.
var keyHome = map[string]string{
	"version":           "at the top level",
	"name":              "at the top level (the plan's name) or on an entry under afis (the copies' name)",
	"defaults":          "at the top level",
	"settings":          "at the top level",
	"afis":              "at the top level",
	"source_region":     "under defaults or on an entry under afis",
	"regions":           "under defaults or on an entry under afis",
	"tags":              "under defaults or on an entry under afis",
	"copy_source_tags":  "under defaults or on an entry under afis",
	"share_with":        "under defaults or on an entry under afis",
	"share_with_groups": "under defaults or on an entry under afis",
	"exclusive_tags":    "under defaults or on an entry under afis",
	"exclusive_sharing": "under defaults or on an entry under afis",
	"concurrency":       "under settings",
	"retries":           "under settings",
	"timeout":           "under settings",
	"id":                "on an entry under afis",
	"select":            "on an entry under afis",
	"description":       "on an entry under afis",
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
		if !contains(known, k.Value) {
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a scalar as text. Numbers and booleans count as their text, as
// a YAML-to-string decode would; null and collections are errors. A field
// with a nil key is a list item.
func (ps *parser) str(f field, what string) (string, bool) {
	v := resolve(f.val)
	switch {
	case v.Kind != yaml.ScalarNode:
		ps.at(v, fmt.Sprintf("%s must be a string, got %s", what, kindName(v)), "")
		return "", false
	case v.Tag == "!!null" && f.key == nil:
		ps.at(v, fmt.Sprintf("%s is empty (null)", what), "remove the empty item from the list")
		return "", false
	case v.Tag == "!!null":
		ps.at(f.key, fmt.Sprintf("%s has no value", what), "give it a value or remove the key")
		return "", false
	}
	return v.Value, true
}

// integer reads an integer scalar.
func (ps *parser) integer(f field, what string) (int, bool) {
	v := resolve(f.val)
	var i int
	if v.Kind == yaml.ScalarNode && v.Tag == "!!int" && v.Decode(&i) == nil {
		return i, true
	}
	hint := ""
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		if _, err := strconv.Atoi(v.Value); err == nil {
			hint = fmt.Sprintf("write the number without quotes: %s: %s", f.key.Value, v.Value)
		}
	}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		ps.at(f.key, fmt.Sprintf("%s has no value", what), "give it a whole number or remove the key")
		return 0, false
	}
	ps.at(v, fmt.Sprintf("%s must be a whole number, got %s", what, describe(v)), hint)
	return 0, false
}

// boolean reads a true/false scalar.
func (ps *parser) boolean(f field, what string) (bool, bool) {
	v := resolve(f.val)
	var b bool
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" && v.Decode(&b) == nil {
		return b, true
	}
	ps.at(v, fmt.Sprintf("%s must be true or false, got %s", what, describe(v)), "write true or false without quotes")
	return false, false
}

// list reads a sequence of at most limit items; extra items are reported
// once and dropped.
func (ps *parser) list(f field, what string, limit int, example string) ([]*yaml.Node, bool) {
	v := resolve(f.val)
	if v.Kind != yaml.SequenceNode {
		hint := ""
		if example != "" {
			hint = fmt.Sprintf("write it as a list, like %s: %s", f.key.Value, example)
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			ps.at(f.key, fmt.Sprintf("%s has no value", what), hint)
		} else {
			ps.at(v, fmt.Sprintf("%s must be a list, got %s", what, kindName(v)), hint)
		}
		return nil, false
	}
	items := v.Content
	ok := true
	if len(items) > limit {
		ps.at(resolve(items[limit]), fmt.Sprintf("%s has %d items", what, len(items)),
			fmt.Sprintf("afisync accepts at most %d", limit))
		items, ok = items[:limit], false
	}
	return items, ok
}

// earlier says where the first of two duplicates is.
func earlier(first, dup *yaml.Node) string {
	if first.Line == dup.Line {
		return "earlier on the same line"
	}
	return fmt.Sprintf("at line %d", first.Line)
}

// regionRef is a region name with the node it was written at.
type regionRef struct {
	name string
	node *yaml.Node
}

// regionList reads a list of well-formed, distinct regions. ok is false when
// anything in the list was wrong (so later checks do not pile on).
func (ps *parser) regionList(f field, what string) ([]regionRef, bool) {
	items, ok := ps.list(f, what, MaxRegions, "[us-west-2, eu-west-1]")
	var out []regionRef
	seen := map[string]*yaml.Node{}
	for _, it := range items {
		it = resolve(it)
		s, sok := ps.str(field{nil, it}, "a region")
		if !sok {
			ok = false
			continue
		}
		if p := checkRegion(s); p != nil {
			ps.problem(it, p)
			ok = false
			continue
		}
		if prev, dup := seen[s]; dup {
			ps.at(it, fmt.Sprintf("region %s is listed twice in %s", quote(s), what),
				fmt.Sprintf("it is already listed %s; remove one", earlier(prev, it)))
			ok = false
			continue
		}
		seen[s] = it
		out = append(out, regionRef{s, it})
	}
	return out, ok
}

// accountList reads share_with: distinct 12-digit account IDs.
func (ps *parser) accountList(f field, what string) ([]string, bool) {
	return ps.distinctList(f, what, `["111122223333"]`, "an account ID", "account", checkAccount)
}

// groupList reads share_with_groups: distinct load-permission groups, of
// which EC2 has only "all" (public).
func (ps *parser) groupList(f field, what string) ([]string, bool) {
	// Only one group exists, so any item past the first is an error anyway;
	// the bound (MaxAccounts) only keeps an absurd list from flooding the
	// output.
	return ps.distinctList(f, what, "[all]", "a load-permission group", "group", checkGroup)
}

// distinctList reads a list of at most MaxAccounts distinct strings, each
// passing check; noun names one item in the duplicate message.
func (ps *parser) distinctList(f field, what, example, kind, noun string, check func(string) *problem) ([]string, bool) {
	items, ok := ps.list(f, what, MaxAccounts, example)
	out := []string{}
	seen := map[string]*yaml.Node{}
	for _, it := range items {
		it = resolve(it)
		s, sok := ps.str(field{nil, it}, kind)
		if !sok {
			ok = false
			continue
		}
		if p := check(s); p != nil {
			ps.problem(it, p)
			ok = false
			continue
		}
		if prev, dup := seen[s]; dup {
			ps.at(it, fmt.Sprintf("%s %s is listed twice in %s", noun, quote(s), what),
				fmt.Sprintf("it is already listed %s; remove one", earlier(prev, it)))
			ok = false
			continue
		}
		seen[s] = it
		out = append(out, s)
	}
	return out, ok
}

// tagMap reads a tags mapping. Selector tags match source AFIs, so they may
// use the "aws:" prefix; copy tags may not.
func (ps *parser) tagMap(f field, what string, selector bool) (map[string]string, bool) {
	limit, limitHint := MaxUserTags, fmt.Sprintf("AWS allows %d tags per AFI and afisync writes 2 of its own (%s, %s), so at most %d",
		MaxTags, TagSource, TagPlan, MaxUserTags)
	if selector {
		limit, limitHint = MaxTags, fmt.Sprintf("an AFI carries at most %d tags", MaxTags)
	}
	v := resolve(f.val)
	if v.Kind != yaml.MappingNode {
		hint := fmt.Sprintf("write tags as key: value pairs, like %s: {team: fpga}", f.key.Value)
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			ps.at(f.key, fmt.Sprintf("%s has no value", what), hint)
		} else {
			ps.at(v, fmt.Sprintf("%s must be a mapping of tag keys to values, got %s", what, kindName(v)), hint)
		}
		return nil, false
	}
	ok := true
	out := map[string]string{}
	lines := map[string]int{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := resolve(v.Content[i]), resolve(v.Content[i+1])
		if !ps.plainKey(k, what) {
			ok = false
			continue
		}
		if l, dup := lines[k.Value]; dup {
			ps.at(k, fmt.Sprintf("duplicate tag key %s in %s", quote(k.Value), what),
				fmt.Sprintf("it is already set at line %d; YAML would keep only one, so remove the other", l))
			ok = false
			continue
		}
		if len(lines) == limit {
			ps.at(k, fmt.Sprintf("%s lists %d tags", what, len(v.Content)/2), limitHint)
			return out, false
		}
		lines[k.Value] = k.Line
		if p := checkTagKey(k.Value, selector); p != nil {
			ps.problem(k, p)
			ok = false
			continue
		}
		if val.Kind != yaml.ScalarNode {
			ps.at(val, fmt.Sprintf("tag %s must have a text value, got %s", quote(k.Value), kindName(val)), "")
			ok = false
			continue
		}
		if val.Tag == "!!null" {
			ps.at(k, fmt.Sprintf("tag %s has no value", quote(k.Value)), `write "" for an empty value`)
			ok = false
			continue
		}
		if p := checkText(fmt.Sprintf("the value of tag %s", quote(k.Value)), val.Value, MaxTagValueLen); p != nil {
			ps.problem(val, p)
			ok = false
			continue
		}
		out[k.Value] = val.Value
	}
	return out, ok
}

// overrides are the keys defaults and entries share, as written.
type overrides struct {
	source     string
	sourceNode *yaml.Node // nil when not written
	sourceBad  bool

	regions     []regionRef
	regionsNode *yaml.Node // the key; nil when not written
	regionsBad  bool

	tags     map[string]string
	tagsNode *yaml.Node // the key; nil when not written
	tagsBad  bool

	copySourceTags *bool

	share    []string
	hasShare bool

	groups    []string
	hasGroups bool // share_with_groups is written, even as []

	exclusiveTags    *bool // nil when not written (or not a boolean)
	exclusiveSharing *bool
}

// overrides reads the shared keys of defaults or an entry. prefix qualifies
// key names in messages ("defaults." or "").
func (ps *parser) overrides(fs map[string]field, prefix string) overrides {
	var o overrides
	if f, ok := fs["source_region"]; ok {
		o.sourceNode = f.key
		s, sok := ps.str(f, prefix+"source_region")
		switch {
		case !sok:
			o.sourceBad = true
		case checkRegion(s) != nil:
			ps.problem(resolve(f.val), checkRegion(s))
			o.sourceBad = true
		default:
			o.source = s
			o.sourceNode = resolve(f.val)
		}
	}
	if f, ok := fs["regions"]; ok {
		o.regionsNode = f.key
		var rok bool
		o.regions, rok = ps.regionList(f, prefix+"regions")
		o.regionsBad = !rok
	}
	if f, ok := fs["tags"]; ok {
		o.tagsNode = f.key
		var tok bool
		o.tags, tok = ps.tagMap(f, prefix+"tags", false)
		o.tagsBad = !tok
	}
	if f, ok := fs["copy_source_tags"]; ok {
		if b, bok := ps.boolean(f, prefix+"copy_source_tags"); bok {
			o.copySourceTags = &b
		}
	}
	if f, ok := fs["share_with"]; ok {
		o.hasShare = true
		o.share, _ = ps.accountList(f, prefix+"share_with")
	}
	if f, ok := fs["share_with_groups"]; ok {
		o.hasGroups = true
		o.groups, _ = ps.groupList(f, prefix+"share_with_groups")
	}
	if f, ok := fs["exclusive_tags"]; ok {
		if b, bok := ps.boolean(f, prefix+"exclusive_tags"); bok {
			o.exclusiveTags = &b
		}
	}
	if f, ok := fs["exclusive_sharing"]; ok {
		if b, bok := ps.boolean(f, prefix+"exclusive_sharing"); bok {
			o.exclusiveSharing = &b
		}
	}
	return o
}

// plan walks the root mapping.
func (ps *parser) plan(root *yaml.Node) *Plan {
	top := ps.fields(root, "the plan", topKeys)
	p := &Plan{Version: SchemaVersion, File: ps.file}

	if f, ok := top["version"]; !ok {
		ps.at(root, `missing "version"`, "add version: 1 at the top of the file")
	} else if v, ok := ps.integer(f, "version"); ok {
		switch {
		case v > SchemaVersion:
			// A newer schema may mean anything: report only this.
			ps.errs = ps.errs[:0]
			e := ps.at(resolve(f.val), fmt.Sprintf("plan version %d is not supported by this afisync", v),
				fmt.Sprintf("it understands version %d only; upgrade afisync to use this plan", SchemaVersion))
			e.Err = ErrUnsupportedVersion
			return nil
		case v < 1:
			ps.at(resolve(f.val), fmt.Sprintf("plan version %d does not exist", v), fmt.Sprintf("write version: %d", SchemaVersion))
		}
	}

	if f, ok := top["name"]; !ok {
		ps.at(root, `missing "name"`, "add name: <plan name>; afisync tags every copy with it")
	} else if s, ok := ps.str(f, "name"); ok {
		p.Name = s
		if s == "" {
			ps.at(resolve(f.val), "name is empty", "give the plan a name; afisync tags every copy with it")
		} else if pr := checkText("name", s, MaxTagValueLen); pr != nil {
			pr.hint += "; the name becomes the value of the " + TagPlan + " tag"
			ps.problem(resolve(f.val), pr)
		}
	}

	var d overrides
	p.Defaults.CopySourceTags = true
	if f, ok := top["defaults"]; ok {
		d = ps.overrides(ps.fields(f.val, "defaults", defaultsKeys), "defaults.")
		p.Defaults.SourceRegion = d.source
		for _, r := range d.regions {
			p.Defaults.Regions = append(p.Defaults.Regions, r.name)
		}
		if len(d.tags) > 0 {
			p.Defaults.Tags = d.tags
		}
		if d.copySourceTags != nil {
			p.Defaults.CopySourceTags = *d.copySourceTags
		}
		if len(d.share) > 0 {
			p.Defaults.ShareWith = d.share
		}
		if len(d.groups) > 0 {
			p.Defaults.ShareWithGroups = d.groups
		}
		if d.exclusiveTags != nil {
			p.Defaults.ExclusiveTags = *d.exclusiveTags
		}
		if d.exclusiveSharing != nil {
			p.Defaults.ExclusiveSharing = *d.exclusiveSharing
		}
		if d.source != "" {
			for _, r := range d.regions {
				if r.name == d.source {
					ps.at(r.node, fmt.Sprintf("defaults.regions holds %s, which is defaults.source_region", quote(r.name)),
						"remove it: an AFI is never copied into its own source region")
				}
			}
		}
	}

	if f, ok := top["settings"]; ok {
		p.Settings = ps.settings(ps.fields(f.val, "settings", settingsKeys))
	}

	f, ok := top["afis"]
	if !ok {
		ps.at(root, `missing "afis"`, "add afis: with a list of entries, each with id: afi-… or select: {name: …}")
		return p
	}
	items, _ := ps.list(f, "afis", MaxEntries, "")
	if len(items) == 0 && resolve(f.val).Kind == yaml.SequenceNode {
		ps.at(f.key, "afis is empty: nothing to copy", "list at least one entry, with id: afi-… or select: {name: …}")
	}
	ids := map[string]int{}
	sels := map[string]int{}
	for i, it := range items {
		if e, ok := ps.entry(i, it, &d, p.Defaults, ids, sels); ok {
			p.AFIs = append(p.AFIs, e)
		}
	}
	return p
}

// settings reads the executor knobs; anything not written stays zero.
func (ps *parser) settings(fs map[string]field) Settings {
	var s Settings
	if f, ok := fs["concurrency"]; ok {
		if n, ok := ps.integer(f, "settings.concurrency"); ok {
			if n < MinConcurrency || n > MaxConcurrency {
				ps.at(resolve(f.val), fmt.Sprintf("settings.concurrency %d is out of range", n),
					fmt.Sprintf("use %d to %d copies at once", MinConcurrency, MaxConcurrency))
			} else {
				s.Concurrency = n
			}
		}
	}
	if f, ok := fs["retries"]; ok {
		if n, ok := ps.integer(f, "settings.retries"); ok {
			if n < 0 || n > MaxRetries {
				ps.at(resolve(f.val), fmt.Sprintf("settings.retries %d is out of range", n),
					fmt.Sprintf("use 0 to %d", MaxRetries))
			} else {
				s.Retries, s.RetriesSet = n, true
			}
		}
	}
	if f, ok := fs["timeout"]; ok {
		v := resolve(f.val)
		if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!float") {
			ps.at(v, fmt.Sprintf("settings.timeout %s has no unit", quote(v.Value)),
				fmt.Sprintf(`write a duration with a unit, like "%ss", "90m" or "2h"`, v.Value))
		} else if str, ok := ps.str(f, "settings.timeout"); ok {
			d, err := time.ParseDuration(str)
			switch {
			case err != nil:
				ps.at(v, fmt.Sprintf("settings.timeout %s is not a duration", quote(str)), `write it like "90m", "2h" or "1h30m"`)
			case d <= 0 || d > MaxTimeout:
				ps.at(v, fmt.Sprintf("settings.timeout %s is out of range", quote(str)),
					fmt.Sprintf("use a duration above 0 and at most %s", formatDuration(MaxTimeout)))
			default:
				s.Timeout = d
			}
		}
	}
	return s
}

// entry reads one element of afis and merges the defaults into it.
func (ps *parser) entry(i int, n *yaml.Node, d *overrides, defs Defaults, ids, sels map[string]int) (Entry, bool) {
	n = resolve(n)
	where := fmt.Sprintf("afis entry %d", i+1)
	e := Entry{Pos: posOf(n), CopySourceTags: defs.CopySourceTags,
		ExclusiveTags: defs.ExclusiveTags, ExclusiveSharing: defs.ExclusiveSharing}
	nerr := len(ps.errs)
	fs := ps.fields(n, where, entryKeys)
	if fs == nil {
		return e, false
	}
	label := where

	idf, hasID := fs["id"]
	self, hasSel := fs["select"]
	switch {
	case hasID && hasSel:
		ps.at(self.key, where+" has both id and select",
			"use id for one AFI or select for a set of AFIs; split it into two entries")
	case !hasID && !hasSel:
		ps.at(n, where+" has neither id nor select",
			"add id: afi-… for one AFI, or select: {name: …, tags: {…}} for every matching AFI")
	}
	if hasID {
		if id, ok := ps.str(idf, "id"); ok {
			if p := checkAFIID(id); p != nil {
				ps.problem(resolve(idf.val), p)
			} else {
				e.ID, label = id, id
				if l, dup := ids[id]; dup {
					ps.at(resolve(idf.val), fmt.Sprintf("%s is listed twice in afis", id),
						fmt.Sprintf("it is already listed at line %d; keep one entry and list every region there", l))
				} else {
					ids[id] = idf.key.Line
				}
			}
		}
	}
	o := ps.overrides(fs, "")
	selOK := false
	if hasSel {
		sel, ok := ps.selector(self)
		if !hasID {
			e.Select, selOK = sel, ok
		}
	}
	if f, ok := fs["name"]; ok {
		if s, ok := ps.str(f, "name"); ok {
			if s == "" {
				ps.at(resolve(f.val), "name is empty", "remove the key to keep the source AFI's name")
			} else if p := checkText("name", s, MaxNameLen); p != nil {
				ps.problem(resolve(f.val), p)
			}
			e.Name = s
		}
	}
	if f, ok := fs["description"]; ok {
		if s, ok := ps.str(f, "description"); ok {
			if s == "" {
				ps.at(resolve(f.val), "description is empty", "remove the key to keep the source AFI's description")
			} else if p := checkText("description", s, MaxDescriptionLen); p != nil {
				ps.problem(resolve(f.val), p)
			}
			e.Description = s
		}
	}

	// Source region: the entry's, else the defaults'.
	srcBad := o.sourceBad
	switch {
	case o.sourceNode != nil:
		e.SourceRegion = o.source
	case d.sourceNode != nil:
		e.SourceRegion, srcBad = d.source, d.sourceBad
	}
	if e.SourceRegion == "" && !srcBad {
		ps.at(n, fmt.Sprintf("%s has no source region", label), "add source_region: here or under defaults")
	}

	// Destination regions: the entry's replace the defaults'.
	src := e.SourceRegion
	switch {
	case o.regionsNode != nil:
		bad := o.regionsBad
		for _, r := range o.regions {
			if r.name == src {
				ps.at(r.node, fmt.Sprintf("region %s is the source region of %s", quote(r.name), label),
					"remove it: an AFI is never copied into its own source region")
				bad = true
				continue
			}
			if src != "" && Partition(r.name) != Partition(src) {
				ps.at(r.node, fmt.Sprintf("region %s is in partition %s, but source region %s is in %s", quote(r.name), Partition(r.name), src, Partition(src)),
					"AFIs cannot be copied across partitions; create the AFI in that partition instead")
				bad = true
				continue
			}
			e.Regions = append(e.Regions, r.name)
		}
		if len(e.Regions) == 0 && !bad {
			ps.at(o.regionsNode, fmt.Sprintf("regions of %s is empty: nothing to copy", label), "list at least one destination region")
		}
	case d.regionsNode != nil:
		bad := d.regionsBad
		for _, r := range d.regions {
			if r.name == src {
				continue // the source already holds it
			}
			if src != "" && Partition(r.name) != Partition(src) {
				ps.at(n, fmt.Sprintf("%s inherits region %s (defaults.regions, line %d) from partition %s, but its source region %s is in %s",
					label, quote(r.name), r.node.Line, Partition(r.name), src, Partition(src)),
					"AFIs cannot be copied across partitions; give this entry its own regions:")
				bad = true
				continue
			}
			e.Regions = append(e.Regions, r.name)
		}
		if len(e.Regions) == 0 && !bad {
			ps.at(n, fmt.Sprintf("%s has no destination region: defaults.regions holds only its source region %s", label, src),
				"add regions: to this entry")
		}
	default:
		ps.at(n, fmt.Sprintf("%s has no destination regions", label), "add regions: [...] here or under defaults")
	}

	// Tags merge over the defaults'.
	e.Tags = make(map[string]string, len(defs.Tags)+len(o.tags))
	for k, v := range defs.Tags {
		e.Tags[k] = v
	}
	for k, v := range o.tags {
		e.Tags[k] = v
	}
	if len(e.Tags) > MaxUserTags && !o.tagsBad && !d.tagsBad {
		at := n
		if o.tagsNode != nil {
			at = o.tagsNode
		}
		ps.at(at, fmt.Sprintf("%s would carry %d tags (defaults.tags merged with its own)", label, len(e.Tags)),
			fmt.Sprintf("AWS allows %d tags per AFI and afisync writes 2 of its own (%s, %s), so at most %d",
				MaxTags, TagSource, TagPlan, MaxUserTags))
	}

	if o.copySourceTags != nil {
		e.CopySourceTags = *o.copySourceTags
	}
	switch {
	case o.hasShare:
		e.ShareWith = o.share
	case len(defs.ShareWith) > 0:
		e.ShareWith = append([]string(nil), defs.ShareWith...)
	}
	if len(e.ShareWith) == 0 {
		e.ShareWith = nil
	}
	// Public sharing only where written: the entry's groups replace the
	// defaults', and [] clears them.
	switch {
	case o.hasGroups:
		e.ShareWithGroups = o.groups
	case len(defs.ShareWithGroups) > 0:
		e.ShareWithGroups = append([]string(nil), defs.ShareWithGroups...)
	}
	if len(e.ShareWithGroups) == 0 {
		e.ShareWithGroups = nil
	}
	if o.exclusiveTags != nil {
		e.ExclusiveTags = *o.exclusiveTags
	}
	if o.exclusiveSharing != nil {
		e.ExclusiveSharing = *o.exclusiveSharing
	}

	if selOK && e.SourceRegion != "" {
		key := e.SourceRegion + "\x00" + selectorKey(e.Select)
		if l, dup := sels[key]; dup {
			ps.at(self.key, fmt.Sprintf("the same selector over %s is listed twice in afis", e.SourceRegion),
				fmt.Sprintf("it is already listed at line %d; keep one entry and list every region there", l))
		} else {
			sels[key] = self.key.Line
		}
	}
	return e, len(ps.errs) == nerr
}

// selector reads select: a name glob and/or tags. ok is false when anything
// in it was wrong.
func (ps *parser) selector(f field) (sel *Selector, ok bool) {
	nerr := len(ps.errs)
	defer func() { ok = len(ps.errs) == nerr }()
	fs := ps.fields(f.val, "select", selectKeys)
	if fs == nil {
		return nil, false
	}
	s := &Selector{}
	nf, hasName := fs["name"]
	tf, hasTags := fs["tags"]
	if !hasName && !hasTags {
		if len(ps.errs) > nerr {
			return nil, false // an unknown key, reported already, was probably meant
		}
		ps.at(resolve(f.val), "select has neither name nor tags",
			`give a name pattern, tags, or both; name: "*" selects every AFI you own in the source region`)
		return nil, false
	}
	if hasName {
		if pat, ok := ps.str(nf, "select.name"); ok {
			switch _, err := path.Match(pat, ""); {
			case pat == "":
				ps.at(resolve(nf.val), "select.name is empty", `give a name pattern like "release-*", or remove the key`)
			case err != nil:
				ps.at(resolve(nf.val), fmt.Sprintf("select.name %s is not a valid pattern", quote(pat)),
					`use * for any run of characters, ? for one, [abc] for a set; close every [`)
			default:
				if p := checkText("select.name", pat, MaxNameLen); p != nil {
					ps.problem(resolve(nf.val), p)
				}
			}
			s.Name = pat
		}
	}
	if hasTags {
		s.Tags, _ = ps.tagMap(tf, "select.tags", true)
		if len(s.Tags) == 0 {
			s.Tags = nil
			if resolve(tf.val).Kind == yaml.MappingNode && len(resolve(tf.val).Content) == 0 {
				ps.at(tf.key, "select.tags is empty", "list the tags a source AFI must carry, or remove the key")
			}
		}
	}
	return s, true
}

// selectorKey is a canonical form of a selector, for duplicate detection.
func selectorKey(s *Selector) string {
	var b strings.Builder
	b.WriteString(s.Name)
	keys := make([]string, 0, len(s.Tags))
	for k := range s.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%s\x00%s", k, s.Tags[k])
	}
	return b.String()
}
