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
	// Account and AccountName name the account the call was checked in,
	// for a plan with accounts: (its 12-digit ID and its name there).
	Account     string `json:"account,omitempty"`
	AccountName string `json:"account_name,omitempty"`
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

// accounts counts the accounts the checks name (0 for a plan without
// accounts:).
func (p *Preflight) accounts() int {
	seen := map[string]bool{}
	for _, c := range p.Checks {
		if c.AccountName != "" || c.Account != "" {
			seen[c.AccountName+"/"+c.Account] = true
		}
	}
	return len(seen)
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
		head := "quota: "
		if q.AccountName != "" || q.Account != "" {
			head += "account " + q.accountLabel() + ": "
		}
		switch {
		case q.Refused:
			out = append(out, head+fmt.Sprintf("%s holds %d AFIs and its limit is %d (%s); a sync would create %d and delete %d: it would make no copy there", q.Region, q.Held, q.Limit, q.Source, q.Copies, q.Deletes))
		case q.Over:
			out = append(out, head+fmt.Sprintf("%s holds %d AFIs, over its limit of %d (%s)", q.Region, q.Held, q.Limit, q.Source))
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
	accounts := p.accounts()
	switch {
	case accounts > 0:
		head += fmt.Sprintf(" over %d accounts", accounts)
	case p.Account != "":
		head += " in account " + p.Account
	}
	if p.Simulated {
		head += " (SIMULATED)"
	}
	summary := fmt.Sprintf("%d allowed, %d denied, %d unknown", p.Count(CheckAllowed), p.Count(CheckDenied), p.Count(CheckUnknown))
	// A plan with accounts: has an account column first.
	acct := func(c Check) string { return "" }
	cell := func(s string) string { return s }
	if accounts > 0 {
		cell = dash
		acct = func(c Check) string { return Account{Name: c.AccountName, ID: c.Account}.Label() + "\t" }
	}
	if f == FormatMarkdown {
		col, rule := "", ""
		if accounts > 0 {
			col, rule = "Account | ", "---|"
		}
		fmt.Fprintf(&b, "### %s\n\n**%s**\n\n| %sRegion | Action | AFI | Result | Message |\n|%s---|---|---|---|---|\n", head, summary, col, rule)
		for _, c := range p.Checks {
			fmt.Fprintf(&b, "| %s%s | %s | %s | %s | %s |\n", strings.ReplaceAll(acct(c), "\t", " | "), cell(c.Region), c.Action, cell(c.AFI), c.Result, mdEscape(c.Message))
		}
		for _, q := range p.quotaProblems() {
			fmt.Fprintf(&b, "\n- %s\n", mdEscape(q))
		}
	} else {
		fmt.Fprintln(&b, head)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		col := ""
		if accounts > 0 {
			col = "ACCOUNT\t"
		}
		fmt.Fprintln(tw, col+"REGION\tACTION\tAFI\tRESULT\tMESSAGE")
		for _, c := range p.Checks {
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\n", acct(c), cell(c.Region), c.Action, cell(c.AFI), c.Result, c.Message)
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
