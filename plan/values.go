package plan

import (
	"fmt"
	"path"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// The readers of the plan's values: each checks the value of one key,
// records every problem with its position, and returns the value with
// whether it was right. The schema (schema.go) says which key uses which.

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

// listItem is a value of a list with the node it was written at.
type listItem struct {
	name string
	node *yaml.Node
}

// itemNames are the values of a list; nil when it is empty.
func itemNames(items []listItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.name)
	}
	return out
}

// regionList reads a list of well-formed, distinct regions.
func (ps *parser) regionList(f field, what string) ([]listItem, bool) {
	return ps.distinctList(f, what, MaxRegions, "[us-west-2, eu-west-1]", "a region", "region", checkRegion)
}

// groupList reads share_with_groups: distinct load-permission groups, of
// which EC2 has only "all" (public).
func (ps *parser) groupList(f field, what string) ([]string, bool) {
	// Only one group exists, so any item past the first is an error anyway;
	// the bound (MaxAccounts) only keeps an absurd list from flooding the
	// output.
	items, ok := ps.distinctList(f, what, MaxAccounts, "[all]", "a load-permission group", "group", checkGroup)
	return itemNames(items), ok
}

// distinctList reads a list of at most limit distinct strings, each passing
// check; kind names one item in type errors, noun in the duplicate message.
// ok is false when anything in the list was wrong (so later checks do not
// pile on).
func (ps *parser) distinctList(f field, what string, limit int, example, kind, noun string, check func(string) *problem) ([]listItem, bool) {
	items, ok := ps.list(f, what, limit, example)
	var out []listItem
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
		out = append(out, listItem{s, it})
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

// version reads the schema version. A newer version may mean anything, so
// it stops the reading and is the only problem reported.
func (ps *parser) version(f field, what string) (int, bool) {
	v, ok := ps.integer(f, what)
	switch {
	case !ok:
		return 0, false
	case v > SchemaVersion:
		ps.errs = ps.errs[:0]
		e := ps.at(resolve(f.val), fmt.Sprintf("plan version %d is not supported by this afisync", v),
			fmt.Sprintf("it understands version %d only; upgrade afisync to use this plan", SchemaVersion))
		e.Err = ErrUnsupportedVersion
		ps.stop = true
		return 0, false
	case v < 1:
		ps.at(resolve(f.val), fmt.Sprintf("plan version %d does not exist", v), fmt.Sprintf("write version: %d", SchemaVersion))
		return 0, false
	}
	return v, true
}

// text reads a name or a description: at most max printable characters,
// not empty (emptyHint says what to do instead). limitHint, if set, is added
// to the hint of a value AWS would refuse.
func text(max int, emptyHint, limitHint string) func(ps *parser, f field, what string) (string, bool) {
	return func(ps *parser, f field, what string) (string, bool) {
		s, ok := ps.str(f, what)
		switch {
		case !ok:
			return "", false
		case s == "":
			ps.at(resolve(f.val), what+" is empty", emptyHint)
			return "", false
		}
		if p := checkText(what, s, max); p != nil {
			if limitHint != "" {
				p.hint += "; " + limitHint
			}
			ps.problem(resolve(f.val), p)
			return "", false
		}
		return s, true
	}
}

// intIn reads a whole number from lo to hi; unit follows the range in the
// hint ("use 1 to 256 copies at once").
func intIn(lo, hi int, unit string) func(ps *parser, f field, what string) (int, bool) {
	return func(ps *parser, f field, what string) (int, bool) {
		n, ok := ps.integer(f, what)
		if ok && (n < lo || n > hi) {
			ps.at(resolve(f.val), fmt.Sprintf("%s %d is out of range", what, n), fmt.Sprintf("use %d to %d%s", lo, hi, unit))
			return 0, false
		}
		return n, ok
	}
}

// timeout reads a duration with a unit, above 0 and at most MaxTimeout.
func (ps *parser) timeout(f field, what string) (time.Duration, bool) {
	return ps.durationIn(f, what, 1, MaxTimeout, fmt.Sprintf("use a duration above 0 and at most %s", formatDuration(MaxTimeout)))
}

// durationIn reads a duration with a unit (Go syntax: "90m", "2h") from lo
// to hi; rangeHint is the hint for one out of range.
func (ps *parser) durationIn(f field, what string, lo, hi time.Duration, rangeHint string) (time.Duration, bool) {
	v := resolve(f.val)
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!float") {
		ps.at(v, fmt.Sprintf("%s %s has no unit", what, quote(v.Value)),
			fmt.Sprintf(`write a duration with a unit, like "%ss", "90m" or "2h"`, v.Value))
		return 0, false
	}
	s, ok := ps.str(f, what)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		ps.at(v, fmt.Sprintf("%s %s is not a duration", what, quote(s)), `write it like "90m", "2h" or "1h30m"`)
		return 0, false
	case d < lo || d > hi:
		ps.at(v, fmt.Sprintf("%s %s is out of range", what, quote(s)), rangeHint)
		return 0, false
	}
	return d, true
}

// checked reads a string that check accepts: an entry's AFI ID
// (checkAFIID), a region (checkRegion).
func checked(check func(string) *problem) func(ps *parser, f field, what string) (string, bool) {
	return func(ps *parser, f field, what string) (string, bool) {
		s, ok := ps.str(f, what)
		if !ok {
			return "", false
		}
		if p := check(s); p != nil {
			ps.problem(resolve(f.val), p)
			return "", false
		}
		return s, true
	}
}

// regionsValue is the value of regions: the regions read, and where each
// is written (entryDraft.regions), for the checks against the source
// region that come once the entry is read (inheritRegions).
func regionsValue() value[entryDraft] {
	v := valueOf(func(x *entryDraft) *[]string { return &x.Regions }, nil, strList)
	v.read = func(ps *parser, f field, what string, x *entryDraft) bool {
		items, ok := ps.regionList(f, what)
		x.regions, x.Regions = items, itemNames(items)
		return ok
	}
	return v
}

// copyTags reads the tags copies carry; nil when there are none.
func (ps *parser) copyTags(f field, what string) (map[string]string, bool) {
	tags, ok := ps.tagMap(f, what, false)
	if len(tags) == 0 {
		tags = nil
	}
	return tags, ok
}

// selectTags reads the tags a selected source must carry: at least one
// when the key is written.
func (ps *parser) selectTags(f field, what string) (map[string]string, bool) {
	tags, ok := ps.tagMap(f, what, true)
	if len(tags) > 0 {
		return tags, ok
	}
	if v := resolve(f.val); v.Kind == yaml.MappingNode && len(v.Content) == 0 {
		ps.at(f.key, what+" is empty", "list the tags a source AFI must carry, or remove the key")
	}
	return nil, false
}

// glob reads a selector's name pattern (path.Match syntax).
func (ps *parser) glob(f field, what string) (string, bool) {
	pat, ok := ps.str(f, what)
	if !ok {
		return "", false
	}
	switch _, err := path.Match(pat, ""); {
	case pat == "":
		ps.at(resolve(f.val), what+" is empty", `give a name pattern like "release-*", or remove the key`)
		return "", false
	case err != nil:
		ps.at(resolve(f.val), fmt.Sprintf("%s %s is not a valid pattern", what, quote(pat)),
			`use * for any run of characters, ? for one, [abc] for a set; close every [`)
		return "", false
	}
	if p := checkText(what, pat, MaxNameLen); p != nil {
		ps.problem(resolve(f.val), p)
		return "", false
	}
	return pat, true
}

// build reads how an entry's AFI is built: input and logs.
func (ps *parser) build(f field, what string) (*Build, bool) {
	nerr := len(ps.errs)
	fs := ps.fields(f.val, what, names(buildKeys))
	if fs == nil {
		return nil, false
	}
	if _, ok := fs["input"]; !ok && len(ps.errs) > nerr {
		return nil, false // an unknown key, reported already, was probably meant
	}
	b := &Build{}
	readKeys(ps, buildKeys, resolve(f.val), fs, what+".", b)
	return b, len(ps.errs) == nerr
}
