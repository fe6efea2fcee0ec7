package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/afisync/afisync/internal/awsid"
)

// Limits on what a plan may hold. AWS sets the tag limits; the others are
// afisync's own bounds on absurd input.
const (
	MaxFileSize       = 4 << 20     // bytes in a plan file
	MaxEntries        = 1000        // entries under afis
	MaxRegions        = 64          // regions in one regions list
	MaxAccounts       = 100         // account IDs in one share_with list
	MaxUserTags       = MaxTags - 2 // tags a plan may ask for: afisync adds TagSource and its claim (ClaimKey)
	MaxNameLen        = 256         // characters in a plan, AFI or selector name
	MaxDescriptionLen = 256         // characters in an AFI description
	MinConcurrency    = 1           // smallest settings.concurrency
	MaxConcurrency    = 256         // largest settings.concurrency
	MaxRetries        = 20          // largest settings.retries
)

// AWS's tag limits (package awsid).
const (
	MaxTags        = awsid.MaxTags        // tags on one AFI
	MaxTagKeyLen   = awsid.MaxTagKeyLen   // characters in a tag key
	MaxTagValueLen = awsid.MaxTagValueLen // characters in a tag value
)

// MaxTimeout is the largest settings.timeout a plan may set.
const MaxTimeout = 168 * time.Hour

// Reserved tag-key prefixes: AWS owns "aws:" and afisync owns "afisync:" (its
// management tags, TagSource and TagPlan).
const (
	reservedAWSPrefix     = awsid.ReservedTagPrefix
	reservedAfisyncPrefix = "afisync:"
)

// ReservedTag reports whether a plan can neither write nor remove a tag key:
// AWS's own ("aws:…") and afisync's management tags ("afisync:…").
func ReservedTag(key string) bool {
	return awsid.ReservedTagKey(key) || strings.HasPrefix(strings.ToLower(key), reservedAfisyncPrefix)
}

// problem is a message and a hint, before a position is attached.
type problem struct{ msg, hint string }

// checkAFIID explains what is wrong with a malformed AFI ID.
func checkAFIID(id string) *problem {
	if awsid.ValidAFIID(id) {
		return nil
	}
	if lower := strings.ToLower(id); awsid.ValidAFIID(lower) {
		return &problem{fmt.Sprintf("malformed AFI ID %s", quote(id)),
			fmt.Sprintf("AFI IDs are lower case: %s", quote(lower))}
	}
	if strings.HasPrefix(strings.ToLower(id), "agfi-") {
		return &problem{fmt.Sprintf("%s is a global AFI ID (AGFI), not an AFI ID", quote(id)),
			"id takes the regional AFI ID (afi-…) of the source AFI in its source region"}
	}
	return &problem{fmt.Sprintf("malformed AFI ID %s", quote(id)),
		`an AFI ID is "afi-" and 17 hexadecimal digits, like afi-0123456789abcdef0`}
}

// checkRegion explains what is wrong with a region name. Well-formed names
// pass even when unknown, since AWS keeps adding regions.
func checkRegion(name string) *problem {
	if awsid.ValidRegion(name) {
		return nil
	}
	if s := suggestRegion(name); s != "" {
		return &problem{fmt.Sprintf("unknown region %s", quote(name)), fmt.Sprintf("did you mean %q?", s)}
	}
	return &problem{fmt.Sprintf("malformed region %s", quote(name)),
		"a region is written like us-east-1, eu-west-2 or ap-southeast-2"}
}

// checkAccount explains what is wrong with an account ID.
func checkAccount(id string) *problem {
	if awsid.ValidAccountID(id) {
		return nil
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, id)
	if len(digits) == 12 && len(id) <= 16 {
		return &problem{fmt.Sprintf("malformed account ID %s", quote(id)),
			fmt.Sprintf("write the 12 digits only, quoted: %q", digits)}
	}
	return &problem{fmt.Sprintf("malformed account ID %s", quote(id)),
		`an AWS account ID is exactly 12 digits, written quoted like "111122223333"`}
}

// checkGroup explains what is wrong with a share_with_groups value.
func checkGroup(g string) *problem {
	if g == GroupAll {
		return nil
	}
	msg := fmt.Sprintf("unknown load-permission group %s", quote(g))
	hint := `the only load-permission group is "all" (public)`
	switch {
	case strings.EqualFold(g, GroupAll):
		hint += "; write it in lower case"
	case awsid.ValidAccountID(g):
		hint += "; list account IDs under share_with"
	}
	return &problem{msg, hint}
}

// checkText checks a free-text value written to AWS (a tag value, a name, a
// description): at most max characters, all printable.
func checkText(what, s string, max int) *problem {
	if !utf8.ValidString(s) {
		return &problem{what + " is not valid UTF-8", "use plain text"}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return &problem{fmt.Sprintf("%s is %d characters long", what, n), fmt.Sprintf("AWS allows at most %d", max)}
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return &problem{fmt.Sprintf("%s contains the non-printable character %U", what, r),
				"use printable characters only (no tabs, newlines or control characters)"}
		}
	}
	return nil
}

// checkTagKey checks a tag key. Copy tags may not use the reserved prefixes;
// selector tags (which match source AFIs) may use "aws:".
func checkTagKey(key string, selector bool) *problem {
	if key == "" {
		return &problem{"empty tag key", "give the tag a name"}
	}
	if p := checkText(fmt.Sprintf("tag key %s", quote(key)), key, MaxTagKeyLen); p != nil {
		return p
	}
	lower := strings.ToLower(key)
	if strings.HasPrefix(lower, reservedAfisyncPrefix) {
		if selector {
			return &problem{fmt.Sprintf("tag key %s selects afisync's own copies", quote(key)),
				`"afisync:" tags mark copies afisync made; select sources by their own tags`}
		}
		return &problem{fmt.Sprintf("tag key %s uses the reserved prefix %q", quote(key), reservedAfisyncPrefix),
			fmt.Sprintf("afisync writes %s and %s itself; choose another key", TagSource, TagPlan)}
	}
	if !selector && strings.HasPrefix(lower, reservedAWSPrefix) {
		return &problem{fmt.Sprintf("tag key %s uses the reserved prefix %q", quote(key), reservedAWSPrefix),
			"AWS reserves it for its own tags; choose another key"}
	}
	return nil
}

// quote renders a user value for a message: Go-quoted and, when long,
// shortened in the middle so that one absurd value cannot flood the output.
func quote(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max/2]) + "…" + string(r[len(r)-max/4:])
	}
	return strconv.Quote(s)
}

// closest returns the candidate nearest to s (case-insensitively) if it is
// within maxDist edits (one edit for short words), else "". Ties go to the
// earlier candidate, so suggestions are deterministic.
func closest(s string, candidates []string, maxDist int) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	s = strings.ToLower(s)
	if len([]rune(s)) <= 4 && maxDist > 1 {
		maxDist = 1
	}
	best, bestDist := "", maxDist+1
	for _, c := range candidates {
		if d := editDistance(s, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of neighbours
// each cost one, so "regoins" is one edit from "regions".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// checkS3Input explains what is wrong with build.input: the S3 object
// (s3://bucket/key) of the DCP tarball.
func checkS3Input(uri string) *problem {
	if p := checkS3URI(uri, "s3://bucket/key"); p != nil {
		return p
	}
	if _, key, _ := awsid.SplitS3URI(uri); key == "" || strings.HasSuffix(key, "/") {
		return &problem{fmt.Sprintf("%s names a prefix, not an object", quote(uri)),
			"build.input is the DCP tarball itself, like s3://fpga-builds/dcp/nic-v4.tar"}
	}
	return nil
}

// checkS3Logs explains what is wrong with build.logs: the S3 prefix
// (s3://bucket/prefix/) that AWS writes the build's logs under.
func checkS3Logs(uri string) *problem {
	if p := checkS3URI(uri, "s3://bucket/prefix/"); p != nil {
		return p
	}
	switch _, key, _ := awsid.SplitS3URI(uri); {
	case key == "":
		return &problem{fmt.Sprintf("%s names no prefix", quote(uri)),
			"give the folder for the logs, ending in /, like s3://fpga-builds/logs/"}
	case !strings.HasSuffix(key, "/"):
		return &problem{fmt.Sprintf("%s names an object, not a prefix", quote(uri)),
			fmt.Sprintf("end it with / (AWS writes the logs under it): %s/", uri)}
	}
	return nil
}

// checkS3URI explains what is wrong with the shape of an S3 location:
// s3://, a bucket that follows S3's naming rules, then /key. form is how
// the location should look.
func checkS3URI(uri, form string) *problem {
	bucket, key, ok := awsid.SplitS3URI(uri)
	switch {
	case !ok && strings.HasPrefix(strings.ToLower(uri), "s3://"):
		if !strings.HasPrefix(uri, "s3://") {
			return &problem{fmt.Sprintf("malformed S3 location %s", quote(uri)), "write the scheme in lower case: s3://"}
		}
		return &problem{fmt.Sprintf("S3 location %s names a bucket only", quote(uri)), "write it as " + form}
	case !ok:
		return &problem{fmt.Sprintf("malformed S3 location %s", quote(uri)), "write it as " + form}
	}
	if why := awsid.BucketProblem(bucket); why != "" {
		return &problem{fmt.Sprintf("invalid S3 bucket name %s in %s", quote(bucket), quote(uri)), why}
	}
	if len(key) > awsid.MaxS3KeyBytes {
		return &problem{fmt.Sprintf("S3 key of %d bytes in %s", len(key), quote(uri)),
			fmt.Sprintf("S3 keys have at most %d bytes", awsid.MaxS3KeyBytes)}
	}
	for _, r := range key {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return &problem{fmt.Sprintf("S3 key in %s holds %q", quote(uri), r), "use printable characters only"}
		}
	}
	return nil
}
