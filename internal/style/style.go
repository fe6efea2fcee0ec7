// Package style colours afisync's human output — status words in the live
// view and the text report — only on terminals, and never when NO_COLOR or
// --no-color asks for plain text. Durations, times and sizes are humanised
// by package human.
package style

import (
	"io"

	"github.com/mattn/go-isatty"

	"github.com/afisync/afisync/report"
)

// IsTerminal reports whether w is a terminal (a file descriptor that
// isatty recognises). Buffers, pipes and files are not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// IsTerminalInput reports whether r is a terminal: standard input that a
// person types into, rather than a pipe or a file.
func IsTerminalInput(r io.Reader) bool {
	f, ok := r.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// ColorEnabled reports whether output to w may be coloured: w is a
// terminal, noColor (the --no-color flag) is unset, NO_COLOR is unset or
// empty (https://no-color.org), and TERM is not "dumb". getenv is
// os.Getenv outside tests.
func ColorEnabled(w io.Writer, noColor bool, getenv func(string) string) bool {
	if noColor || getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// SGR colour codes used by Palette.
const (
	red     = "\x1b[31m"
	green   = "\x1b[32m"
	yellow  = "\x1b[33m"
	blue    = "\x1b[34m"
	magenta = "\x1b[35m"
	cyan    = "\x1b[36m"
	dim     = "\x1b[2m"
	bold    = "\x1b[1m"
	reset   = "\x1b[0m"
)

// Palette colours words when On is set and returns them unchanged
// otherwise, so that callers never branch on colour themselves.
type Palette struct{ On bool }

func (p Palette) wrap(code, s string) string {
	if !p.On || s == "" {
		return s
	}
	return code + s + reset
}

// Red colours s red (failures).
func (p Palette) Red(s string) string { return p.wrap(red, s) }

// Green colours s green (success).
func (p Palette) Green(s string) string { return p.wrap(green, s) }

// Yellow colours s yellow (in flight, pending changes).
func (p Palette) Yellow(s string) string { return p.wrap(yellow, s) }

// Dim renders s faint (nothing to do).
func (p Palette) Dim(s string) string { return p.wrap(dim, s) }

// Bold renders s bold (headings).
func (p Palette) Bold(s string) string { return p.wrap(bold, s) }

// codes are the escape codes of the colours report.StatusInfo names.
var codes = map[report.Color]string{
	report.ColorRed:     red,
	report.ColorMagenta: magenta,
	report.ColorGreen:   green,
	report.ColorBlue:    blue,
	report.ColorCyan:    cyan,
	report.ColorYellow:  yellow,
	report.ColorDim:     dim,
}

// Status renders a status word in its colour (report.Status.Info().Color).
// It is the paint of report.(*Report).WriteText.
func (p Palette) Status(s report.Status) string {
	code, ok := codes[s.Info().Color]
	if !ok {
		return string(s)
	}
	return p.wrap(code, string(s))
}
