package reconcile

import (
	"fmt"
	"sort"
	"strings"
)

// Decision is what a diff decided for one target, or one copy to prune,
// with the observed state the decision rests on. A saved plan
// (afisync diff --out) is a list of them; applying it (sync --from) makes the
// same decisions again on a fresh inventory and refuses when any differs.
type Decision struct {
	SourceRegion string   `json:"source_region"`
	SourceAFI    string   `json:"source_afi"`
	Region       string   `json:"region"`
	Action       Action   `json:"action"` // an Action, or "prune" / "release"
	Attempt      int      `json:"attempt,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	Updates      []string `json:"updates,omitempty"`
	Basis        Basis    `json:"basis"`
}

// Basis is the state a Decision rests on: the source and the copy as the
// inventory showed them.
type Basis struct {
	SourceState string            `json:"source_state,omitempty"`
	SourceAGFI  string            `json:"source_agfi,omitempty"`
	CopyAFI     string            `json:"copy_afi,omitempty"`
	CopyState   string            `json:"copy_state,omitempty"`
	CopyName    string            `json:"copy_name,omitempty"`
	CopyDesc    string            `json:"copy_description,omitempty"`
	CopyPublic  bool              `json:"copy_public,omitempty"`
	CopyTags    map[string]string `json:"copy_tags,omitempty"`
	Failed      []string          `json:"failed_copies,omitempty"`
}

// The actions a Decision names for copies to prune.
const (
	ActionPrune   Action = "prune"
	ActionRelease Action = "release"
	// ActionExpire: delete a copy of a source a retention rule expired.
	ActionExpire Action = "expire"
)

// Decisions lists a diff's decisions in a stable order.
func Decisions(d *DiffResult) []Decision {
	out := make([]Decision, 0, len(d.Changes)+len(d.Prunes))
	for _, c := range d.Changes {
		dec := Decision{SourceRegion: c.Target.SourceRegion, SourceAFI: c.Target.SourceAFI, Region: c.Target.Region,
			Action: c.Action, Attempt: c.Attempt, Reason: c.Reason, Basis: Basis{Failed: c.Failed}}
		switch {
		case c.Target.SourceAFI == "" && c.Selector != nil:
			dec.SourceAFI = "select:" + c.Selector.String()
		case c.Target.SourceAFI == "" && c.Target.Build != nil:
			// Not built yet: the build names the source.
			dec.SourceAFI = "build:" + c.Target.Name + "/" + BuildKey(c.Target.Build, c.Target.Name)
		}
		for _, u := range c.Updates {
			dec.Updates = append(dec.Updates, u.String())
		}
		if s := c.Source; s != nil {
			dec.Basis.SourceState, dec.Basis.SourceAGFI = s.State, s.AGFI
		}
		dec.Basis.copy(c.Copy)
		out = append(out, dec)
	}
	for _, p := range d.Prunes {
		dec := Decision{SourceRegion: p.SourceRegion, SourceAFI: p.SourceAFI, Region: p.Copy.Region, Action: ActionPrune, Reason: p.Reason}
		switch {
		case len(p.Others) > 0:
			dec.Action = ActionRelease
		case p.Expire:
			dec.Action = ActionExpire
		}
		dec.Basis.copy(&p.Copy)
		out = append(out, dec)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

func (b *Basis) copy(cp *Image) {
	if cp == nil {
		return
	}
	b.CopyAFI, b.CopyState, b.CopyName, b.CopyDesc, b.CopyPublic = cp.ID, cp.State, cp.Name, cp.Description, cp.Public
	if len(cp.Tags) > 0 {
		b.CopyTags = make(map[string]string, len(cp.Tags))
		for k, v := range cp.Tags {
			b.CopyTags[k] = v
		}
	}
}

func (d Decision) key() string {
	k := d.SourceRegion + "/" + d.SourceAFI + "→" + d.Region
	if d.Action == ActionPrune || d.Action == ActionRelease || d.Action == ActionExpire {
		k += " " + d.Basis.CopyAFI
	}
	return k
}

// Stale compares the decisions a saved plan was made of with the ones a
// fresh diff makes, and says, target by target, what changed; nothing when
// the saved plan still holds.
func Stale(saved, now []Decision) []string {
	was := make(map[string]Decision, len(saved))
	for _, d := range saved {
		was[d.key()] = d
	}
	var diffs []string
	seen := map[string]bool{}
	for _, n := range now {
		k := n.key()
		seen[k] = true
		s, ok := was[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: new since the plan was saved (%s)", k, n.Action))
			continue
		}
		if why := s.differs(n); why != "" {
			diffs = append(diffs, k+": "+why)
		}
	}
	for _, s := range saved {
		if !seen[s.key()] {
			diffs = append(diffs, fmt.Sprintf("%s: no longer planned (was %s)", s.key(), s.Action))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// differs says how two decisions for one target differ: "" when they agree.
func (d Decision) differs(n Decision) string {
	var why []string
	if d.Action != n.Action {
		why = append(why, fmt.Sprintf("was %s, now %s", d.Action, n.Action))
	}
	if d.Attempt != n.Attempt {
		why = append(why, fmt.Sprintf("attempt %d, now %d", d.Attempt, n.Attempt))
	}
	if strings.Join(d.Updates, ", ") != strings.Join(n.Updates, ", ") {
		why = append(why, fmt.Sprintf("updates %q, now %q", strings.Join(d.Updates, ", "), strings.Join(n.Updates, ", ")))
	}
	a, b := d.Basis, n.Basis
	for _, f := range []struct{ what, was, now string }{
		{"source", a.SourceState, b.SourceState},
		{"source AGFI", a.SourceAGFI, b.SourceAGFI},
		{"copy", a.CopyAFI, b.CopyAFI},
		{"copy state", a.CopyState, b.CopyState},
		{"copy name", a.CopyName, b.CopyName},
		{"copy description", a.CopyDesc, b.CopyDesc},
		{"copy public", fmt.Sprint(a.CopyPublic), fmt.Sprint(b.CopyPublic)},
		{"copy tags", canonicalTags(a.CopyTags), canonicalTags(b.CopyTags)},
		{"failed copies", strings.Join(a.Failed, ","), strings.Join(b.Failed, ",")},
	} {
		if f.was != f.now {
			why = append(why, fmt.Sprintf("%s %s, now %s", f.what, orNone(f.was), orNone(f.now)))
		}
	}
	return strings.Join(why, "; ")
}

func canonicalTags(m map[string]string) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
