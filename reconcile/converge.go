package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/afisync/afisync/plan"
)

// LoadPermissions are the accounts and groups an AFI is shared with
// (DescribeFpgaImageAttribute loadPermission).
type LoadPermissions struct {
	Users  []string
	Groups []string
}

// UpdateKind names what an Update changes.
type UpdateKind string

// The kinds of attribute change Diff plans on an existing copy.
const (
	UpdateTag         UpdateKind = "tag"         // add or change a tag
	UpdateUntag       UpdateKind = "untag"       // remove a tag (exclusive_tags)
	UpdateShare       UpdateKind = "share"       // add a load permission (account or group)
	UpdateUnshare     UpdateKind = "unshare"     // remove one (exclusive_sharing)
	UpdateName        UpdateKind = "name"        // set the copy's name
	UpdateDescription UpdateKind = "description" // set the copy's description
)

// Update is one attribute change on one copy.
type Update struct {
	Kind  UpdateKind
	Key   string // tag key; for share/unshare the account ID or group
	Value string // new tag value, name or description
	Old   string // previous tag value, name or description ("" if none)
	Group bool   // share/unshare: Key is a group, not an account
}

// String renders an update the way a diff shows it: "+ tag team=fpga",
// "~ tag team=old→fpga", "- tag x", "+ share 111122223333", "- share all",
// `~ name "a"→"b"`.
func (u Update) String() string {
	switch u.Kind {
	case UpdateTag:
		if u.Old != "" {
			return fmt.Sprintf("~ tag %s=%s→%s", u.Key, u.Old, u.Value)
		}
		return fmt.Sprintf("+ tag %s=%s", u.Key, u.Value)
	case UpdateUntag:
		return fmt.Sprintf("- tag %s", u.Key)
	case UpdateShare:
		return "+ share " + u.Key
	case UpdateUnshare:
		return "- share " + u.Key
	case UpdateName, UpdateDescription:
		return fmt.Sprintf("~ %s %q→%q", u.Kind, u.Old, u.Value)
	}
	return string(u.Kind)
}

// Updates is a list of attribute changes.
type Updates []Update

// bookkeeping reports whether the updates only record afisync's own
// sharing digest.
func (us Updates) bookkeeping() bool {
	for _, u := range us {
		if u.Key != plan.TagSharing {
			return false
		}
	}
	return len(us) > 0
}

// String joins the updates with ", ", leaving out the sharing digest
// (bookkeeping of afisync's, not a change anyone asked for).
func (us Updates) String() string {
	parts := make([]string, 0, len(us))
	for _, u := range us {
		if u.Key != plan.TagSharing {
			parts = append(parts, u.String())
		}
	}
	return strings.Join(parts, ", ")
}

// SharingDigest is the value of the plan.TagSharing tag for a target's
// desired account and group sharing: 12 hex digits of a SHA-256 of the
// sorted lists.
func SharingDigest(t plan.Target) string {
	h := sha256.New()
	for _, a := range sortedUnique(t.ShareWith) {
		fmt.Fprintf(h, "u:%s\n", a)
	}
	for _, g := range sortedUnique(t.ShareWithGroups) {
		fmt.Fprintf(h, "g:%s\n", g)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// digestTrusted reports whether a copy's sharing can be taken as converged
// without reading its load permissions: it carries the digest of the
// target's sharing, which afisync writes only after applying it; only this
// plan claims it; the target is not exclusive (that mode exists to catch
// grants made by hand); and the run does not --refresh.
func digestTrusted(t plan.Target, cp *Image, opt DiffOptions) bool {
	return !opt.Refresh && !t.ExclusiveSharing && cp.Tags[plan.TagSharing] == SharingDigest(t) &&
		len(plan.OtherClaims(cp.Tags, opt.PlanName)) == 0
}

// digestUpdate is the update that records a target's sharing digest on a
// copy whose load permissions were judged and that only this plan claims,
// or nil.
func digestUpdate(t plan.Target, cp *Image, perms *LoadPermissions, planName string) *Update {
	if perms == nil || !needsLoadPermissions(t) || t.ExclusiveSharing || len(plan.OtherClaims(cp.Tags, planName)) > 0 {
		return nil
	}
	d := SharingDigest(t)
	if cp.Tags[plan.TagSharing] == d {
		return nil
	}
	return &Update{Kind: UpdateTag, Key: plan.TagSharing, Value: d, Old: cp.Tags[plan.TagSharing]}
}

// needsLoadPermissions reports whether converging a target's sharing needs
// the copy's current load permissions (DescribeFpgaImageAttribute): when it
// shares with accounts, or removes permissions the plan does not list.
// Public sharing alone can be judged from DescribeFpgaImages' public flag.
func needsLoadPermissions(t plan.Target) bool {
	return len(t.ShareWith) > 0 || t.ExclusiveSharing
}

// DesiredTags are the tags a copy of t must carry: the source's own tags
// (when copy_source_tags; never aws: or afisync: ones), then the plan's,
// then the management tags, later ones winning.
func DesiredTags(t plan.Target, src *Image, planName string) map[string]string {
	tags := map[string]string{}
	if t.CopySourceTags && src != nil {
		for k, v := range src.Tags {
			if !plan.ReservedTag(k) {
				tags[k] = v
			}
		}
	}
	for k, v := range t.Tags {
		tags[k] = v
	}
	tags[plan.TagSource] = plan.SourceKey(t.SourceRegion, t.SourceAFI)
	tags[plan.ClaimKey(planName)] = planName
	return tags
}

// Converge lists the attribute changes that bring an available copy in line
// with its target: tags, name and description, and load permissions. perms
// is the copy's current load permissions, or nil when they were not looked
// up (then only public sharing, which DescribeFpgaImages shows, is judged).
// Changes are additive unless the target says exclusive_tags or
// exclusive_sharing. The result is sorted for stable output.
//
// A copy that other plans claim too is shared: Converge then only adds —
// this plan's claim, tags the copy lacks, load permissions — and sets a
// tag, the name or the description only while it still has the value the
// copy got from its source. It leaves what another plan has set, and
// anything exclusive mode would remove; ConvergeShared says what it left.
// So the first plan to converge a shared copy sets its attributes, and no
// two plans ever undo each other.
func Converge(t plan.Target, src, cp *Image, perms *LoadPermissions, planName string) Updates {
	us, _ := ConvergeShared(t, src, cp, perms, planName)
	return us
}

// ConvergeShared is Converge that also returns, for a copy other plans
// claim, the changes it did not make and why ("tag env=prod kept (this plan:
// test): also claimed by plan team-a").
func ConvergeShared(t plan.Target, src, cp *Image, perms *LoadPermissions, planName string) (Updates, []string) {
	var us Updates
	others := plan.OtherClaims(cp.Tags, planName)
	want := DesiredTags(t, src, planName)
	for _, k := range sortedKeys(want) {
		if old, ok := cp.Tags[k]; !ok || old != want[k] {
			us = append(us, Update{Kind: UpdateTag, Key: k, Value: want[k], Old: old})
		}
	}
	if cp.Tags[plan.TagPlan] == planName {
		// A claim written before claims had keys of their own: the
		// claim above replaces it.
		us = append(us, Update{Kind: UpdateUntag, Key: plan.TagPlan, Old: planName})
	}
	if t.ExclusiveTags {
		for _, k := range sortedKeys(cp.Tags) {
			if _, ok := want[k]; !ok && !plan.ReservedTag(k) {
				us = append(us, Update{Kind: UpdateUntag, Key: k, Old: cp.Tags[k]})
			}
		}
	}
	if name := nonEmpty(t.Name, srcField(src, func(s *Image) string { return s.Name })); name != "" && name != cp.Name {
		us = append(us, Update{Kind: UpdateName, Value: name, Old: cp.Name})
	}
	if d := nonEmpty(t.Description, srcField(src, func(s *Image) string { return s.Description })); d != "" && d != cp.Description {
		us = append(us, Update{Kind: UpdateDescription, Value: d, Old: cp.Description})
	}
	us = append(us, convergeSharing(t, cp, perms)...)
	if u := digestUpdate(t, cp, perms, planName); u != nil {
		us = append(us, *u)
	}
	if len(others) == 0 {
		return us, nil
	}
	var keep Updates
	var left []string
	for _, u := range us {
		if u.additive() || u.unset(src) {
			keep = append(keep, u)
		} else {
			left = append(left, u.kept())
		}
	}
	if len(left) > 0 {
		left = []string{fmt.Sprintf("%s: the copy is also claimed by plan %s", strings.Join(left, ", "), strings.Join(quoteAll(others), ", plan "))}
	}
	return keep, left
}

// additive reports whether an update only adds to a copy: safe on a copy
// that other plans claim too.
func (u Update) additive() bool {
	switch u.Kind {
	case UpdateShare:
		return true
	case UpdateTag:
		return u.Old == "" || plan.IsClaimKey(u.Key)
	case UpdateUntag:
		return u.Key == plan.TagPlan // our own legacy claim
	}
	return false
}

// unset reports whether an update changes a value nobody chose: the one
// the copy got from its source (or none). The first plan to converge a
// shared copy sets it; later plans then find it chosen and leave it.
func (u Update) unset(src *Image) bool {
	if src == nil {
		return u.Old == ""
	}
	switch u.Kind {
	case UpdateTag:
		return u.Old == src.Tags[u.Key]
	case UpdateName:
		return u.Old == "" || u.Old == src.Name
	case UpdateDescription:
		return u.Old == "" || u.Old == src.Description
	}
	return false
}

// kept describes an update left undone on a shared copy.
func (u Update) kept() string {
	switch u.Kind {
	case UpdateTag:
		return fmt.Sprintf("tag %s=%s kept (this plan: %s)", u.Key, u.Old, u.Value)
	case UpdateUntag:
		return fmt.Sprintf("tag %s kept (exclusive_tags)", u.Key)
	case UpdateUnshare:
		return fmt.Sprintf("share %s kept (exclusive_sharing)", u.Key)
	case UpdateName, UpdateDescription:
		return fmt.Sprintf("%s %q kept (this plan: %q)", u.Kind, u.Old, u.Value)
	}
	return u.String() + " not made"
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

func convergeSharing(t plan.Target, cp *Image, perms *LoadPermissions) Updates {
	var us Updates
	public := cp.Public
	if perms != nil {
		public = public || slices.Contains(perms.Groups, plan.GroupAll)
	}
	wantPublic := slices.Contains(t.ShareWithGroups, plan.GroupAll)
	if wantPublic && !public {
		us = append(us, Update{Kind: UpdateShare, Key: plan.GroupAll, Group: true})
	}
	if !wantPublic && public && t.ExclusiveSharing {
		us = append(us, Update{Kind: UpdateUnshare, Key: plan.GroupAll, Group: true})
	}
	if perms == nil {
		return us
	}
	for _, a := range sortedUnique(t.ShareWith) {
		if !slices.Contains(perms.Users, a) {
			us = append(us, Update{Kind: UpdateShare, Key: a})
		}
	}
	if t.ExclusiveSharing {
		for _, a := range sortedUnique(perms.Users) {
			if !slices.Contains(t.ShareWith, a) {
				us = append(us, Update{Kind: UpdateUnshare, Key: a})
			}
		}
	}
	return us
}

func srcField(src *Image, f func(*Image) string) string {
	if src == nil {
		return ""
	}
	return f(src)
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedUnique(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}
