package plan

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a syntax error with a line number only, and not always the
// line of the offending token: for parser errors it prints the 0-based line
// of the enclosing collection ("context mark"), so an unclosed [ on line 7 is
// reported as "line 6", and when that line is the first one it prints the
// line of the problem instead. For reader errors (invalid UTF-8, control
// characters) it gives no position at all. yamlErrorPos finds the line and
// column (1-based, columns counted in characters like yaml.Node's) that
// libyaml and PyYAML report first:
//
//   - reader errors: the first character the YAML reader refuses, found by
//     applying its rules (UTF-8 validity and YAML's printable set);
//   - every other error: the end of the shortest prefix of the document that
//     fails with exactly the same error, line number included, as the whole
//     document — the offending character: a tab that cannot start a token,
//     a stray ":", an unclosed quote, the token a block mapping cannot take;
//     then, for the few errors whose offending token is longer or lies
//     before that character, its start: the unclosed [ or { of "did not
//     find expected ',' or ']'", the opening quote of a quoted scalar the
//     parser did not expect, the * of an unknown alias, the ! of an
//     undefined tag handle, the character after a bad \ escape.
//
// The search parses the document behind one extra leading newline, which
// changes no YAML meaning but keeps every mark off yaml.v3's ambiguous first
// line, so that equal error strings mean equal context lines.

// yamlErrorPos returns where the syntax error msg (as yaml.v3 returned it for
// data, "yaml: " prefix included) is. ok is false when no exact position was
// found (UTF-16 input, or a search over the budget).
func yamlErrorPos(data []byte, msg string) (pos Pos, ok bool) {
	if isUTF16(data) {
		return Pos{}, false
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // not a character to yaml.v3
	text := yamlMessage(msg)
	if readerErrors[text] {
		return firstBadChar(data)
	}
	s := &prefixSearch{data: data, budget: searchBudget}
	if text == msgOpenQuote {
		cur, ok := s.openQuote()
		return cur.pos(), ok
	}
	s.want = s.errorOf(len(data))
	shifted, _ := yamlErrorLine(s.want)
	if s.want == "" || yamlMessage(s.want) != text {
		return Pos{}, false
	}
	cur, ok := s.find(max(shifted-1, 1))
	if !ok {
		return Pos{}, false
	}
	switch {
	case text == "did not find expected ',' or ']'" || text == "did not find expected ',' or '}'":
		next := cur
		next.advance()
		if p, ok := s.openBracket(next.off); ok {
			return p, true
		}
	case strings.HasPrefix(text, "unknown anchor '") || text == "found undefined tag handle":
		return tokenStart(data, cur), true
	case text == "found unknown escape character" && cur.off+1 < len(data) && data[cur.off] == '\\':
		cur.advance()
	case text == "could not find expected ':'" && cur.col > 1 && strings.IndexByte("-?:", data[cur.off-1]) >= 0:
		// At the end of a prefix, "-", "?" or ":" alone is an indicator;
		// followed by the found character it starts the plain scalar
		// that is the key.
		return Pos{cur.line, cur.col - 1}, true
	case strings.HasPrefix(text, "did not find expected ") && (data[cur.off] == '"' || data[cur.off] == '\''):
		// A parser error names a token by its start: here the quoted
		// scalar that this quote closes.
		q := &prefixSearch{data: data[:cur.off], budget: s.budget}
		if open, ok := q.openQuote(); ok {
			return open.pos(), true
		}
	}
	return cur.pos(), true
}

// yamlLineRE pulls the line number out of yaml.v3's syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine splits a yaml.v3 error into the line number it names (0 for
// none) and its message.
func yamlErrorLine(msg string) (line int, text string) {
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if l, err := strconv.Atoi(m[1]); err == nil {
			return l, m[2]
		}
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// yamlMessage is a yaml.v3 error without its "yaml: line N: " prefix.
func yamlMessage(msg string) string {
	_, text := yamlErrorLine(msg)
	return text
}

// readerErrors are the messages of yaml.v3's reader for UTF-8 input: they
// come without a line number.
var readerErrors = map[string]bool{
	"invalid leading UTF-8 octet":        true,
	"incomplete UTF-8 octet sequence":    true,
	"invalid trailing UTF-8 octet":       true,
	"invalid length of a UTF-8 sequence": true,
	"invalid Unicode character":          true,
	"control characters are not allowed": true,
}

// isUTF16 reports whether data starts with a UTF-16 byte order mark; the
// search works on UTF-8 only.
func isUTF16(data []byte) bool {
	return bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF})
}

// firstBadChar finds the first character YAML's reader refuses: an invalid
// UTF-8 sequence, or a character outside YAML's printable set.
func firstBadChar(data []byte) (Pos, bool) {
	cur := newCursor(data)
	for cur.off < len(data) {
		r, size := utf8.DecodeRune(data[cur.off:])
		if (r == utf8.RuneError && size <= 1) || !yamlPrintable(r) {
			return cur.pos(), true
		}
		cur.advance()
	}
	return Pos{}, false
}

// yamlPrintable is YAML 1.1's c-printable set, which yaml.v3's reader checks.
func yamlPrintable(r rune) bool {
	switch {
	case r == 0x09, r == 0x0A, r == 0x0D, r >= 0x20 && r <= 0x7E, r == 0x85,
		r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// searchBudget bounds the bytes the search may parse, so that a broken
// multi-megabyte file still gets its error in about a second (at the
// line yaml.v3 named when the budget runs out; plans are kilobytes).
const searchBudget = 16 << 20

// prefixSearch looks for the shortest prefix of data whose parse fails with
// the error want.
type prefixSearch struct {
	data   []byte
	want   string
	budget int
}

// errorOf parses data[:n] behind a newline and returns its first error, or
// "" when it parses or the budget is spent.
func (s *prefixSearch) errorOf(n int, suffix ...byte) string {
	if s.budget < n {
		s.budget = 0
		return ""
	}
	s.budget -= n
	doc := make([]byte, 0, 1+n+len(suffix))
	doc = append(append(append(doc, '\n'), s.data[:n]...), suffix...)
	return firstYAMLError(doc)
}

// find searches line by line from line start (1-based), then character by
// character within the first line whose end completes the error, and returns
// the character that completes it.
func (s *prefixSearch) find(start int) (cursor, bool) {
	cur := newCursor(s.data)
	for cur.line < start && cur.off < len(s.data) {
		cur.nextLine()
	}
	if cur.line < start {
		return cur, false
	}
	for {
		end := cur
		end.nextLine()
		if s.errorOf(end.off) == s.want {
			for cur.off < end.off {
				next := cur
				next.advance()
				if s.errorOf(next.off) == s.want {
					return cur, true
				}
				if s.budget == 0 {
					return cur, false
				}
				cur = next
			}
			return cur, true // at the end of the data: the end of stream
		}
		if s.budget == 0 || end.off >= len(s.data) {
			return cur, false
		}
		cur = end
	}
}

// msgOpenQuote is yaml.v3's error for a quoted scalar that is never closed.
const msgOpenQuote = "found unexpected end of stream"

// openQuote finds the opening quote of the quoted scalar still open at the
// end of data: the last character before which the prefix does not end
// inside a quoted scalar. It scans backwards, by lines and then within the
// line, since every prefix after that quote fails the same way.
func (s *prefixSearch) openQuote() (cursor, bool) {
	inQuote := func(n int) bool { return yamlMessage(s.errorOf(n)) == msgOpenQuote }
	if !inQuote(len(s.data)) {
		return cursor{}, false
	}
	var lines []cursor
	for cur := newCursor(s.data); cur.off < len(s.data); cur.nextLine() {
		lines = append(lines, cur)
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if inQuote(lines[i].off) {
			if s.budget == 0 {
				return cursor{}, false
			}
			continue
		}
		var chars []cursor
		for cur := lines[i]; cur.off < len(s.data) && cur.line == lines[i].line; cur.advance() {
			chars = append(chars, cur)
		}
		for j := len(chars) - 1; j >= 0; j-- {
			if !inQuote(chars[j].off) {
				return chars[j], s.budget > 0
			}
		}
		return lines[i], s.budget > 0
	}
	return cursor{}, false
}

// openBracket finds the innermost [ or { still open at the end of data[:off],
// the prefix that fails with the error: it closes
// the open collections of that prefix one by one, guided by yaml.v3's errors,
// then takes the n-th bracketed collection on the path of last children
// (the open collections are the outermost n of them).
func (s *prefixSearch) openBracket(off int) (Pos, bool) {
	var closers []byte
	for range 64 {
		err := yamlMessage(s.errorOf(off, closers...))
		if s.budget == 0 {
			return Pos{}, false
		}
		switch err {
		case "":
		case "did not find expected ',' or ']'":
			closers = append(closers, ']')
			continue
		case "did not find expected ',' or '}'":
			closers = append(closers, '}')
			continue
		default:
			// Which closer fits? Take the one that parses or leaves a
			// collection to close.
			found := false
			for _, c := range []byte("]}") {
				switch yamlMessage(s.errorOf(off, append(closers, c)...)) {
				case "", "did not find expected ',' or ']'", "did not find expected ',' or '}'":
					closers, found = append(closers, c), true
				}
				if found {
					break
				}
			}
			if !found {
				return Pos{}, false
			}
			continue
		}
		break
	}
	if len(closers) == 0 {
		return Pos{}, false
	}
	doc := append(append([]byte("\n"), s.data[:off]...), closers...)
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var last *yaml.Node
	for {
		var n yaml.Node
		if err := decodeNode(dec, &n); err != nil {
			break
		}
		last = &n
	}
	open := 0
	for n := last; n != nil; {
		if (n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode) && n.Style&yaml.FlowStyle != 0 {
			// Implicit single-pair mappings inside [ ] are flow mappings
			// without a bracket of their own.
			if p := (Pos{Line: n.Line - 1, Col: n.Column}); bracketAt(s.data, p) {
				if open++; open == len(closers) {
					return p, true
				}
			}
		}
		if len(n.Content) == 0 || n.Kind == yaml.AliasNode {
			break
		}
		n = n.Content[len(n.Content)-1]
	}
	return Pos{}, false
}

// bracketAt reports whether the character at p in data is [ or {.
func bracketAt(data []byte, p Pos) bool {
	cur := newCursor(data)
	for cur.off < len(data) && (cur.line < p.Line || (cur.line == p.Line && cur.col < p.Col)) {
		cur.advance()
	}
	return cur.off < len(data) && cur.line == p.Line && cur.col == p.Col &&
		(data[cur.off] == '[' || data[cur.off] == '{')
}

// tokenStart moves back from the last character of an alias or tag to the
// * or ! that starts it.
func tokenStart(data []byte, end cursor) Pos {
	cur := newCursor(data)
	for cur.line < end.line {
		cur.nextLine()
	}
	start := cur
	for cur.off < end.off {
		r, _ := utf8.DecodeRune(data[cur.off:])
		if r == ' ' || r == '\t' || strings.ContainsRune(",[]{}", r) {
			start = cur
			start.advance()
		}
		cur.advance()
	}
	return start.pos()
}

// firstYAMLError decodes every document in data and returns the first error
// (as yaml.v3 words it), or "" when data parses.
func firstYAMLError(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := decodeNode(dec, &n)
		switch {
		case errors.Is(err, io.EOF):
			return ""
		case err != nil:
			return err.Error()
		}
	}
}

// cursor walks data by characters, counting lines the way YAML does (\r\n,
// \r, \n, NEL, LS and PS each end a line).
type cursor struct {
	data      []byte
	off       int // byte offset of the current character
	line, col int // its 1-based position
}

func newCursor(data []byte) cursor { return cursor{data: data, line: 1, col: 1} }

func (c *cursor) pos() Pos { return Pos{Line: c.line, Col: c.col} }

// advance moves past the current character (a line break as a whole).
func (c *cursor) advance() {
	r, size := utf8.DecodeRune(c.data[c.off:])
	if r == '\r' && c.off+1 < len(c.data) && c.data[c.off+1] == '\n' {
		size = 2
	}
	c.off += size
	switch r {
	case '\r', '\n', 0x85, 0x2028, 0x2029:
		c.line, c.col = c.line+1, 1
	default:
		c.col++
	}
}

// nextLine moves to the start of the next line (or the end of data).
func (c *cursor) nextLine() {
	for line := c.line; c.off < len(c.data) && c.line == line; {
		c.advance()
	}
}
