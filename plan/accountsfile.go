package plan

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// accountsFileKeys are the keys of an accounts file: the plan's accounts:
// alone, read and checked as in a plan.
var accountsFileKeys = []key[doc]{
	{name: "accounts", typ: "mapping of accounts", required: "add accounts:, a mapping of names to accounts, like accounts: {prod: {profile: prod}}",
		value: value[doc]{read: (*parser).accounts, node: accountsNode, zero: func(d *doc) bool { return len(d.Accounts) == 0 }}},
}

// ParseAccounts reads an accounts file (afisync import --accounts FILE): a
// YAML mapping with one key, accounts:, written and checked exactly as a
// plan's accounts: (names, profile or role_arn, the role's keys, id, two
// names for one account ID), sorted by name. Unlike a plan's, its accounts
// need no entry that uses them. file names it in errors; it is not opened.
// An invalid file gives *Errors, each with File and a position.
func ParseAccounts(file string, data []byte) ([]Account, error) {
	ps := &parser{file: file, accountsOnly: true}
	d := &doc{Plan: &Plan{File: file}}
	ps.doc = d
	if len(data) > MaxFileSize {
		ps.atPos(Pos{1, 1}, fmt.Sprintf("the file is larger than %d MiB", MaxFileSize>>20), "an accounts file is a short YAML file")
	} else if root := ps.document(data); root != nil {
		root = ps.accountsOnlyKey(root)
		readKeys(ps, accountsFileKeys, root, ps.fields(root, "the accounts file", names(accountsFileKeys)), "", d)
	}
	if err := ps.errors(); err != nil {
		return nil, err
	}
	return d.Accounts, nil
}

// AccountNode renders one account as the value of its name under a plan's
// accounts:, its keys in the schema's order (as validate --print writes
// them).
func AccountNode(a Account) *yaml.Node { return render(accountKeys, &a) }

// accountsOnlyKey returns root without its keys other than accounts:,
// each reported: an accounts file is not a plan.
func (ps *parser) accountsOnlyKey(root *yaml.Node) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Line: root.Line, Column: root.Column}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := resolve(root.Content[i])
		if k.Kind == yaml.ScalarNode && k.Value != "accounts" && k.Tag != "!!merge" {
			hint := "an accounts file holds accounts: alone; copy a plan's accounts: block into a file of its own"
			if s := closest(k.Value, []string{"accounts"}, 2); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
			}
			ps.at(k, fmt.Sprintf("unknown key %s in the accounts file", quote(k.Value)), hint)
			continue
		}
		out.Content = append(out.Content, root.Content[i], root.Content[i+1])
	}
	return out
}

// AccountNameError says what is wrong with name as the name of an account
// under accounts: (nil when it is a good one): the rule a plan applies.
func AccountNameError(name string) error {
	if p := checkAccountName(name); p != nil {
		return fmt.Errorf("%s: %s", p.msg, p.hint)
	}
	return nil
}
