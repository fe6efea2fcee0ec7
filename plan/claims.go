package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"

	"github.com/afisync/afisync/internal/awsid"
)

// ClaimPrefix starts the key of a plan's claim on a copy: a copy serves
// every plan that lists its (source, region), and each of them marks it with
// a tag of its own, ClaimKey(name) = name. TagSource, which names the
// source, is shared by all of them.
//
// Copies made by afisync before claims existed carry one TagPlan tag; its
// value counts as that plan's claim.
const ClaimPrefix = TagPlan + ":"

// ClaimKey is the tag key of plan name's claim: ClaimPrefix and the name,
// or, for a name too long for a tag key, its first characters and a hash of
// the whole (the tag's value is always the full name).
func ClaimKey(name string) string {
	key := ClaimPrefix + name
	if len(key) <= awsid.MaxTagKeyLen {
		return key
	}
	h := sha256.Sum256([]byte(name))
	suffix := "~" + hex.EncodeToString(h[:8])
	keep := awsid.MaxTagKeyLen - len(ClaimPrefix) - len(suffix)
	// Cut on a rune boundary.
	for keep > 0 && !utf8Start(name[keep]) {
		keep--
	}
	return ClaimPrefix + name[:keep] + suffix
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// TagSharing records, on a copy only one plan claims, a digest of the load
// permissions that plan last applied to it (reconcile.SharingDigest): a
// later run that finds the same digest skips reading the copy's load
// permissions (one DescribeFpgaImageAttribute call a copy).
const TagSharing = "afisync:sharing"

// IsClaimKey reports whether a tag key is a claim (or the legacy TagPlan).
func IsClaimKey(key string) bool { return key == TagPlan || strings.HasPrefix(key, ClaimPrefix) }

// Claims returns the names of the plans that claim a copy with these tags,
// sorted and without repeats.
func Claims(tags map[string]string) []string {
	var out []string
	for k, v := range tags {
		if IsClaimKey(k) && v != "" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// HasClaim reports whether plan name claims a copy with these tags.
func HasClaim(tags map[string]string, name string) bool {
	return tags[ClaimKey(name)] == name || tags[TagPlan] == name
}

// OtherClaims returns the plans other than name that claim a copy.
func OtherClaims(tags map[string]string, name string) []string {
	var out []string
	for _, c := range Claims(tags) {
		if c != name {
			out = append(out, c)
		}
	}
	return out
}
