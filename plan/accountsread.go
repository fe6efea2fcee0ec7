package plan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/afisync/afisync/internal/awsid"
)

// Limits of the accounts: mapping and of the values STS takes.
const (
	MaxPlanAccounts    = 100  // accounts under accounts:
	MaxAccountNameLen  = 64   // characters in an account's name
	MaxExternalIDLen   = 1224 // characters in an external_id (STS)
	MinExternalIDLen   = 2
	MinSessionNameLen  = 2
	maxProfileNameLen  = 256
	roleOnlyKeysPhrase = "source_profile, external_id, session_name and duration"
)

var (
	accountNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]+$`)
)

// roleOnlyKeys are the account keys that only AssumeRole uses.
var roleOnlyKeys = []string{"source_profile", "external_id", "session_name", "duration"}

// accounts reads the top-level accounts: mapping, name → how to reach the
// account. It runs before defaults and afis, which name its accounts.
func (ps *parser) accounts(f field, what string, d *doc) bool {
	v := resolve(f.val)
	if v.Kind != yaml.MappingNode {
		hint := "write it as a mapping of names to accounts, like accounts: {prod: {profile: prod}}"
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			ps.at(f.key, what+" has no value", hint)
		} else {
			ps.at(v, fmt.Sprintf("%s must be a mapping of account names to accounts, got %s", what, kindName(v)), hint)
		}
		return false
	}
	if len(v.Content) == 0 {
		ps.at(f.key, what+" is empty", "declare an account, like accounts: {prod: {profile: prod}}, or remove the key")
		return false
	}
	ps.accountKeys = map[string]*yaml.Node{}
	ps.accountUsed = map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := resolve(v.Content[i]), v.Content[i+1]
		if !ps.plainKey(k, what) {
			continue
		}
		name := k.Value
		if prev, dup := ps.accountKeys[name]; dup {
			ps.at(k, fmt.Sprintf("account %s is declared twice in %s", quote(name), what),
				fmt.Sprintf("it is already declared at line %d; YAML would keep only one, so remove the other", prev.Line))
			continue
		}
		if len(ps.accountKeys) == MaxPlanAccounts {
			ps.at(k, fmt.Sprintf("%s declares %d accounts", what, len(v.Content)/2), fmt.Sprintf("afisync accepts at most %d", MaxPlanAccounts))
			break
		}
		// Known from here on, even when something in it is wrong, so that
		// the entries naming it are not reported too.
		ps.accountKeys[name] = k
		if p := checkAccountName(name); p != nil {
			ps.problem(k, p)
		}
		if a, ok := ps.account(name, k, val); ok {
			d.Accounts = append(d.Accounts, a)
		}
	}
	ps.sameAccounts(d.Accounts)
	slices.SortFunc(d.Accounts, func(a, b Account) int { return strings.Compare(a.Name, b.Name) })
	return true
}

// sameAccounts refuses two names for one account ID (id:, or the role
// ARN's): a plan's claims and --prune are per plan name and account, so
// each name's run would prune the other's copies. accounts is in file
// order.
func (ps *parser) sameAccounts(accounts []Account) {
	first := map[string]Account{}
	for _, a := range accounts {
		if a.ID == "" {
			continue
		}
		if f, dup := first[a.ID]; dup {
			ps.atPos(a.Pos, fmt.Sprintf("accounts %s and %s are the same account %s", a.Name, f.Name, a.ID),
				fmt.Sprintf("reach each account one way (%s is at line %d): this plan's runs in %s and %s would prune each other's copies", f.Name, f.Pos.Line, f.Name, a.Name))
			continue
		}
		first[a.ID] = a
	}
}

// account reads one account of accounts: and checks what spans its keys.
func (ps *parser) account(name string, k, val *yaml.Node) (Account, bool) {
	nerr := len(ps.errs)
	where := "accounts." + name
	n := resolve(val)
	fs := ps.fields(val, where, names(accountKeys))
	if fs == nil {
		return Account{}, false
	}
	a := Account{Name: name, Pos: posOf(k)}
	bad := readKeys(ps, accountKeys, n, fs, where+".", &a)
	_, profile := fs["profile"]
	role, hasRole := fs["role_arn"]
	switch {
	case profile && hasRole:
		ps.at(role.key, where+" has both profile and role_arn",
			"use profile: for a profile's credentials (SSO included), or role_arn: to assume a role; not both")
	case !profile && !hasRole && len(ps.errs) == nerr:
		ps.at(n, where+" has neither profile nor role_arn",
			"add profile: NAME (a profile of ~/.aws/config) or role_arn: arn:aws:iam::ACCOUNT:role/NAME")
	case !hasRole:
		for _, key := range roleOnlyKeys {
			if kf, ok := fs[key]; ok {
				ps.at(kf.key, fmt.Sprintf("%s.%s needs role_arn", where, key),
					fmt.Sprintf("%s only apply to an assumed role; with profile:, put them in the profile in ~/.aws/config, or remove the key", roleOnlyKeysPhrase))
			}
		}
	}
	if hasRole && !bad["role_arn"] {
		r, _ := awsid.ParseRoleARN(a.RoleARN)
		if ps.rolePartition == nil {
			ps.rolePartition = map[string]string{}
		}
		ps.rolePartition[name] = r.Partition
		switch {
		case a.ID == "" && !bad["id"]:
			a.ID = r.Account
		case a.ID != r.Account && !bad["id"]:
			ps.at(resolve(fs["id"].val), fmt.Sprintf("%s.id %s is not the account of its role_arn (%s)", where, quote(a.ID), r.Account),
				"a role is assumed in the account that holds it: fix id or role_arn")
		}
	}
	return a, len(ps.errs) == nerr
}

// checkAccountName explains what is wrong with an account's name.
func checkAccountName(name string) *problem {
	switch {
	case awsid.ValidAccountID(name):
		return &problem{fmt.Sprintf("account name %s is an account ID", quote(name)),
			"share_with would read it as an ID: give the account a word for a name (prod, dev) and its ID under id:"}
	case len(name) > MaxAccountNameLen || !accountNameRE.MatchString(name):
		return &problem{fmt.Sprintf("invalid account name %s", quote(name)),
			fmt.Sprintf("an account name is 1-%d letters, digits, '.', '_' and '-', starting with a letter or digit", MaxAccountNameLen)}
	}
	return nil
}

// checkRoleARN explains what is wrong with a role_arn.
func checkRoleARN(arn string) *problem {
	_, why := awsid.ParseRoleARN(arn)
	if why == "" {
		return nil
	}
	msg, hint, _ := strings.Cut(why, "; ")
	return &problem{fmt.Sprintf("role_arn %s %s", quote(arn), msg), hint}
}

// checkExternalID explains what is wrong with an external_id (STS: 2-1224
// characters of letters, digits and +=,.@:/-).
func checkExternalID(id string) *problem {
	if len(id) >= MinExternalIDLen && len(id) <= MaxExternalIDLen && externalIDRE.MatchString(id) {
		return nil
	}
	return &problem{fmt.Sprintf("invalid external_id %s", quote(id)),
		fmt.Sprintf("STS takes %d-%d letters, digits and +=,.@:/-_", MinExternalIDLen, MaxExternalIDLen)}
}

// checkSessionName explains what is wrong with a session_name (STS: 2-64
// characters of letters, digits and +=,.@-_).
func checkSessionName(s string) *problem {
	if len(s) >= MinSessionNameLen && len(s) <= MaxSessionNameLen && sessionNameRE.MatchString(s) {
		return nil
	}
	return &problem{fmt.Sprintf("invalid session_name %s", quote(s)),
		fmt.Sprintf("STS takes %d-%d letters, digits and +=,.@-_", MinSessionNameLen, MaxSessionNameLen)}
}

// roleDuration reads an account's duration: a role session of 15 minutes
// to 12 hours.
func (ps *parser) roleDuration(f field, what string) (time.Duration, bool) {
	return ps.durationIn(f, what, MinRoleDuration, MaxRoleDuration,
		fmt.Sprintf("an STS role session lasts %s to %s (and at most the role's maximum session duration); afisync renews it before it expires",
			formatDuration(MinRoleDuration), formatDuration(MaxRoleDuration)))
}

// accountRef reads account: (on an entry or in defaults): the name of an
// account under accounts:.
func (ps *parser) accountRef(f field, what string) (string, bool) {
	s, ok := ps.str(f, what)
	if !ok {
		return "", false
	}
	if s == "" {
		ps.at(resolve(f.val), what+" is empty", "name an account under accounts:, or remove the key to use the command's own credentials")
		return "", false
	}
	if p := ps.checkAccountRef(s, what); p != nil {
		ps.problem(resolve(f.val), p)
		return "", false
	}
	ps.accountUsed[s] = true
	return s, true
}

// checkAccountRef explains why s is not the name of an account of the plan.
func (ps *parser) checkAccountRef(s, what string) *problem {
	if _, ok := ps.accountKeys[s]; ok {
		return nil
	}
	msg := "unknown account " + quote(s)
	if what != "account" {
		msg += " in " + what
	}
	known := ps.accountNames()
	switch best := closest(s, known, 2); {
	case len(known) == 0 && awsid.ValidAccountID(s):
		return &problem{msg, "account: takes the name of an account declared under accounts: at the top level, with its profile: or role_arn: (and this ID under id:)"}
	case len(known) == 0:
		return &problem{msg, fmt.Sprintf("declare it under accounts: at the top level, like accounts: {%s: {profile: %s}}", s, s)}
	case best != "":
		return &problem{msg, fmt.Sprintf("did you mean %q?", best)}
	case awsid.ValidAccountID(s):
		if n := ps.accountWithID(s); n != "" {
			return &problem{msg, fmt.Sprintf("account: takes a name: %s", n)}
		}
	}
	return &problem{msg, "the plan's accounts are " + strings.Join(known, ", ")}
}

// accountNames are the names under accounts:, sorted.
func (ps *parser) accountNames() []string {
	out := make([]string, 0, len(ps.accountKeys))
	for n := range ps.accountKeys {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// accountWithID is the name of the plan's account whose ID is id, if the
// plan says so (id:, or its role ARN).
func (ps *parser) accountWithID(id string) string {
	for _, a := range ps.doc.Accounts {
		if a.ID == id {
			return a.Name
		}
	}
	return ""
}

// shareWithValue is the value of share_with: 12-digit account IDs
// (ShareWith) and names of the plan's accounts (ShareWithAccounts),
// replaced together by an entry that writes the key.
func shareWithValue() value[entryDraft] {
	return value[entryDraft]{
		read: func(ps *parser, f field, what string, x *entryDraft) bool {
			items, ok := ps.distinctList(f, what, MaxAccounts, `["111122223333"]`, "an account ID", "account", ps.checkShareItem(what))
			x.ShareWith, x.ShareWithAccounts = nil, nil
			for _, it := range items {
				if _, named := ps.accountKeys[it.name]; named {
					x.ShareWithAccounts = append(x.ShareWithAccounts, it.name)
					ps.accountUsed[it.name] = true
				} else {
					x.ShareWith = append(x.ShareWith, it.name)
				}
			}
			return ok
		},
		zero: func(x *entryDraft) bool { return len(x.ShareWith) == 0 && len(x.ShareWithAccounts) == 0 },
		node: func(x *entryDraft) *yaml.Node {
			return strList(append(slices.Clone(x.ShareWith), x.ShareWithAccounts...))
		},
		copy: func(dst, src *entryDraft) {
			dst.ShareWith, dst.ShareWithAccounts = clone(src.ShareWith), clone(src.ShareWithAccounts)
		},
	}
}

// checkShareItem explains what is wrong with an item of share_with: an
// account ID, or the name of an account under accounts:.
func (ps *parser) checkShareItem(what string) func(string) *problem {
	return func(s string) *problem {
		if _, ok := ps.accountKeys[s]; ok {
			return nil
		}
		p := checkAccount(s)
		if p == nil || len(ps.accountKeys) == 0 {
			return p
		}
		if best := closest(s, ps.accountNames(), 2); best != "" {
			return &problem{fmt.Sprintf("unknown account %s in %s", quote(s), what), fmt.Sprintf("did you mean %q?", best)}
		}
		if !strings.ContainsAny(s, "0123456789") {
			return &problem{fmt.Sprintf("unknown account %s in %s", quote(s), what),
				"share_with takes 12-digit account IDs and the names of the plan's accounts: " + strings.Join(ps.accountNames(), ", ")}
		}
		return p
	}
}

// unusedAccounts reports the accounts that neither an entry (account:, in
// the entry or in defaults) nor any share_with names: a typo elsewhere, or
// a leftover.
func (ps *parser) unusedAccounts() {
	if len(ps.errs) > 0 {
		return // an account: or share_with with a problem may have meant it
	}
	for _, name := range ps.accountNames() {
		if !ps.accountUsed[name] {
			ps.at(ps.accountKeys[name], fmt.Sprintf("account %s is not used: no entry has account: %s and no share_with names it", quote(name), name),
				"add account: "+name+" to the entries (or defaults) it holds, name it in share_with, or remove it")
		}
	}
}

// accountPartition checks that an entry of a role account has its source
// region in the role's partition: an account and its AFIs live in one.
func (ps *parser) accountPartition(x *entryDraft) {
	part, ok := ps.rolePartition[x.Account]
	if !ok || x.SourceRegion == "" || Partition(x.SourceRegion) == part {
		return
	}
	at := x.node
	if f, ok := x.fields["account"]; ok {
		at = resolve(f.val)
	}
	ps.at(at, fmt.Sprintf("%s is in account %s, whose role_arn is in partition %s, but its source region %s is in %s",
		x.label(), x.Account, part, x.SourceRegion, Partition(x.SourceRegion)),
		"an account and its AFIs are in one partition: fix source_region or the account's role_arn")
}

// accountsNode writes the accounts, by name.
func accountsNode(d *doc) *yaml.Node {
	m := mapping()
	for i := range d.Accounts {
		addPair(m, d.Accounts[i].Name, render(accountKeys, &d.Accounts[i]))
	}
	return m
}
