package plan

import (
	"fmt"
	"maps"
	"sort"
	"strings"
)

// inheritDefaults gives an entry, once its own keys are read, every
// inherited key it does not write: by the key's merge function, else as a
// copy of the defaults' value.
func (ps *parser) inheritDefaults(x *entryDraft) {
	for _, k := range defaultsKeys {
		switch {
		case k.merge != nil:
			k.merge(ps, x)
		case !x.has(k.name):
			k.copy(x, x.defaults)
		}
	}
}

// inheritSourceRegion: the entry's source region, else the defaults'; one
// of them must be written.
func inheritSourceRegion(ps *parser, x *entryDraft) {
	bad := x.bad["source_region"]
	if d := x.defaults; !x.has("source_region") && d.has("source_region") {
		x.SourceRegion, bad = d.SourceRegion, d.bad["source_region"]
	}
	if x.SourceRegion == "" && !bad {
		ps.at(x.node, fmt.Sprintf("%s has no source region", x.label()), "add source_region: here or under defaults")
	}
}

// inheritRegions: the entry's regions replace the defaults', and may not
// hold its source region; inherited ones leave it out. Either way they stay
// in the source region's partition, and at least one must remain.
func inheritRegions(ps *parser, x *entryDraft) {
	switch {
	case x.has("regions"):
		ps.ownRegions(x)
	case x.defaults.has("regions"):
		ps.inheritedRegions(x)
	default:
		ps.at(x.node, fmt.Sprintf("%s has no destination regions", x.label()), "add regions: [...] here or under defaults")
	}
}

// ownRegions checks the regions an entry writes against its source region.
func (ps *parser) ownRegions(x *entryDraft) {
	src, label := x.SourceRegion, x.label()
	bad := x.bad["regions"]
	x.Regions = nil
	for _, r := range x.regions {
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
		x.Regions = append(x.Regions, r.name)
	}
	if len(x.Regions) == 0 && !bad {
		ps.at(x.fields["regions"].key, fmt.Sprintf("regions of %s is empty: nothing to copy", label), "list at least one destination region")
	}
}

// inheritedRegions gives an entry the defaults' regions but its source
// region.
func (ps *parser) inheritedRegions(x *entryDraft) {
	src, label := x.SourceRegion, x.label()
	bad := x.defaults.bad["regions"]
	x.Regions = nil
	for _, r := range x.defaults.regions {
		if r.name == src {
			continue // the source already holds it
		}
		if src != "" && Partition(r.name) != Partition(src) {
			ps.at(x.node, fmt.Sprintf("%s inherits region %s (defaults.regions, line %d) from partition %s, but its source region %s is in %s",
				label, quote(r.name), r.node.Line, Partition(r.name), src, Partition(src)),
				"AFIs cannot be copied across partitions; give this entry its own regions:")
			bad = true
			continue
		}
		x.Regions = append(x.Regions, r.name)
	}
	if len(x.Regions) == 0 && !bad {
		ps.at(x.node, fmt.Sprintf("%s has no destination region: defaults.regions holds only its source region %s", label, src),
			"add regions: to this entry")
	}
}

// mergeTags merges the entry's tags over the defaults' (the entry wins on
// the same key); with afisync's own two, they must fit on one AFI.
func mergeTags(ps *parser, x *entryDraft) {
	d := x.defaults
	tags := make(map[string]string, len(d.Tags)+len(x.Tags))
	maps.Copy(tags, d.Tags)
	maps.Copy(tags, x.Tags)
	x.Tags = tags
	if len(tags) > MaxUserTags && !x.bad["tags"] && !d.bad["tags"] {
		at := x.node
		if f, ok := x.fields["tags"]; ok {
			at = f.key
		}
		ps.at(at, fmt.Sprintf("%s would carry %d tags (defaults.tags merged with its own)", x.label(), len(tags)),
			fmt.Sprintf("AWS allows %d tags per AFI and afisync writes 2 of its own (%s, %s), so at most %d",
				MaxTags, TagSource, TagPlan, MaxUserTags))
	}
}

// unique checks that no earlier entry lists the same AFI ID, the same
// selector over the same source region, or the same build (input, logs and
// name) in the same source region. Selectors and builds are per account:
// two accounts may each select their own AFIs with one selector, or build
// their own from one DCP.
func (ps *parser) unique(x *entryDraft, d *doc) {
	if x.ID != "" {
		f := x.fields["id"]
		if l, dup := d.ids[x.ID]; dup {
			ps.at(resolve(f.val), fmt.Sprintf("%s is listed twice in afis", x.ID),
				fmt.Sprintf("it is already listed at line %d; keep one entry and list every region there", l))
		} else {
			d.ids[x.ID] = f.key.Line
		}
	}
	if x.Build != nil && x.SourceRegion != "" && x.Name != "" && len(written(x, "id", "select", "build")) == 1 {
		f := x.fields["build"]
		key := x.Account + "\x00" + x.SourceRegion + "\x00" + x.Build.Input + "\x00" + x.Build.Logs + "\x00" + x.Name
		if l, dup := d.builds[key]; dup {
			ps.at(f.key, fmt.Sprintf("the same build (input, logs and name) in %s%s is listed twice in afis", x.SourceRegion, inAccount(x.Account)),
				fmt.Sprintf("it is already listed at line %d; keep one entry and list every region there", l))
		} else {
			d.builds[key] = f.key.Line
		}
	}
	if x.Select == nil || x.has("id") || x.SourceRegion == "" {
		return
	}
	f := x.fields["select"]
	key := x.Account + "\x00" + x.SourceRegion + "\x00" + selectorKey(x.Select)
	if l, dup := d.sels[key]; dup {
		ps.at(f.key, fmt.Sprintf("the same selector over %s%s is listed twice in afis", x.SourceRegion, inAccount(x.Account)),
			fmt.Sprintf("it is already listed at line %d; keep one entry and list every region there", l))
	} else {
		d.sels[key] = f.key.Line
	}
}

// inAccount names an entry's account in a message: "" for the command's own
// credentials.
func inAccount(name string) string {
	if name == "" {
		return ""
	}
	return " in account " + name
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
