package awsid

import (
	"fmt"
	"net/netip"
	"strings"
)

// S3 locations, as a plan writes them: s3://bucket/key.
const (
	S3Scheme      = "s3://"
	MinBucketLen  = 3
	MaxBucketLen  = 63
	MaxS3KeyBytes = 1024 // bytes of UTF-8 in an object key
)

// SplitS3URI splits s3://bucket/key into its bucket and key (which may be
// empty or end in "/"). ok is false when uri does not start with s3:// or
// has no "/" after the bucket.
func SplitS3URI(uri string) (bucket, key string, ok bool) {
	rest, found := strings.CutPrefix(uri, S3Scheme)
	if !found {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

// The prefixes and suffixes S3 keeps for its own kinds of names (access
// point aliases, Object Lambda, directory and table buckets, examples).
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// BucketProblem says which of S3's naming rules for general purpose buckets
// name breaks, or "" when it follows them all: 3–63 characters of lower-case
// letters, digits, dots and hyphens; a letter or digit first and last; no
// two dots in a row; not an IP address; none of the prefixes and suffixes S3
// reserves.
func BucketProblem(name string) string {
	switch n := len(name); {
	case n < MinBucketLen || n > MaxBucketLen:
		return fmt.Sprintf("a bucket name has %d to %d characters, this one %d", MinBucketLen, MaxBucketLen, n)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			if r >= 'A' && r <= 'Z' {
				return "a bucket name is lower case"
			}
			return fmt.Sprintf("a bucket name holds only lower-case letters, digits, dots and hyphens, not %q", r)
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return "a bucket name starts and ends with a letter or a digit"
	}
	if strings.Contains(name, "..") {
		return "a bucket name has no two dots in a row"
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "a bucket name is not an IP address"
	}
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Sprintf("S3 reserves bucket names that start with %q", p)
		}
	}
	for _, s := range reservedBucketSuffixes {
		if strings.HasSuffix(name, s) {
			return fmt.Sprintf("S3 reserves bucket names that end with %q", s)
		}
	}
	return ""
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
