// Package notify tells people how a run went: it POSTs the report to
// webhooks — the JSON report as it is, or a Slack-compatible message with
// the summary and every failed target with AWS's own reason — retrying on
// 5xx, 429 and connection errors with backoff
// (github.com/hashicorp/go-retryablehttp), all within one overall deadline.
//
// Webhook URLs carry secrets (Slack's path, a token in the query, user
// information), so nothing here ever prints one: logs and errors name a
// hook only by Redact(url), "scheme://host/…", and whatever a hook answers
// or an error quotes goes through a Scrubber first, since servers echo the
// path, the query or the token on their own.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/afisync/afisync/internal/human"
	"github.com/afisync/afisync/report"
)

// Defaults of the notifier; the CLI shows them in its flag help.
const (
	// DefaultTimeout bounds all deliveries of one run together.
	DefaultTimeout = 30 * time.Second
	// DefaultAttemptTimeout bounds one HTTP attempt.
	DefaultAttemptTimeout = 10 * time.Second
	// DefaultRetryMax is how many times a failed delivery is retried.
	DefaultRetryMax = 5
	// DefaultRetryWaitMin and DefaultRetryWaitMax bound the exponential
	// backoff between attempts (a Retry-After header is honoured).
	DefaultRetryWaitMin = time.Second
	DefaultRetryWaitMax = 8 * time.Second
	// DefaultFormat and DefaultOn are the --notify-format and --notify-on
	// defaults.
	DefaultFormat = FormatJSON
	DefaultOn     = OnFailure
	// maxListed is how many failed targets a Slack message lists.
	maxListed = 20
	// maxMessage is how many characters of one AWS message a Slack message
	// quotes.
	maxMessage = 300
	// maxSnippet is how many characters of a failed hook's answer an
	// error quotes.
	maxSnippet = 200
	// userAgent names afisync to the webhook.
	userAgent = "afisync-notify"
)

// Format is how a notification is encoded.
type Format string

// The notification formats.
const (
	FormatJSON  Format = "json"  // the JSON report, as -o json prints it
	FormatSlack Format = "slack" // {"text": ...}: summary and failed targets
)

// On says which runs notify.
type On string

// The --notify-on choices.
const (
	OnFailure On = "failure" // a target failed, timed out or was skipped, the run was interrupted or could not start
	OnChange  On = "change"  // as failure, or something was copied, updated, adopted or pruned (or, in a dry run, would be)
	OnAlways  On = "always"  // every run
)

// ParseFormat checks a --notify-format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatJSON, FormatSlack:
		return f, nil
	}
	return "", fmt.Errorf("--notify-format %q: use json or slack", s)
}

// ParseOn checks a --notify-on value.
func ParseOn(s string) (On, error) {
	switch o := On(s); o {
	case OnFailure, OnChange, OnAlways:
		return o, nil
	}
	return "", fmt.Errorf("--notify-on %q: use failure, change or always", s)
}

// Config is what the notifier needs. Zero durations and counts take the
// package defaults.
type Config struct {
	URLs   []string
	Format Format
	On     On
	// Timeout bounds every delivery of one Send together.
	Timeout        time.Duration
	AttemptTimeout time.Duration
	RetryMax       int
	RetryWaitMin   time.Duration
	RetryWaitMax   time.Duration
	// Backoff replaces retryablehttp.DefaultBackoff (tests).
	Backoff retryablehttp.Backoff
	// Client is the HTTP client of each attempt (nil: a pooled client).
	Client *http.Client
	// Logger receives one line per delivery; nil: discard.
	Logger *slog.Logger
}

func (c *Config) fill() {
	if c.Format == "" {
		c.Format = DefaultFormat
	}
	if c.On == "" {
		c.On = DefaultOn
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryWaitMin <= 0 {
		c.RetryWaitMin = DefaultRetryWaitMin
	}
	if c.RetryWaitMax <= 0 {
		c.RetryWaitMax = DefaultRetryWaitMax
	}
	if c.Backoff == nil {
		c.Backoff = retryablehttp.DefaultBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// CheckURL checks that raw is an absolute http or https URL. Its error
// names the hook only by Redact(raw).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--notify %s: not an http:// or https:// URL", Redact(raw))
	}
	return nil
}

// Redact names a webhook without its secrets: "scheme://host/…" (the port
// kept; user information, path, query and fragment dropped), or
// "(unparsable URL)". Slack, Discord, Teams and most webhooks keep their
// token in the path or the query, so neither is ever shown.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		s += "/…"
	}
	return s
}

var urlPattern = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// scrub replaces every URL in s by its redacted form: a last line of
// defence for error texts from the HTTP stack, which quote URLs.
func scrub(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, Redact)
}

// Scrubber removes the secrets of a set of webhook URLs from any text,
// whatever form a remote server echoes them in: the URL itself, its user
// information, its path (Express answers an unknown route with "Cannot POST
// /hooks/…?token=…"), its query, each query value, each path segment that
// looks like a token, escaped or not. It also redacts every other URL
// (Redact). The zero value only does the latter.
type Scrubber struct {
	r *strings.Replacer
}

// minSecret is the shortest query value, user name or password a Scrubber
// replaces on its own: a shorter one would also match ordinary words. Such
// a value is still removed wherever the query or user information appears
// whole.
const minSecret = 4

// NewScrubber returns a Scrubber for the secrets of urls.
func NewScrubber(urls []string) Scrubber {
	seen := map[string]bool{}
	var secrets []string
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" && v != "/" && !seen[v] {
				seen[v] = true
				secrets = append(secrets, v)
			}
		}
	}
	for _, raw := range urls {
		add(raw)
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		add(u.String())
		if u.User != nil {
			add(u.User.String() + "@")
			if name := u.User.Username(); len(name) >= minSecret {
				add(name, url.PathEscape(name))
			}
			if pw, ok := u.User.Password(); ok && len(pw) >= minSecret {
				add(pw, url.PathEscape(pw), url.QueryEscape(pw))
			}
		}
		if u.RawQuery != "" {
			add(u.EscapedPath()+"?"+u.RawQuery, u.Path+"?"+u.RawQuery, "?"+u.RawQuery, u.RawQuery)
			if q, err := url.QueryUnescape(u.RawQuery); err == nil {
				add(q)
			}
			for _, vs := range u.Query() {
				for _, v := range vs {
					if len(v) >= minSecret {
						add(v, url.QueryEscape(v), url.PathEscape(v))
					}
				}
			}
		}
		add(u.EscapedPath(), u.Path)
		for _, seg := range strings.Split(u.Path, "/") {
			if looksSecret(seg) {
				add(seg, url.PathEscape(seg))
			}
		}
		if u.Fragment != "" {
			add("#"+u.EscapedFragment(), u.Fragment)
		}
	}
	// At one position the Replacer takes the first match in argument
	// order: the longest secret first, so that a URL goes whole rather
	// than as its path.
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, v := range secrets {
		repl := "…"
		if strings.HasPrefix(v, "/") {
			repl = "/…"
		}
		pairs = append(pairs, v, repl)
	}
	return Scrubber{r: strings.NewReplacer(pairs...)}
}

// looksSecret reports whether a path segment could be a token: 8 characters
// or more, or 4 or more with a digit or a capital letter (Slack's
// T0000/B0000/XXXX, Discord's numeric ID and token, a UUID). Words such as
// "hooks" or "api" are left alone so that scrubbed text stays readable.
func looksSecret(seg string) bool {
	if len(seg) >= 8 {
		return true
	}
	return len(seg) >= minSecret && strings.ContainsFunc(seg, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsUpper(r) })
}

// Scrub returns s with every secret of the Scrubber's URLs replaced by "…"
// and every URL redacted.
func (sc Scrubber) Scrub(s string) string {
	if sc.r != nil {
		s = sc.r.Replace(s)
	}
	return scrub(s)
}

// Event is what a notification is about: a finished run's report, or the
// error that kept a run from producing one.
type Event struct {
	// Command is "sync" or "diff".
	Command string
	// Plan is the plan's name (needed when Report is nil).
	Plan string
	// Report is the run's report; nil when Err is set.
	Report *report.Report
	// Err is why the run produced no report.
	Err error
	// Started and Finished time a run without a report.
	Started, Finished time.Time
}

// Failed reports whether the event is a failure: the run could not
// produce a report, or its report calls for exit status 1.
func (e Event) Failed() bool {
	return e.Err != nil || e.Report == nil || e.Report.Failed()
}

// Changed reports whether something was copied, updated, adopted or pruned
// (or, in a dry run, would be), or the event is a failure.
func (e Event) Changed() bool {
	return e.Failed() || e.Report.Changed()
}

// Wanted reports whether on asks for a notification of e.
func Wanted(on On, e Event) bool {
	switch on {
	case OnAlways:
		return true
	case OnChange:
		return e.Changed()
	default:
		return e.Failed()
	}
}

// Payload encodes e in format f.
func Payload(f Format, e Event) ([]byte, error) {
	if f == FormatSlack {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // Slack's own &amp; &lt; &gt; stay readable
		err := enc.Encode(slackMessage{Text: SlackText(e)})
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
	}
	if e.Report != nil {
		var b bytes.Buffer
		err := e.Report.Write(&b, report.FormatJSON)
		return b.Bytes(), err
	}
	return json.Marshal(runError{Plan: e.Plan, Command: e.Command, StartedAt: e.Started, FinishedAt: e.Finished, Error: e.Err.Error()})
}

// runError is the JSON notification of a run that produced no report.
type runError struct {
	Plan       string    `json:"plan"`
	Command    string    `json:"command"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Error      string    `json:"error"`
}

type slackMessage struct {
	Text string `json:"text"`
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// SlackText is the text of a Slack message about e: a headline with the
// summary line and duration, then each failed, timed-out or skipped target
// with its reason (AWS's own words), at most maxListed of them.
func SlackText(e Event) string {
	var b strings.Builder
	cmd := e.Command
	if cmd == "" {
		cmd = "sync"
	}
	if e.Report == nil {
		fmt.Fprintf(&b, ":x: *afisync %s of plan %s failed*: %s", cmd, quote(e.Plan), slackEscape.Replace(e.Err.Error()))
		return b.String()
	}
	r := e.Report
	icon := ":white_check_mark:"
	switch {
	case r.Failed():
		icon = ":x:"
	case r.Pending():
		icon = ":large_yellow_circle:"
	}
	fmt.Fprintf(&b, "%s *afisync %s of plan %s*", icon, cmd, quote(r.Plan))
	switch {
	case len(r.Accounts) > 1:
		fmt.Fprintf(&b, " over %d accounts", len(r.Accounts))
	case r.Account != "":
		fmt.Fprintf(&b, " in account %s", r.Account)
	}
	if r.Simulated {
		b.WriteString(" (SIMULATED)")
	}
	fmt.Fprintf(&b, ": %s", r.SummaryLine())
	if d := r.FinishedAt.Sub(r.StartedAt); d > 0 {
		fmt.Fprintf(&b, " in %s", human.Duration(d))
	}
	if r.Interrupted {
		b.WriteString("; *interrupted*")
	}
	if len(r.Accounts) > 1 {
		for _, a := range r.Accounts {
			fmt.Fprintf(&b, "\n• account %s: %s", slackEscape.Replace(a.Label()), a.SummaryLine())
		}
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "\n*Error:* %s", slackEscape.Replace(truncate(oneLine(r.Error), maxMessage)))
	}
	var bad []report.Target
	for _, t := range r.Targets {
		if t.Status.Bad() {
			bad = append(bad, t)
		}
	}
	if len(bad) > 0 {
		b.WriteString("\n*Not satisfied:*")
	}
	for i, t := range bad {
		if i == maxListed {
			fmt.Fprintf(&b, "\n…and %d more (see the report)", len(bad)-maxListed)
			break
		}
		b.WriteString("\n• ")
		if t.AccountName != "" {
			fmt.Fprintf(&b, "%s: ", slackEscape.Replace(t.AccountName))
		}
		fmt.Fprintf(&b, "`%s/%s` → %s: *%s*", t.SourceRegion, t.SourceAFI, t.Region, t.Status)
		if t.CopyAFI != "" {
			fmt.Fprintf(&b, " (`%s`)", t.CopyAFI)
		}
		if t.Message != "" {
			fmt.Fprintf(&b, ": %s", slackEscape.Replace(truncate(oneLine(t.Message), maxMessage)))
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "\n:warning: %s", slackEscape.Replace(truncate(oneLine(w), maxMessage)))
	}
	return b.String()
}

func quote(s string) string { return slackEscape.Replace(fmt.Sprintf("%q", s)) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Result is the outcome of delivering to one webhook.
type Result struct {
	// Hook is the redacted URL.
	Hook     string
	Attempts int
	// Err is nil when the hook answered 2xx; its text never holds a URL.
	Err error
}

// Send delivers e to every URL of c at once, within c.Timeout overall, and
// returns one Result per URL in order. It sends nothing, and returns nil,
// when c.On does not want e. It runs even when ctx is already cancelled
// (an interrupted run must still be told about), keeping ctx's values but
// not its cancellation; c.Timeout still bounds it.
func Send(ctx context.Context, c Config, e Event) []Result {
	c.fill()
	if len(c.URLs) == 0 || !Wanted(c.On, e) {
		return nil
	}
	body, err := Payload(c.Format, e)
	if err != nil {
		res := make([]Result, len(c.URLs))
		for i, u := range c.URLs {
			res[i] = Result{Hook: Redact(u), Err: fmt.Errorf("encode the notification: %w", err)}
		}
		return res
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.Timeout)
	defer cancel()
	// Every hook's error is scrubbed of every hook's secrets: a server
	// may echo anything it was sent.
	sc := NewScrubber(c.URLs)
	res := make([]Result, len(c.URLs))
	var wg sync.WaitGroup
	for i, u := range c.URLs {
		wg.Go(func() {
			res[i] = deliver(ctx, c, sc, u, body)
			if res[i].Err != nil {
				c.Logger.Error("notification not delivered", "hook", res[i].Hook, "attempts", res[i].Attempts, "err", res[i].Err.Error())
			} else {
				c.Logger.Info("notification delivered", "hook", res[i].Hook, "attempts", res[i].Attempts, "size", human.Bytes(int64(len(body))))
			}
		})
	}
	wg.Wait()
	return res
}

// deliver POSTs body to raw with retries. Its error is scrubbed with sc.
func deliver(ctx context.Context, c Config, sc Scrubber, raw string, body []byte) Result {
	r := Result{Hook: Redact(raw)}
	hc := c.Client
	if hc == nil {
		hc = &http.Client{Timeout: c.AttemptTimeout}
	}
	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // it would print URLs
		RetryWaitMin: c.RetryWaitMin,
		RetryWaitMax: c.RetryWaitMax,
		RetryMax:     c.RetryMax,
		CheckRetry:   retryablehttp.DefaultRetryPolicy,
		Backoff:      c.Backoff,
		RequestLogHook: func(_ retryablehttp.Logger, _ *http.Request, _ int) {
			r.Attempts++
		},
		// Keep the last response so that the error can say what the hook
		// answered.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, raw, body)
	if err != nil {
		r.Err = errors.New("cannot build the request")
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := rc.Do(req)
	if resp != nil {
		defer resp.Body.Close()
	}
	switch {
	case err != nil && resp == nil:
		r.Err = errors.New(sc.Scrub(describe(ctx, err, r.Attempts)))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// Scrub the whole body read, then cut: a secret cut in two by
		// the limit would not be recognised.
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		msg := sc.Scrub(fmt.Sprintf("HTTP %s", resp.Status))
		if s := truncate(oneLine(sc.Scrub(string(snippet))), maxSnippet); s != "" {
			msg += ": " + s
		}
		if r.Attempts > 1 {
			msg += fmt.Sprintf(" (after %d attempts)", r.Attempts)
		}
		r.Err = errors.New(msg)
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	}
	return r
}

// describe turns a transport error into a message without the URL.
func describe(ctx context.Context, err error, attempts int) string {
	var msg string
	var ue *url.Error
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		msg = "gave up: the notification deadline passed"
	case errors.As(err, &ue):
		msg = ue.Err.Error()
	default:
		msg = err.Error()
	}
	return fmt.Sprintf("%s (after %d attempts)", scrub(msg), attempts)
}
