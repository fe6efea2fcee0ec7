// Package report holds the result of an afisync run — one entry per target
// (source AFI × destination region) — and renders it as aligned text, JSON
// (a stable schema, documented in the README) or Markdown.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/afisync/afisync/internal/atomicfile"
	"github.com/afisync/afisync/internal/human"
)

// Status is a target's outcome.
type Status string

// The statuses a target can end in, in the order summaries list them.
const (
	StatusFailed       Status = "failed"        // the copy failed, or an AWS error retries did not cure
	StatusTimedOut     Status = "timed-out"     // still pending when --timeout passed
	StatusSkipped      Status = "skipped"       // the source cannot be copied (missing, not owned, not available)
	StatusWaiting      Status = "waiting"       // without --wait: the source is still pending, nothing copied yet
	StatusBuilding     Status = "building"      // the source is being built (CreateFpgaImage, this run or an earlier one); nothing copied yet
	StatusCopied       Status = "copied"        // a copy was made (or seen through) and is available
	StatusCopying      Status = "copying"       // a copy is pending (without --wait, success)
	StatusUpdated      Status = "updated"       // tags, name, description or sharing were converged
	StatusAdopted      Status = "adopted"       // a copy made by others now carries afisync's management tags
	StatusPruned       Status = "pruned"        // a copy no longer in the plan was deleted
	StatusReleased     Status = "released"      // this plan's claim on a copy other plans still claim was removed; the copy stays
	StatusExpired      Status = "expired"       // a copy of a source a retention rule (retain:) expired was deleted
	StatusWouldBuild   Status = "would-build"   // dry run: sync would build the source (CreateFpgaImage), then copy it
	StatusWouldCopy    Status = "would-copy"    // dry run: sync would copy
	StatusWouldUpdate  Status = "would-update"  // dry run: sync would update tags, name, description or sharing
	StatusWouldAdopt   Status = "would-adopt"   // dry run: sync would adopt a copy made by others
	StatusWouldPrune   Status = "would-prune"   // dry run: sync --prune would delete
	StatusWouldRelease Status = "would-release" // dry run: sync --prune would remove this plan's claim only
	StatusWouldExpire  Status = "would-expire"  // dry run: a retention rule expired the source; sync would delete the copy
	StatusInSync       Status = "in-sync"       // nothing to do
)

// Statuses lists every status in summary order.
var Statuses = []Status{
	StatusFailed, StatusTimedOut, StatusSkipped, StatusWaiting, StatusBuilding, StatusCopied, StatusCopying,
	StatusUpdated, StatusAdopted, StatusPruned, StatusReleased, StatusExpired, StatusWouldBuild, StatusWouldCopy, StatusWouldUpdate,
	StatusWouldAdopt, StatusWouldPrune, StatusWouldRelease, StatusWouldExpire, StatusInSync,
}

// Color is the colour a status word is shown in on a terminal; package
// style turns it into escape codes.
type Color string

// The colours of the status words.
const (
	ColorNone    Color = ""
	ColorRed     Color = "red"     // the plan is not satisfied
	ColorMagenta Color = "magenta" // the source cannot be copied
	ColorGreen   Color = "green"   // a change was made and is available
	ColorBlue    Color = "blue"    // a copy was deleted
	ColorCyan    Color = "cyan"    // work in flight in AWS
	ColorYellow  Color = "yellow"  // a change a sync would make
	ColorDim     Color = "dim"     // nothing to do
)

// StatusInfo is what a status means: the one place every consumer (the
// exit code, notifications, metrics, progress, colour, CI annotations)
// takes it from.
type StatusInfo struct {
	// Terminal: the target will not change without another run (every
	// status but a copy still pending in AWS).
	Terminal bool
	// Change: the run changed the target, or (dry run) would.
	Change bool
	// Failure: the plan is not satisfied; the run exits 1.
	Failure bool
	// Available: a copy is available in the region as the plan wants it.
	Available bool
	// Pending: a dry run's change that a sync would make; with
	// --detailed-exitcode the run exits 2.
	Pending bool
	// Color is the status word's colour on a terminal.
	Color Color
}

// statusInfo is the table of statuses; TestStatusTable checks every
// consumer against it.
var statusInfo = map[Status]StatusInfo{
	StatusFailed:   {Terminal: true, Failure: true, Color: ColorRed},
	StatusTimedOut: {Terminal: true, Failure: true, Color: ColorRed},
	StatusSkipped:  {Terminal: true, Failure: true, Color: ColorMagenta},
	StatusWaiting:  {Terminal: true, Failure: true, Color: ColorCyan},
	// A build in flight is like a copy in flight without --wait: the work
	// goes on in AWS, and the next run copies it. It is terminal all the
	// same, as only another run (or --wait) copies it.
	StatusBuilding:     {Terminal: true, Change: true, Color: ColorCyan},
	StatusCopied:       {Terminal: true, Change: true, Available: true, Color: ColorGreen},
	StatusCopying:      {Change: true, Color: ColorCyan},
	StatusUpdated:      {Terminal: true, Change: true, Available: true, Color: ColorGreen},
	StatusAdopted:      {Terminal: true, Change: true, Available: true, Color: ColorGreen},
	StatusPruned:       {Terminal: true, Change: true, Color: ColorBlue},
	StatusReleased:     {Terminal: true, Change: true, Color: ColorBlue},
	StatusExpired:      {Terminal: true, Change: true, Color: ColorBlue},
	StatusWouldBuild:   {Terminal: true, Change: true, Pending: true, Color: ColorYellow},
	StatusWouldCopy:    {Terminal: true, Change: true, Pending: true, Color: ColorYellow},
	StatusWouldUpdate:  {Terminal: true, Change: true, Pending: true, Color: ColorYellow},
	StatusWouldAdopt:   {Terminal: true, Change: true, Pending: true, Color: ColorYellow},
	StatusWouldPrune:   {Terminal: true, Change: true, Pending: true, Color: ColorYellow},
	StatusWouldRelease: {Terminal: true, Change: true, Pending: true, Color: ColorYellow},
	StatusWouldExpire:  {Terminal: true, Change: true, Pending: true, Color: ColorYellow},
	StatusInSync:       {Terminal: true, Available: true, Color: ColorDim},
}

// Info returns what s means; an unknown status means nothing (the zero
// StatusInfo).
func (s Status) Info() StatusInfo { return statusInfo[s] }

// Bad reports whether the status means the plan is not satisfied.
func (s Status) Bad() bool { return s.Info().Failure }

// Pending reports whether the status is a change a sync would make (dry run).
func (s Status) Pending() bool { return s.Info().Pending }

// Changed reports whether the run changed the target, or (dry run) would.
func (s Status) Changed() bool { return s.Info().Change }

// Available reports whether a copy is available in the target's region.
func (s Status) Available() bool { return s.Info().Available }

// ExitCode is the status's contribution to the run's exit code: 1 for a
// failure; 2 for a pending change when detailed (--detailed-exitcode) is
// set; else 0.
func (s Status) ExitCode(detailed bool) int {
	switch in := s.Info(); {
	case in.Failure:
		return 1
	case in.Pending && detailed:
		return 2
	}
	return 0
}

// Report is the outcome of one diff or sync.
type Report struct {
	Plan        string    `json:"plan"`
	Account     string    `json:"account,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	DryRun      bool      `json:"dry_run"`
	Simulated   bool      `json:"simulated,omitempty"`
	Interrupted bool      `json:"interrupted,omitempty"`
	// Error says why the run could not finish its work: it could not
	// start (no credentials, an endpoint that cannot be reached, an
	// invalid plan), or its deadline passed (and what it was waiting for).
	Error    string         `json:"error,omitempty"`
	Summary  map[Status]int `json:"summary"`
	Targets  []Target       `json:"targets"`
	Warnings []string       `json:"warnings,omitempty"`
	// Quota is the AFI quota of each region the run read that holds an
	// AFI or would get one, by region.
	Quota []Quota `json:"quota,omitempty"`
	// Accounts are the plan's accounts the run went over, sorted by
	// name, each with its own summary; nil for a plan without accounts:.
	Accounts []Account `json:"accounts,omitempty"`
}

// Account is one account of a run over a plan's accounts:.
type Account struct {
	// Name is its key under the plan's accounts: ("" for the command's
	// own credentials, which entries without account: use).
	Name string `json:"name"`
	// ID is its 12-digit account ID ("" when it could not be learnt).
	ID string `json:"id,omitempty"`
	// Summary counts its targets by status.
	Summary map[Status]int `json:"summary"`
	// Error says why the account's work could not be done (its
	// credentials failed, its deadline passed); the report's Error has it
	// too, as the line "account NAME: ERROR".
	Error string `json:"error,omitempty"`
}

// Label names the account in a report: its plan name and ID.
func (a Account) Label() string {
	name := a.Name
	if name == "" {
		name = "(own credentials)"
	}
	if a.ID == "" {
		return name
	}
	return name + " (" + a.ID + ")"
}

// Quota is one region's AFI quota as the run planned it.
type Quota struct {
	Region string `json:"region"`
	// Account and AccountName name the account the region's numbers are
	// of, in a run over a plan's accounts: (the quota is per account and
	// region); empty otherwise.
	Account     string `json:"account,omitempty"`
	AccountName string `json:"account_name,omitempty"`
	// Held counts the AFIs the account owns there (any state but deleted)
	// when the run read the inventory.
	Held int `json:"held"`
	// Limit is the AFIs the account may hold there; Source says where the
	// number comes from: flag, plan, service-quotas or default.
	Limit  int    `json:"limit"`
	Source string `json:"source"`
	// Copies and Deletes are what the run planned to create and delete
	// there; After = Held + Copies - Deletes.
	Copies  int `json:"copies"`
	Deletes int `json:"deletes"`
	After   int `json:"after"`
	// Headroom is Limit - After; negative when the plan does not fit.
	Headroom int `json:"headroom"`
	// Refused: After passes the limit, so no copy was made (or, in a dry
	// run, would be) in the region.
	Refused bool `json:"refused,omitempty"`
	// Over: the region held more than its limit when the run started
	// (named, and the run fails, even with nothing planned there).
	// Refused and Over are set only for a limit afisync enforces (from
	// the flag, the plan or Service Quotas, not the default).
	Over bool `json:"over,omitempty"`
}

// Target is the result for one source AFI in one destination region.
type Target struct {
	SourceAFI    string `json:"source_afi"`
	SourceRegion string `json:"source_region"`
	AGFI         string `json:"agfi,omitempty"`
	Region       string `json:"region"`
	CopyAFI      string `json:"copy_afi,omitempty"`
	Status       Status `json:"status"`
	// Message explains the status; for failures it quotes AWS's own words.
	Message string `json:"message,omitempty"`
	// Attempts is the attempt number of the latest copy of this target
	// that afisync knows of (1 for a first copy); 0 when there is none.
	Attempts int `json:"attempts"`
	// Selector is the plan selector that matched this source, if any.
	Selector string `json:"selector,omitempty"`
	// Build is the S3 location of the DCP the source is built from, for
	// the targets of a build entry. SourceAFI is empty until the build
	// exists.
	Build string `json:"build,omitempty"`
	// Account is the 12-digit ID of the account the copy is made in, and
	// AccountName its name under the plan's accounts:; both are set only
	// for a plan with accounts: (Report.Account names the one account
	// otherwise).
	Account     string `json:"account,omitempty"`
	AccountName string `json:"account_name,omitempty"`
}

// Finish sorts the targets and computes the summary.
func (r *Report) Finish() {
	sort.SliceStable(r.Targets, func(i, j int) bool {
		a, b := r.Targets[i], r.Targets[j]
		if a.AccountName != b.AccountName {
			return a.AccountName < b.AccountName
		}
		if a.SourceRegion != b.SourceRegion {
			return a.SourceRegion < b.SourceRegion
		}
		if a.SourceAFI != b.SourceAFI {
			return a.SourceAFI < b.SourceAFI
		}
		return a.Region < b.Region
	})
	r.Summary = map[Status]int{}
	for _, t := range r.Targets {
		r.Summary[t.Status]++
	}
	for i := range r.Accounts {
		a := &r.Accounts[i]
		a.Summary = map[Status]int{}
		for _, t := range r.Targets {
			if t.AccountName == a.Name {
				a.Summary[t.Status]++
			}
		}
	}
	if r.Targets == nil {
		r.Targets = []Target{}
	}
}

// Failed reports whether the plan is not satisfied: a target failed, timed
// out or was skipped, a region is over its AFI limit, or the run was
// interrupted or ended in an error.
func (r *Report) Failed() bool {
	return r.Interrupted || r.Error != "" || r.any(Status.Bad) || r.overQuota()
}

// overQuota reports whether a region would hold more AFIs than its limit
// (also one over it at the start, with nothing planned there).
func (r *Report) overQuota() bool {
	for _, q := range r.Quota {
		if q.Refused || q.Over {
			return true
		}
	}
	return false
}

// Changed reports whether the run changed a target (copied, updated,
// adopted or pruned one, or started a copy) or, in a dry run, would.
func (r *Report) Changed() bool { return r.any(Status.Changed) }

// Pending reports whether a dry run found changes a sync would make.
func (r *Report) Pending() bool { return r.any(Status.Pending) }

func (r *Report) any(p func(Status) bool) bool {
	for _, t := range r.Targets {
		if p(t.Status) {
			return true
		}
	}
	return false
}

// ExitCode is the process exit status the report calls for: 1 when it
// Failed (a target failed, timed out or was skipped, or the run was
// interrupted or ended in an error); else 2 when detailed is set and a dry
// run found pending changes; else 0.
func (r *Report) ExitCode(detailed bool) int {
	if r.Failed() {
		return 1
	}
	code := 0
	for _, t := range r.Targets {
		switch c := t.Status.ExitCode(detailed); {
		case c == 1:
			return 1
		case c > code:
			code = c
		}
	}
	return code
}

// SummaryLine is the one-line summary, e.g. "3 copied, 12 in sync, 1 failed".
func (r *Report) SummaryLine() string { return summaryLine(r.Summary) }

// SummaryLine is the summary line of the account's targets.
func (a Account) SummaryLine() string { return summaryLine(a.Summary) }

// summaryLine words a count of targets by status.
func summaryLine(summary map[Status]int) string {
	var parts []string
	for _, s := range Statuses {
		if n := summary[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(s), "-", " ")))
		}
	}
	if len(parts) == 0 {
		return "no targets"
	}
	return strings.Join(parts, ", ")
}

// Format names a renderer.
type Format string

// The formats Write knows.
const (
	FormatText     Format = "text"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
)

// ParseFormat checks a format name from the command line.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatJSON, FormatMarkdown:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q; use text, json or markdown", s)
}

// Write renders the report in format f.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case FormatJSON:
		return r.writeJSON(w)
	case FormatMarkdown:
		return r.writeMarkdown(w)
	default:
		return r.WriteText(w, nil)
	}
}

func (r *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// source names a target's source: its region and AFI, or, for a build not
// made yet, "(new build)".
func source(t Target) string {
	if t.SourceAFI == "" && t.Build != "" {
		return t.SourceRegion + "/(new build)"
	}
	return t.SourceRegion + "/" + t.SourceAFI
}

// note is the message column of the text and Markdown reports: the message,
// and the selector that matched the source or the DCP it is built from, if
// any.
func note(t Target) string {
	var from string
	switch {
	case t.Selector != "":
		from = "selected by " + t.Selector
	case t.Build != "":
		from = "built from " + t.Build
	default:
		return t.Message
	}
	if t.Message == "" {
		return from
	}
	return t.Message + " (" + from + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (r *Report) heading() string {
	verb := "sync"
	if r.DryRun {
		verb = "diff"
	}
	h := fmt.Sprintf("afisync %s of plan %q", verb, r.Plan)
	switch {
	case r.grouped():
		h += fmt.Sprintf(" over %d accounts", len(r.Accounts))
	case r.Account != "":
		h += " in account " + r.Account
	}
	if r.Simulated {
		h += " (SIMULATED)"
	}
	return h
}

func (r *Report) footer() string {
	s := r.SummaryLine()
	if d := r.FinishedAt.Sub(r.StartedAt); d > 0 {
		s += " (" + human.Duration(d) + ")"
	}
	if r.Interrupted {
		s += "; interrupted"
	}
	return s
}

// WriteText renders the report as text (FormatText) with each word of the
// STATUS column written as paint returns it: style.Palette.Status colours
// it. The columns are aligned on the plain words, so colour codes do not
// disturb them. A nil paint writes the words plain.
func (r *Report) WriteText(w io.Writer, paint func(Status) string) error {
	var b bytes.Buffer
	fmt.Fprintln(&b, r.heading())
	if r.grouped() {
		for _, a := range r.Accounts {
			fmt.Fprintf(&b, "\naccount %s: %s\n", a.Label(), summaryLine(a.Summary))
			if a.Error != "" {
				fmt.Fprintf(&b, "error: %s\n", a.Error)
			}
			writeTable(&b, r.targetsOf(a.Name), paint)
		}
		b.WriteString("\n")
	} else {
		writeTable(&b, r.Targets, paint)
	}
	if len(r.Quota) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		if r.grouped() {
			fmt.Fprint(tw, "ACCOUNT\t")
		}
		fmt.Fprintln(tw, "QUOTA\tHELD\tLIMIT\tAFTER\tHEADROOM\t")
		for _, q := range r.Quota {
			if r.grouped() {
				fmt.Fprintf(tw, "%s\t", q.accountLabel())
			}
			fmt.Fprintf(tw, "%s\t%d\t%d (%s)\t%d\t%d\t%s\n", q.Region, q.Held, q.Limit, q.Source, q.After, q.Headroom, q.note())
		}
		tw.Flush()
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	for _, e := range r.runErrors() {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	fmt.Fprintln(&b, r.footer())
	// tabwriter pads the last column too; trim trailing blanks.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// accountLabel names the quota's account in a report grouped by account.
func (q Quota) accountLabel() string {
	return Account{Name: q.AccountName, ID: q.Account}.Label()
}

// note says what the run did about a region's quota: the copies and
// deletions it planned, and a refusal.
func (q Quota) note() string {
	var parts []string
	if q.Copies > 0 {
		parts = append(parts, fmt.Sprintf("+%d", q.Copies))
	}
	if q.Deletes > 0 {
		parts = append(parts, fmt.Sprintf("-%d", q.Deletes))
	}
	switch {
	case q.Refused:
		parts = append(parts, "refused: no copy in this region")
	case q.Over:
		parts = append(parts, "over the limit")
	case q.Headroom < 0:
		parts = append(parts, "past the default limit: not enforced")
	}
	return strings.Join(parts, " ")
}

// writeTable writes the text report's table of targets ts, if any.
func writeTable(b *bytes.Buffer, ts []Target, paint func(Status) string) {
	if len(ts) == 0 {
		return
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tREGION\tSTATUS\tCOPY\tMESSAGE")
	for _, t := range ts {
		status := string(t.Status)
		if paint != nil {
			// tabwriter measures the escaped word and passes it
			// through with its Escape bytes, which paintEscaped
			// then replaces.
			status = "\xff" + status + "\xff" // tabwriter.Escape
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", source(t), t.Region, status, dash(t.CopyAFI), note(t))
	}
	tw.Flush()
	text := table.Bytes()
	if paint != nil {
		text = paintEscaped(text, paint)
	}
	b.Write(text)
}

// grouped reports whether the report is shown account by account: when the
// run went over more than one account.
func (r *Report) grouped() bool { return len(r.Accounts) > 1 }

// targetsOf returns the targets of the account named name.
func (r *Report) targetsOf(name string) []Target {
	var out []Target
	for _, t := range r.Targets {
		if t.AccountName == name {
			out = append(out, t)
		}
	}
	return out
}

// runErrors are the lines of Error to show at the report's end: all of
// them, less (in a grouped report) those shown under their account.
func (r *Report) runErrors() []string {
	if r.Error == "" {
		return nil
	}
	if !r.grouped() {
		return []string{r.Error}
	}
	shown := map[string]bool{}
	for _, a := range r.Accounts {
		if a.Error != "" {
			for _, l := range strings.Split("account "+a.accountName()+": "+a.Error, "\n") {
				shown[l] = true
			}
		}
	}
	var out []string
	for _, l := range strings.Split(r.Error, "\n") {
		if !shown[l] {
			out = append(out, l)
		}
	}
	return out
}

// accountName is how Report.Error's lines name the account: by its plan
// name, else its ID.
func (a Account) accountName() string {
	switch {
	case a.Name != "":
		return a.Name
	case a.ID != "":
		return a.ID
	}
	return "(the command's own credentials)"
}

// paintEscaped replaces each segment of text bracketed by tabwriter.Escape
// bytes with paint of the status it holds.
func paintEscaped(text []byte, paint func(Status) string) []byte {
	var out []byte
	for {
		i := bytes.IndexByte(text, tabwriter.Escape)
		if i < 0 {
			break
		}
		j := bytes.IndexByte(text[i+1:], tabwriter.Escape)
		if j < 0 {
			break
		}
		out = append(out, text[:i]...)
		out = append(out, paint(Status(text[i+1:i+1+j]))...)
		text = text[i+1+j+1:]
	}
	return append(out, text...)
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func (r *Report) writeMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### %s\n\n", r.heading())
	fmt.Fprintf(&b, "**%s**\n\n", r.footer())
	if r.grouped() {
		for _, a := range r.Accounts {
			fmt.Fprintf(&b, "#### account %s: %s\n\n", mdEscape(a.Label()), summaryLine(a.Summary))
			if a.Error != "" {
				fmt.Fprintf(&b, "- **error**: %s\n\n", mdEscape(a.Error))
			}
			if ts := r.targetsOf(a.Name); len(ts) > 0 {
				writeMarkdownTable(&b, ts)
				b.WriteString("\n")
			}
		}
	} else {
		writeMarkdownTable(&b, r.Targets)
	}
	if len(r.Quota) > 0 {
		fmt.Fprintln(&b)
		account, sep := "", ""
		if r.grouped() {
			account, sep = "| Account ", "|---"
		}
		fmt.Fprintln(&b, account+"| Region | Held | Limit | After | Headroom | |")
		fmt.Fprintln(&b, sep+"|---|---|---|---|---|---|")
		for _, q := range r.Quota {
			if r.grouped() {
				fmt.Fprintf(&b, "| %s ", mdEscape(q.accountLabel()))
			}
			fmt.Fprintf(&b, "| %s | %d | %d (%s) | %d | %d | %s |\n", q.Region, q.Held, q.Limit, q.Source, q.After, q.Headroom, mdEscape(q.note()))
		}
	}
	errs := r.runErrors()
	if len(r.Warnings) > 0 || len(errs) > 0 {
		if !r.grouped() {
			fmt.Fprintln(&b)
		}
		for _, wn := range r.Warnings {
			fmt.Fprintf(&b, "- warning: %s\n", mdEscape(wn))
		}
		for _, e := range errs {
			fmt.Fprintf(&b, "- **error**: %s\n", mdEscape(e))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeMarkdownTable writes the Markdown table of targets ts, if any.
func writeMarkdownTable(b *bytes.Buffer, ts []Target) {
	if len(ts) == 0 {
		return
	}
	fmt.Fprintln(b, "| Source | Region | Status | Copy | Message |")
	fmt.Fprintln(b, "|---|---|---|---|---|")
	for _, t := range ts {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", source(t), t.Region, t.Status,
			mdEscape(dash(t.CopyAFI)), mdEscape(note(t)))
	}
}

// WriteFile renders the report into path atomically: a temporary file in the
// same directory, renamed over path once complete (package atomicfile).
func (r *Report) WriteFile(path string, f Format) error {
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return r.Write(w, f) }); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
