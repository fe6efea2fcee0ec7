package plan

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnsupportedVersion is wrapped by the Error reported when a plan's
// version is newer than SchemaVersion: errors.Is(err, ErrUnsupportedVersion)
// tells a caller that upgrading afisync, not editing the plan, is the fix.
var ErrUnsupportedVersion = errors.New("unsupported plan version")

// Error is one problem found in a plan file, at a 1-based position. Msg says
// what is wrong; Hint, when set, says what would be right.
type Error struct {
	File string
	Pos  Pos
	Msg  string
	Hint string
	// Err is an optional sentinel (such as ErrUnsupportedVersion) that
	// classifies the problem for errors.Is; it is not printed.
	Err error
}

// Error renders the problem as "FILE:LINE:COL: msg; hint", the form editors
// and CI log scrapers recognise.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap returns the sentinel that classifies e, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one plan file, sorted by position. Parse
// and Load return it (never an empty one) when a plan is invalid.
type Errors struct {
	List []*Error
	// omitted counts the problems past the cap that the last entry of List
	// only sums up ("N more problems …").
	omitted int
}

// Error prints one line per problem, in position order.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, err := range e.List {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.Is and errors.As.
func (e *Errors) Unwrap() []error {
	errs := make([]error, len(e.List))
	for i, err := range e.List {
		errs[i] = err
	}
	return errs
}

// Len returns the number of problems found. When List was cut short, its
// last entry sums up the rest, and Len counts those too.
func (e *Errors) Len() int {
	if e.omitted > 0 {
		return len(e.List) - 1 + e.omitted
	}
	return len(e.List)
}

// sortErrors orders errors by position, keeping the order they were found
// in for the same position, and drops exact duplicates (the same problem
// reached twice through a YAML alias).
func sortErrors(list []*Error) []*Error {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Pos.Col < b.Pos.Col
	})
	type key struct {
		pos       Pos
		msg, hint string
	}
	seen := make(map[key]bool, len(list))
	out := list[:0]
	for _, e := range list {
		k := key{e.Pos, e.Msg, e.Hint}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
