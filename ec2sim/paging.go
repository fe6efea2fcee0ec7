package ec2sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// maxResults reads MaxResults: 0 when absent, else 5 to 1000.
func (c *call) maxResults() (int, *apiError) {
	v := c.str("MaxResults")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 5 || n > 1000 {
		return 0, errf(400, "InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v)
	}
	return n, nil
}

func invalidToken() *apiError {
	return errf(400, "InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
}

// A NextToken holds the position after which the next page starts and a
// digest of what it was issued for: the account, Region, action and every
// request parameter but NextToken, MaxResults and DryRun. A token is only
// accepted by a request with the same digest, so a token from another
// Region, account, action or query answers InvalidPaginationToken. The page
// size may change from page to page. Tokens do not expire and survive a
// restart (they hold no server state).
const tokenVersion = "p1"

// pageToken returns the NextToken of a page whose last item is at last.
func (c *call) pageToken(last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenVersion + "|" + c.tokenScope() + "|" + last))
}

// pageStart returns the position a call's NextToken continues after ("" when
// it has none), or InvalidPaginationToken.
func (c *call) pageStart() (string, *apiError) {
	tok := c.str("NextToken")
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	f := strings.SplitN(string(b), "|", 3)
	if err != nil || len(f) != 3 || f[0] != tokenVersion || f[1] != c.tokenScope() || f[2] == "" {
		return "", invalidToken()
	}
	return f[2], nil
}

// tokenScope is the digest of what a NextToken is valid for.
func (c *call) tokenScope() string {
	keys := make([]string, 0, len(c.form))
	for k := range c.form {
		switch {
		case k == "NextToken", k == "MaxResults", k == "DryRun", k == "Action", k == "Version",
			strings.HasPrefix(k, "X-Amz-"): // presigned GET: differs per request
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, s := range []string{c.account, c.region, c.action} {
		h.Write([]byte(s + "\x00"))
	}
	for _, k := range keys {
		h.Write([]byte(k + "=" + strings.Join(c.form[k], "\x01") + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// boolParams are the Boolean parameters of the actions served.
var boolParams = []string{"DryRun", "AllRegions"}

// checkBools refuses a Boolean parameter that is neither true nor false
// (any case), as EC2 refuses malformed values, instead of reading it as
// false.
func (c *call) checkBools() *apiError {
	for _, k := range boolParams {
		vs, ok := c.form[k]
		if !ok {
			continue
		}
		for _, v := range vs {
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return errf(400, "InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected: 'true' or 'false'.", v, lowerFirst(k))
			}
		}
	}
	return nil
}

// lowerFirst writes a parameter the way EC2's messages do (dryRun).
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
