package plan_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/afisync/afisync/plan"
)

// TestSyntaxErrorPositions pins the position of YAML syntax errors to the
// offending character. Each want is what PyYAML 6.0.3 reports first for the
// same input (its context mark, else its problem mark), except where noted;
// the syntax error is the last one listed.
func TestSyntaxErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // line:col and message
	}{
		{"unclosed [ reported at the [", "version: 1\nname: x\nafis:\n  - id: [afi-0123\n    regions: [eu-west-1]\n",
			"4:9 invalid YAML: did not find expected ',' or ']'"},
		{"unclosed [ on the first line", "a: [b, c\nd: e\n", "1:4 invalid YAML: did not find expected ',' or ']'"},
		{"unclosed [ after a closed one", "a: [x, [y], z\nb: 1\n", "1:4 invalid YAML: did not find expected ',' or ']'"},
		{"unclosed { ", "version: 1\nname: x\ndefaults: {source_region: us-east-1, regions: [us-west-2]\nafis: []\n",
			"3:11 invalid YAML: did not find expected ',' or '}'"},
		{"[ closed by }", "a: {b: [c, d}\n", "1:8 invalid YAML: did not find expected ',' or ']'"},
		{"{ closed by ] after a quoted key", "a:\n  share_with: [{\"444455556666\"]   # x\n", "2:16 invalid YAML: did not find expected ',' or '}'"},
		{"CRLF line ends", "a: 1\r\nb: [c\r\nd: 2\r\n", "2:4 invalid YAML: did not find expected ',' or ']'"},
		{"unclosed double quote", "version: 1\nname: \"unclosed\nafis:\n  - id: x\n", "2:7 invalid YAML: found unexpected end of stream"},
		{"unclosed single quote", "version: 1\nname: 'unclosed\nafis: []\n", "2:7 invalid YAML: found unexpected end of stream"},
		{"unclosed quote on the first line, non-ASCII", "name: \"héllo wörld\nx: 1\n", "1:7 invalid YAML: found unexpected end of stream"},
		{"unclosed quote after a closed one on the line", "a: \"ok\" \nb: [\"x\", \"y]\n", "2:10 invalid YAML: found unexpected end of stream"},
		{"tab indentation", "version: 1\nafis:\n\t- id: x\n", "3:1 invalid YAML: found character that cannot start any token"},
		{"second colon", "version: 1\nname: a: b\n", "2:8 invalid YAML: mapping values are not allowed in this context"},
		{"over-indented key", "version: 1\nname: x\n  bad: 2\n", "3:6 invalid YAML: mapping values are not allowed in this context"},
		// PyYAML's problem mark: its context mark is the mapping's start at 1:1.
		{"under-indented entry", "x:\n  a: 1\n  b: 2\n - c\n", "4:2 invalid YAML: did not find expected key"},
		{"deep under-indented key", "top:\n  a: 1\n  b:\n    - c\n    - d\n   e: 1\n", "6:4 invalid YAML: did not find expected key"},
		{"quoted scalar where a key belongs", "a:\n  b: [c]   \"  # x\n  d: 1\n  e: \"f\"\n", "2:12 invalid YAML: did not find expected key"},
		{"unknown alias", "a: &x 1\nb: *nope\n", "2:4 invalid YAML: unknown anchor 'nope' referenced"},
		{"unknown alias in a flow list", "a: 1\nb: [1, *nope]\n", "2:8 invalid YAML: unknown anchor 'nope' referenced"},
		{"undefined tag handle", "a: !x!y z\n", "1:4 invalid YAML: found undefined tag handle"},
		{"bad escape", "a: \"\\q\"\n", "1:6 invalid YAML: found unknown escape character"},
		{"empty flow entry", "a: [b,, c]\n", "1:7 invalid YAML: did not find expected node content"},
		{"control character", "a: b\nc: d\x01\n", "2:5 invalid YAML: control characters are not allowed"},
		{"invalid UTF-8 after a BOM", "\xef\xbb\xbfa: 1\nb: caf\xe9\n", "2:7 invalid YAML: incomplete UTF-8 octet sequence"},
		{"incomplete UTF-8 at the end", "a: 1\nb: x\xe2\x82", "2:5 invalid YAML: incomplete UTF-8 octet sequence"},
		{"error in the second document", "a: 1\n---\nb: [c\n", "3:4 invalid YAML: did not find expected ',' or ']'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plan.Parse("x.yaml", []byte(tc.yaml))
			var errs *plan.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want *plan.Errors", err)
			}
			e := errs.List[len(errs.List)-1] // after any schema problems of an earlier document
			if got := fmt.Sprintf("%d:%d %s", e.Pos.Line, e.Pos.Col, e.Msg); got != tc.want {
				t.Errorf("syntax error = %q, want %q", got, tc.want)
			}
		})
	}
}
