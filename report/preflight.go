package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Permission check outcomes.
const (
	CheckAllowed = "allowed" // EC2 answered DryRunOperation: the call would succeed
	CheckDenied  = "denied"  // EC2 answered UnauthorizedOperation
	CheckUnknown = "unknown" // EC2 answered something else; see the message
)

// Preflight is the outcome of `afisync preflight`: for each region and each
// mutating call the plan needs there, whether EC2 would allow it.
type Preflight struct {
	Plan      string  `json:"plan"`
	Account   string  `json:"account,omitempty"`
	Simulated bool    `json:"simulated,omitempty"`
	Checks    []Check `json:"checks"`
	// Quota is the AFI quota of each region, as a sync would judge it
	// (Report.Quota); a region refused or over its limit fails the check.
	Quota []Quota `json:"quota,omitempty"`
}

// Check is one DryRun call.
type Check struct {
	Region  string `json:"region"`
	Action  string `json:"action"`
	AFI     string `json:"afi"`
	Result  string `json:"result"` // allowed, denied or unknown
	Message string `json:"message,omitempty"`
}

// Sort orders the checks by region, then action.
func (p *Preflight) Sort() {
	sort.Slice(p.Checks, func(i, j int) bool {
		a, b := p.Checks[i], p.Checks[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Action < b.Action
	})
}

// Count returns how many checks ended with result.
func (p *Preflight) Count(result string) int {
	n := 0
	for _, c := range p.Checks {
		if c.Result == result {
			n++
		}
	}
	return n
}

// ExitCode is 1 when any call would be denied or a region would pass its
// AFI limit, else 0.
func (p *Preflight) ExitCode() int {
	if p.Count(CheckDenied) > 0 || len(p.quotaProblems()) > 0 {
		return 1
	}
	return 0
}

// quotaProblems words each region a sync would refuse, or that is over its
// limit already.
func (p *Preflight) quotaProblems() []string {
	var out []string
	for _, q := range p.Quota {
		switch {
		case q.Refused:
			out = append(out, fmt.Sprintf("quota: %s holds %d AFIs and its limit is %d (%s); a sync would create %d and delete %d: it would make no copy there", q.Region, q.Held, q.Limit, q.Source, q.Copies, q.Deletes))
		case q.Over:
			out = append(out, fmt.Sprintf("quota: %s holds %d AFIs, over its limit of %d (%s)", q.Region, q.Held, q.Limit, q.Source))
		}
	}
	return out
}

// Write renders the checks as text, JSON or Markdown.
func (p *Preflight) Write(w io.Writer, f Format) error {
	if f == FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	var b bytes.Buffer
	head := fmt.Sprintf("afisync preflight of plan %q", p.Plan)
	if p.Account != "" {
		head += " in account " + p.Account
	}
	if p.Simulated {
		head += " (SIMULATED)"
	}
	summary := fmt.Sprintf("%d allowed, %d denied, %d unknown", p.Count(CheckAllowed), p.Count(CheckDenied), p.Count(CheckUnknown))
	if f == FormatMarkdown {
		fmt.Fprintf(&b, "### %s\n\n**%s**\n\n| Region | Action | AFI | Result | Message |\n|---|---|---|---|---|\n", head, summary)
		for _, c := range p.Checks {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Region, c.Action, c.AFI, c.Result, mdEscape(c.Message))
		}
		for _, q := range p.quotaProblems() {
			fmt.Fprintf(&b, "\n- %s\n", mdEscape(q))
		}
	} else {
		fmt.Fprintln(&b, head)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tACTION\tAFI\tRESULT\tMESSAGE")
		for _, c := range p.Checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Region, c.Action, c.AFI, c.Result, c.Message)
		}
		tw.Flush()
		for _, q := range p.quotaProblems() {
			fmt.Fprintln(&b, q)
		}
		fmt.Fprintln(&b, summary)
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}
