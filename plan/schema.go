package plan

import (
	"maps"
	"reflect"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// The plan schema, declared once. Each mapping of a plan file has one table
// of its keys below: topKeys (the file), settingsKeys, entryKeys (an entry
// under afis; the keys marked inherited are also the keys of defaults) and
// selectKeys. Everything else derives from these tables:
//
//   - the loader reads the keys of a mapping in table order (readKeys) and
//     rejects any other key, with "did you mean" hints and, for a key
//     written in the wrong mapping, where it belongs (keyHint, keyHome);
//   - an entry inherits each inherited key from defaults (inheritDefaults);
//   - validate --print writes the keys back in table order (EffectiveYAML);
//   - the README's plan reference lists exactly these keys, with these types
//     (TestREADMEListsTheSchema).
//
// Adding a key is one row here, the function that reads and checks its
// value (values.go), a field in the struct it fills (plan.go) and a README
// row. An inherited key whose default is not the zero value also sets it in
// schemaDefaults; one whose merge is more than "the entry's, else the
// defaults'" gives a merge function (inherit.go).

// A key is one key of one mapping of a plan file, whose value is read into
// a T (the plan being read, its Settings, an entry, a Selector).
type key[T any] struct {
	name string
	// typ is the value's type in the words of the README's plan reference.
	typ string
	// note says what the key means in this mapping when the same name
	// means something else in another ("the plan's name"); the hint for a
	// key written in the wrong mapping shows it.
	note string
	// required, for a key every plan must write, is the hint when it is
	// missing.
	required string
	value[T]

	// Entry keys only:

	// inherited keys may also be written under defaults; an entry that
	// does not write one gets the defaults' value.
	inherited bool
	// merge gives an entry its value of an inherited key once all its keys
	// are read, and checks what spans several keys. nil: the entry's value
	// if it writes the key, else a copy of the defaults'.
	merge func(ps *parser, x *entryDraft)
	// always: validate --print states the key on every entry, even when
	// empty. The others appear only where they or their default are set, so
	// that the effective plan of a plan that does not use a newer key stays
	// as it was.
	always bool
	// omitZero: validate --print leaves the key out of an entry whose
	// value is unset even when defaults set it (defaults.retain does not
	// reach id and build entries).
	omitZero bool
}

// value is how a key's value is read, checked and written back.
type value[T any] struct {
	// read checks the value at f and, when it is right, stores it in v;
	// what names the key in messages ("defaults.regions"). It reports
	// whether the value was right.
	read func(ps *parser, f field, what string, v *T) bool
	zero func(v *T) bool       // the key is unset, empty or false
	node func(v *T) *yaml.Node // the value as validate --print writes it
	copy func(dst, src *T)     // copies the value, lists and maps included
}

// valueOf is the value kept at get(v): read checks it, node writes it.
func valueOf[T, V any](get func(*T) *V, read func(ps *parser, f field, what string) (V, bool), node func(V) *yaml.Node) value[T] {
	return value[T]{
		read: func(ps *parser, f field, what string, v *T) bool {
			val, ok := read(ps, f, what)
			if ok {
				*get(v) = val
			}
			return ok
		},
		zero: func(v *T) bool { return isEmpty(*get(v)) },
		node: func(v *T) *yaml.Node { return node(*get(v)) },
		copy: func(dst, src *T) { *get(dst) = clone(*get(src)) },
	}
}

// schemaDefaults are the defaults of a plan that writes none.
var schemaDefaults = Options{CopySourceTags: true}

// topKeys are the keys of the plan file itself. The order matters beyond
// the output: defaults are read before the entries that inherit them.
var topKeys = []key[doc]{
	{name: "version", typ: "integer", required: "add version: 1 at the top of the file",
		value: valueOf(func(d *doc) *int { return &d.Version }, (*parser).version, intNode)},
	{name: "name", typ: "string", note: "the plan's name", required: "add name: <plan name>; afisync tags every copy with it",
		value: valueOf(func(d *doc) *string { return &d.Name }, text(MaxTagValueLen, "give the plan a name; afisync tags every copy with it",
			"the name becomes the value of this plan's claim tag, "+ClaimPrefix+"<name>"), strNode)},
	{name: "accounts", typ: "mapping of accounts",
		value: value[doc]{read: (*parser).accounts, node: accountsNode, zero: func(d *doc) bool { return len(d.Accounts) == 0 }}},
	{name: "defaults", typ: "mapping",
		value: value[doc]{read: (*parser).defaults, node: defaultsNode, zero: shownAlways[doc]}},
	{name: "settings", typ: "mapping",
		value: valueOf(func(d *doc) *Settings { return &d.Settings }, (*parser).settings, settingsNode)},
	{name: "afis", typ: "list of entries", required: "add afis: with a list of entries, each with id: afi-… or select: {name: …}",
		value: value[doc]{read: (*parser).afis, node: afisNode, zero: shownAlways[doc]}},
}

// settingsKeys are the executor knobs; a flag of sync overrides each.
var settingsKeys = []key[Settings]{
	{name: "concurrency", typ: "integer",
		value: valueOf(func(s *Settings) *int { return &s.Concurrency }, intIn(MinConcurrency, MaxConcurrency, " copies at once"), intNode)},
	{name: "retries", typ: "integer", value: value[Settings]{
		// Retries are kept with RetriesSet: "retries: 0" is not "not set".
		read: func(ps *parser, f field, what string, s *Settings) bool {
			n, ok := intIn(0, MaxRetries, "")(ps, f, what)
			if ok {
				s.Retries, s.RetriesSet = n, true
			}
			return ok
		},
		zero: func(s *Settings) bool { return !s.RetriesSet },
		node: func(s *Settings) *yaml.Node { return intNode(s.Retries) },
	}},
	{name: "timeout", typ: "duration string",
		value: valueOf(func(s *Settings) *time.Duration { return &s.Timeout }, (*parser).timeout, durationNode)},
	{name: "quota", typ: "mapping",
		value: valueOf(func(s *Settings) *Quota { return &s.Quota }, (*parser).quota, quotaNode)},
}

// entryKeys are the keys of an entry under afis; the inherited ones are
// also the keys of defaults.
var entryKeys = []key[entryDraft]{
	{name: "id", typ: "AFI ID",
		value: valueOf(func(x *entryDraft) *string { return &x.ID }, checked(checkAFIID), strNode)},
	{name: "select", typ: "mapping",
		value: valueOf(func(x *entryDraft) **Selector { return &x.Select }, (*parser).selector, selectorNode)},
	{name: "build", typ: "mapping",
		value: valueOf(func(x *entryDraft) **Build { return &x.Build }, (*parser).build, buildNode)},
	{name: "account", typ: "account name", inherited: true,
		value: valueOf(func(x *entryDraft) *string { return &x.Account }, (*parser).accountRef, strNode)},
	{name: "source_region", typ: "region", inherited: true, always: true, merge: inheritSourceRegion,
		value: valueOf(func(x *entryDraft) *string { return &x.SourceRegion }, checked(checkRegion), strNode)},
	{name: "regions", typ: "list of regions", inherited: true, always: true, merge: inheritRegions,
		value: regionsValue()},
	{name: "tags", typ: "mapping of strings", inherited: true, always: true, merge: mergeTags,
		value: valueOf(func(x *entryDraft) *map[string]string { return &x.Tags }, (*parser).copyTags, tagsNode)},
	{name: "copy_source_tags", typ: "boolean", inherited: true, always: true,
		value: valueOf(func(x *entryDraft) *bool { return &x.CopySourceTags }, (*parser).boolean, boolNode)},
	{name: "share_with", typ: "list of account IDs or names", inherited: true, always: true,
		value: shareWithValue()},
	{name: "share_with_groups", typ: "list of groups", inherited: true,
		value: valueOf(func(x *entryDraft) *[]string { return &x.ShareWithGroups }, (*parser).groupList, strList)},
	{name: "exclusive_tags", typ: "boolean", inherited: true,
		value: valueOf(func(x *entryDraft) *bool { return &x.ExclusiveTags }, (*parser).boolean, boolNode)},
	{name: "exclusive_sharing", typ: "boolean", inherited: true,
		value: valueOf(func(x *entryDraft) *bool { return &x.ExclusiveSharing }, (*parser).boolean, boolNode)},
	{name: "retain", typ: "mapping", inherited: true, merge: inheritRetain, omitZero: true,
		value: valueOf(func(x *entryDraft) **Retain { return &x.Retain }, (*parser).retain, retainNode)},
	{name: "name", typ: "string", note: "the copies' name",
		value: valueOf(func(x *entryDraft) *string { return &x.Name }, text(MaxNameLen, "remove the key to keep the source AFI's name", ""), strNode)},
	{name: "description", typ: "string",
		value: valueOf(func(x *entryDraft) *string { return &x.Description },
			text(MaxDescriptionLen, "remove the key to keep the source AFI's description", ""), strNode)},
}

// accountKeys are the keys of an account under accounts:. Exactly one of
// profile and role_arn is required; the others but id go with role_arn.
var accountKeys = []key[Account]{
	{name: "profile", typ: "string", note: "a shared-config profile",
		value: valueOf(func(a *Account) *string { return &a.Profile }, text(maxProfileNameLen, "give the name of a profile of ~/.aws/config", ""), strNode)},
	{name: "role_arn", typ: "IAM role ARN",
		value: valueOf(func(a *Account) *string { return &a.RoleARN }, checked(checkRoleARN), strNode)},
	{name: "source_profile", typ: "string",
		value: valueOf(func(a *Account) *string { return &a.SourceProfile }, text(maxProfileNameLen, "remove the key to assume the role with the command's own credentials", ""), strNode)},
	{name: "external_id", typ: "string",
		value: valueOf(func(a *Account) *string { return &a.ExternalID }, checked(checkExternalID), strNode)},
	{name: "session_name", typ: "string",
		value: valueOf(func(a *Account) *string { return &a.SessionName }, checked(checkSessionName), strNode)},
	{name: "duration", typ: "duration string",
		value: valueOf(func(a *Account) *time.Duration { return &a.Duration }, (*parser).roleDuration, durationNode)},
	{name: "id", typ: "account ID", note: "the account's 12-digit ID",
		value: valueOf(func(a *Account) *string { return &a.ID }, checked(checkAccount), strNode)},
}

// selectKeys are the keys of an entry's select.
var selectKeys = []key[Selector]{
	{name: "name", typ: "glob",
		value: valueOf(func(s *Selector) *string { return &s.Name }, (*parser).glob, strNode)},
	{name: "tags", typ: "mapping of strings",
		value: valueOf(func(s *Selector) *map[string]string { return &s.Tags }, (*parser).selectTags, tagsNode)},
}

// buildKeys are the keys of an entry's build.
var buildKeys = []key[Build]{
	{name: "input", typ: "S3 URI", required: "add input: s3://bucket/key of the DCP tarball",
		value: valueOf(func(b *Build) *string { return &b.Input }, checked(checkS3Input), strNode)},
	{name: "logs", typ: "S3 URI",
		value: valueOf(func(b *Build) *string { return &b.Logs }, checked(checkS3Logs), strNode)},
}

// defaultsKeys are the inherited entry keys: the keys of defaults.
var defaultsKeys = inheritedKeys()

func inheritedKeys() []key[entryDraft] {
	var out []key[entryDraft]
	for _, k := range entryKeys {
		if k.inherited {
			out = append(out, k)
		}
	}
	return out
}

// names lists the keys of a mapping, in table order.
func names[T any](keys []key[T]) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.name
	}
	return out
}

// allKeys is every key of every mapping but select (top level, defaults,
// settings, entries; each once), and keyHome says where each belongs: both
// are for hints about a key written in the wrong mapping.
var (
	allKeys []string
	keyHome map[string]string
)

func init() { allKeys, keyHome = homes() }

func homes() ([]string, map[string]string) {
	var all []string
	home := map[string]string{}
	add := func(where string, name, note string) {
		if note != "" {
			where += " (" + note + ")"
		}
		if h, ok := home[name]; ok {
			home[name] = h + " or " + where
			return
		}
		all = append(all, name)
		home[name] = where
	}
	for _, k := range topKeys {
		add("at the top level", k.name, k.note)
	}
	for _, k := range defaultsKeys {
		add("under defaults", k.name, "")
	}
	for _, k := range settingsKeys {
		add("under settings", k.name, k.note)
	}
	for _, k := range entryKeys {
		add("on an entry under afis", k.name, k.note)
	}
	for _, k := range accountKeys {
		add("in an account under accounts", k.name, k.note)
	}
	return all, home
}

// shownAlways is the zero of a key validate --print always writes.
func shownAlways[T any](*T) bool { return false }

// isEmpty reports whether a value is unset: zero, or an empty list or map.
func isEmpty(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		return rv.Len() == 0
	case reflect.Invalid:
		return true
	}
	return rv.IsZero()
}

// clone copies a value so that the copy shares no list or map with it.
func clone[V any](v V) V {
	switch x := any(v).(type) {
	case []string:
		return any(slices.Clone(x)).(V)
	case map[string]string:
		return any(maps.Clone(x)).(V)
	}
	return v
}
