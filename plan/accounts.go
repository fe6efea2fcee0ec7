package plan

import (
	"slices"
	"time"
)

// Account is one entry of the plan's top-level accounts: map: how afisync
// gets credentials for one AWS account. Exactly one of Profile and RoleARN
// is set.
type Account struct {
	Name string // its key under accounts:
	// ID is the 12-digit account ID it must have: id: if written, else the
	// role ARN's account; "" when unknown until STS answers.
	ID      string
	Profile string // profile: NAME (a shared-config profile, SSO included)
	RoleARN string // role_arn: arn:aws:iam::ACCOUNT:role/NAME (STS AssumeRole)
	// SourceProfile is the profile whose credentials assume RoleARN; "":
	// the command's own (--profile / the standard chain).
	SourceProfile string
	ExternalID    string // external_id, sent with AssumeRole
	// SessionName is the role session's name; "": "afisync-<plan name>"
	// (see SessionNameFor).
	SessionName string
	// Duration is the role session's duration; 0: the SDK's default (15
	// minutes), refreshed by the credentials cache before it expires.
	Duration time.Duration
	Pos      Pos // where the account's key is in the plan file
}

// SessionNameFor is the role session name afisync uses for account a of
// plan planName: a's SessionName, else "afisync-" and the plan's name
// ("afisync" without a plan name), cut
// to STS's 64 characters and to the characters STS allows (letters,
// digits and =,.@-_; others become "-").
func SessionNameFor(a Account, planName string) string {
	switch {
	case a.SessionName != "":
		return a.SessionName
	case planName == "":
		return "afisync"
	}
	b := []byte("afisync-" + planName)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '=' || c == ',' || c == '.' || c == '@' || c == '-' || c == '_'
		if !ok {
			b[i] = '-'
		}
	}
	if len(b) > MaxSessionNameLen {
		b = b[:MaxSessionNameLen]
	}
	return string(b)
}

// MaxSessionNameLen is STS's limit on a role session name.
const MaxSessionNameLen = 64

// Limits of an AssumeRole session's duration (STS DurationSeconds: 900 s
// to the role's maximum, at most 12 hours).
const (
	MinRoleDuration = 15 * time.Minute
	MaxRoleDuration = 12 * time.Hour
)

// AccountNames returns the account names the plan's entries use, sorted
// and each once; "" stands for entries without account: (the command's own
// credentials) and is included when some entry has none.
func (p *Plan) AccountNames() []string {
	var out []string
	for _, e := range p.AFIs {
		if !slices.Contains(out, e.Account) {
			out = append(out, e.Account)
		}
	}
	slices.Sort(out)
	return out
}

// AccountByName returns the plan's account of that name.
func (p *Plan) AccountByName(name string) (Account, bool) {
	for _, a := range p.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// ForAccount returns a copy of p with only the entries of account name
// ("" for the entries without account) and no Accounts. Each entry's
// ShareWithAccounts are resolved through ids (account name → 12-digit ID)
// and merged into its ShareWith, sorted and without duplicates. A name
// missing from ids is left out (the caller reports it), and so is name
// itself, so that defaults.share_with: [dev, prod] shares each account's
// copies with the other. The copy keeps p's Name, so that claims and client
// tokens are per plan name in each account. Its entries share no list or
// map with p's.
func (p *Plan) ForAccount(name string, ids map[string]string) *Plan {
	sub := *p
	sub.Accounts = nil
	sub.Defaults = cloneOptions(p.Defaults)
	sub.AFIs = nil
	for _, e := range p.AFIs {
		if e.Account != name {
			continue
		}
		e.Options = cloneOptions(e.Options)
		if e.Select != nil {
			s := *e.Select
			s.Tags = clone(s.Tags)
			e.Select = &s
		}
		if e.Build != nil {
			b := *e.Build
			e.Build = &b
		}
		if len(e.ShareWithAccounts) > 0 {
			share := slices.Clone(e.ShareWith)
			for _, n := range e.ShareWithAccounts {
				if n == name {
					continue // an account needs no load permission on its own AFIs
				}
				if id, ok := ids[n]; ok && id != "" {
					share = append(share, id)
				}
			}
			slices.Sort(share)
			e.ShareWith = slices.Compact(share)
		}
		sub.AFIs = append(sub.AFIs, e)
	}
	return &sub
}

// cloneOptions copies o so that the copy shares no list or map with it.
func cloneOptions(o Options) Options {
	o.Regions = clone(o.Regions)
	o.Tags = clone(o.Tags)
	o.ShareWith = clone(o.ShareWith)
	o.ShareWithAccounts = clone(o.ShareWithAccounts)
	o.ShareWithGroups = clone(o.ShareWithGroups)
	return o
}
