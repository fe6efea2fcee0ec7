package ec2sim

import (
	"strconv"
	"strings"
)

// filter is one Filter.N: a name and the values it accepts (ORed).
type filter struct {
	name   string
	values []string
}

// filters are ANDed.
type filters []filter

// parseFilters reads Filter.N.Name and Filter.N.Value.M. Names must be in
// known or start with "tag:" when known has "tag-key" or "tag:".
func parseFilters(c *call, known map[string]bool) (filters, *apiError) {
	var out filters
	for _, i := range c.indexes("Filter") {
		p := "Filter." + strconv.Itoa(i)
		name := c.form.Get(p + ".Name")
		tagKey := (known["tag-key"] || known["tag:"]) && strings.HasPrefix(name, "tag:") && len(name) > 4
		if (!known[name] || name == "tag:") && !tagKey {
			return nil, errf(400, "InvalidParameterValue", "The filter '%s' is invalid", name)
		}
		out = append(out, filter{name: name, values: c.list(p + ".Value")})
	}
	return out, nil
}

// match reports whether every filter accepts at least one of the values that
// valuesOf returns for its name.
func (fs filters) match(valuesOf func(name string) []string) bool {
	for _, f := range fs {
		ok := false
	values:
		for _, have := range valuesOf(f.name) {
			for _, want := range f.values {
				if Wildcard(want, have) {
					ok = true
					break values
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Wildcard reports whether s matches pattern, where * matches any run of
// characters, ? any single character and \ escapes the next character, as in
// EC2 filter values. Matching is case-sensitive.
func Wildcard(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	// Iterative matcher with backtracking to the last star.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == '\\' && pi+1 < len(p) && p[pi+1] == str[si]:
			pi += 2
			si++
		case pi < len(p) && p[pi] != '\\' && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
