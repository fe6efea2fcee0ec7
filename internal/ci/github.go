// Package ci makes a run readable in CI systems. In GitHub Actions it
// appends the Markdown report to the job's step summary (the file named by
// GITHUB_STEP_SUMMARY) and turns every target that keeps the plan from
// being satisfied into an error annotation (a ::error workflow command).
//
// Annotations go to stderr: stdout carries the report, which must stay
// clean for -o json, and the Actions runner reads workflow commands from
// both streams (its ScriptHandler attaches the same command-processing
// OutputManager to a step's stdout and stderr).
package ci

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/afisync/afisync/report"
)

// GitHub is what the GitHub Actions environment asks for.
type GitHub struct {
	// StepSummary is the file the Markdown report is appended to; empty:
	// none.
	StepSummary string
	// Annotate is set when running in GitHub Actions (GITHUB_ACTIONS=true).
	Annotate bool
}

// FromEnv reads the GitHub Actions environment through getenv (os.Getenv
// outside tests).
func FromEnv(getenv func(string) string) GitHub {
	return GitHub{
		StepSummary: getenv("GITHUB_STEP_SUMMARY"),
		Annotate:    getenv("GITHUB_ACTIONS") == "true",
	}
}

// Active reports whether g has anything to do.
func (g GitHub) Active() bool { return g.StepSummary != "" || g.Annotate }

// WriteSummary appends rep, as Markdown, to the step summary file.
func (g GitHub) WriteSummary(rep *report.Report) error {
	if g.StepSummary == "" {
		return nil
	}
	var b bytes.Buffer
	if err := rep.Write(&b, report.FormatMarkdown); err != nil {
		return err
	}
	return g.appendSummary(b.Bytes())
}

// WriteErrorSummary appends a short Markdown note about a run that
// produced no report.
func (g GitHub) WriteErrorSummary(command, plan string, runErr error) error {
	if g.StepSummary == "" {
		return nil
	}
	text := fmt.Sprintf("### afisync %s of plan %q failed\n\n```\n%s\n```\n", command, plan, runErr)
	return g.appendSummary([]byte(text))
}

func (g GitHub) appendSummary(text []byte) error {
	f, err := os.OpenFile(g.StepSummary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	if !bytes.HasSuffix(text, []byte("\n")) {
		text = append(text, '\n')
	}
	if _, err := f.Write(append(text, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	return f.Close()
}

// Annotations writes one ::error workflow command per failed, timed-out or
// skipped target of rep, a ::warning per report warning, and an ::error if
// the run was interrupted.
func (g GitHub) Annotations(w io.Writer, rep *report.Report) error {
	if !g.Annotate {
		return nil
	}
	var b strings.Builder
	for _, t := range rep.Targets {
		if !t.Status.Bad() {
			continue
		}
		title := fmt.Sprintf("afisync: %s/%s → %s %s", t.SourceRegion, t.SourceAFI, t.Region, t.Status)
		if t.AccountName != "" {
			title = fmt.Sprintf("afisync: account %s: %s/%s → %s %s", t.AccountName, t.SourceRegion, t.SourceAFI, t.Region, t.Status)
		}
		msg := t.Message
		if msg == "" {
			msg = string(t.Status)
		}
		if t.CopyAFI != "" {
			msg += " (copy " + t.CopyAFI + ")"
		}
		b.WriteString(Command("error", title, msg))
	}
	if rep.Interrupted {
		b.WriteString(Command("error", "afisync: interrupted", "the run was interrupted: "+rep.SummaryLine()))
	}
	for _, wn := range rep.Warnings {
		b.WriteString(Command("warning", "afisync", wn))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ErrorAnnotation writes one ::error about a run that produced no report.
func (g GitHub) ErrorAnnotation(w io.Writer, command string, runErr error) error {
	if !g.Annotate {
		return nil
	}
	_, err := io.WriteString(w, Command("error", "afisync "+command+" failed", runErr.Error()))
	return err
}

// Command formats one workflow command line, "::error title=T::message\n",
// escaping the title as a property and the message as data.
func Command(name, title, message string) string {
	if title == "" {
		return "::" + name + "::" + EscapeData(message) + "\n"
	}
	return "::" + name + " title=" + EscapeProperty(title) + "::" + EscapeData(message) + "\n"
}

// EscapeData escapes a workflow command's message: %, \r and \n.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a workflow command's property value: as
// EscapeData, plus : and , which separate properties.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
