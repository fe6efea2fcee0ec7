package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// StdinName is the file name Load gives a plan read from standard input; it
// appears in error messages and in Plan.File.
const StdinName = "<stdin>"

// Load reads and parses the plan file at path; the path "-" reads standard
// input. A file that cannot be read gives the underlying error (such as an
// *fs.PathError); an invalid plan gives *Errors listing every problem.
func Load(path string) (*Plan, error) {
	if path == "-" {
		return Read(StdinName, os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(path, f)
}

// Read reads a plan from r (at most MaxFileSize bytes are accepted) and
// parses it as Parse does; file names it in errors.
func Read(file string, r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w", file, err)
	}
	return Parse(file, data)
}

// Parse parses and validates a plan (schema version 1) and merges its
// defaults into every entry. file names the plan in errors and in
// Plan.File; it is not opened.
//
// When the plan is invalid, Parse returns a nil *Plan and an *Errors holding
// every problem found, sorted by position, each with File and a Pos whose
// Line and Col are at least 1. Parse does no I/O and makes no AWS call.
func Parse(file string, data []byte) (*Plan, error) {
	ps := &parser{file: file}
	var p *Plan
	if len(data) > MaxFileSize {
		ps.atPos(Pos{1, 1}, fmt.Sprintf("the file is larger than %d MiB", MaxFileSize>>20),
			"a plan is a short YAML file; split very large plans into several")
	} else if root := ps.document(data); root != nil {
		p = ps.plan(root)
	}
	if err := ps.errors(); err != nil {
		return nil, err
	}
	return p, nil
}

// errors is the *Errors of the problems found, sorted and summed up past
// maxErrors; nil when there are none.
func (ps *parser) errors() error {
	if len(ps.errs) == 0 {
		return nil
	}
	errs := &Errors{List: sortErrors(ps.errs)}
	if n := len(errs.List); n > maxErrors {
		more := errs.List[maxErrors]
		more.Msg = fmt.Sprintf("%d more problems from here on are not shown (%d in all)", n-maxErrors, n)
		more.Hint, more.Err = "fix the ones above and check the plan again", nil
		errs.List, errs.omitted = errs.List[:maxErrors+1], n-maxErrors
	}
	return errs
}

// maxErrors is how many problems Parse lists before summing up the rest:
// past that, the file is probably not a plan at all.
const maxErrors = 100

// parser collects every problem in one file instead of stopping at the
// first.
type parser struct {
	file string
	errs []*Error
	stop bool // a problem that makes the rest meaningless (a newer version) was found

	doc *doc // the plan being read
	// accountKeys are the names under accounts:, with where each is
	// declared; nil when the plan has no accounts:.
	accountKeys map[string]*yaml.Node
	// accountUsed are the accounts an account: key or a share_with names.
	accountUsed map[string]bool
	// rolePartition is the partition of each role account's role ARN.
	rolePartition map[string]string
	// accountsOnly: the file is an accounts file (ParseAccounts), not a
	// plan.
	accountsOnly bool
}

// kind is what the file being read is, in messages: "plan" or "accounts".
func (ps *parser) kind() string {
	if ps.accountsOnly {
		return "accounts"
	}
	return "plan"
}

// startHint says how the file being read starts.
func (ps *parser) startHint() string {
	if ps.accountsOnly {
		return "start it with accounts:, a mapping of names to accounts, like accounts: {prod: {profile: prod}}"
	}
	return "start it with version: 1, name: and afis:"
}

func (ps *parser) atPos(pos Pos, msg, hint string) *Error {
	e := &Error{File: ps.file, Pos: pos, Msg: msg, Hint: hint}
	ps.errs = append(ps.errs, e)
	return e
}

func (ps *parser) at(n *yaml.Node, msg, hint string) *Error {
	return ps.atPos(posOf(n), msg, hint)
}

func (ps *parser) problem(n *yaml.Node, p *problem) {
	ps.at(n, p.msg, p.hint)
}

// posOf is n's position, clamped to 1:1 for nodes yaml.v3 did not place.
func posOf(n *yaml.Node) Pos {
	p := Pos{Line: 1, Col: 1}
	if n != nil {
		p.Line = max(n.Line, 1)
		p.Col = max(n.Column, 1)
	}
	return p
}

// document decodes data into a YAML node tree and returns the plan's root
// node, or nil after recording why there is none.
func (ps *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := decodeNode(dec, &doc)
	if errors.Is(err, io.EOF) || (err == nil && len(doc.Content) == 0) {
		ps.atPos(Pos{1, 1}, "the "+ps.kind()+" file is empty", ps.startHint())
		return nil
	}
	if err != nil {
		ps.syntaxError(data, err)
		return nil
	}
	var next yaml.Node
	switch err := decodeNode(dec, &next); {
	case err == nil:
		n := &next
		if len(next.Content) > 0 {
			n = next.Content[0]
		}
		ps.at(n, "a second YAML document starts here (after ---)",
			"a "+ps.kind()+" file holds exactly one document; remove the --- line or split the file")
	case !errors.Is(err, io.EOF):
		ps.syntaxError(data, err)
	}
	root := resolve(doc.Content[0])
	switch {
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		ps.at(root, "the "+ps.kind()+" file is empty", ps.startHint())
		return nil
	case root.Kind != yaml.MappingNode:
		what := "a plan"
		if ps.accountsOnly {
			what = "an accounts file"
		}
		ps.at(root, fmt.Sprintf("%s must be a YAML mapping, got %s", what, kindName(root)), ps.startHint())
		return nil
	}
	return root
}

// decodeNode decodes the next document, turning a panic inside the YAML
// library into an error: a plan file must never crash afisync.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// syntaxError records a YAML syntax error at the offending character (see
// yamlErrorPos), or at the start of the line yaml.v3 names when that cannot
// be found.
func (ps *parser) syntaxError(data []byte, err error) {
	msg := err.Error()
	line, text := yamlErrorLine(msg)
	pos, ok := yamlErrorPos(data, msg)
	if !ok {
		pos = Pos{max(line, 1), 1}
	}
	hint := "fix the YAML syntax near here (indentation, a missing colon, or an unclosed quote or bracket)"
	switch {
	case readerErrors[text]:
		hint = "a plan must be UTF-8 text without control characters; save it as UTF-8"
	case lineHasTab(data, pos.Line):
		hint = "YAML indentation must use spaces, not tabs"
	}
	ps.atPos(pos, "invalid YAML: "+text, hint)
}

// lineHasTab reports whether the 1-based line of data is indented with a tab.
func lineHasTab(data []byte, line int) bool {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return false
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return bytes.Contains(bytes.TrimRight(data, " \t\r"), []byte("\t"))
}

// resolve follows YAML aliases (*name) to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe names a node's kind, with the value for scalars, for "got …"
// messages.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!bool":
			return n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!str":
			return "the text " + quote(n.Value)
		}
	}
	return kindName(n)
}

// kindName describes a node's kind for "got …" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "true/false"
		case "!!int", "!!float":
			return "a number"
		case "!!str":
			return "a string"
		}
		return "a scalar"
	}
	return "an alias"
}
