package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/afisync/afisync/internal/golden"
	"github.com/afisync/afisync/report"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func sampleReport() *report.Report {
	r := &report.Report{
		Plan: "fpga-fleet", Account: "123456789012", StartedAt: t0, FinishedAt: t0.Add(2*time.Minute + 3*time.Second),
		Targets: []report.Target{
			{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", AGFI: "agfi-0123456789abcdef0", Region: "us-west-2", CopyAFI: "afi-0aaaaaaaaaaaaaaa1", Status: report.StatusCopied, Attempts: 1},
			{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", AGFI: "agfi-0123456789abcdef0", Region: "eu-west-1", CopyAFI: "afi-0bbbbbbbbbbbbbbb2", Status: report.StatusFailed, Attempts: 4,
				Message: "copy failed: <internal> error & the image\ncould not be copied"},
			{SourceAFI: "afi-0fedcba9876543210", SourceRegion: "us-east-1", Region: "eu-west-1", Status: report.StatusSkipped, Message: "source AFI not found"},
			{SourceAFI: "afi-0fedcba9876543210", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusInSync},
		},
		Warnings: []string{"selector release-* matched nothing"},
	}
	r.Finish()
	return r
}

// quick returns a config whose retries wait a millisecond, never a second.
func quick(urls ...string) Config {
	return Config{
		URLs: urls, On: OnAlways, RetryMax: 3,
		Backoff: func(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return time.Millisecond },
	}
}

// hook answers with the statuses in turn (the last one forever) and
// records every body.
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	types    []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, body)
	h.types = append(h.types, r.Header.Get("Content-Type"))
	st := h.statuses[min(len(h.bodies)-1, len(h.statuses)-1)]
	h.mu.Unlock()
	if st == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(st)
	io.WriteString(w, http.StatusText(st))
}

func TestSendRetriesThenDelivers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int
		attempts int
		ok       bool
	}{
		{"fails twice then succeeds", []int{503, 500, 200}, 3, true},
		{"429 is retried", []int{429, 204}, 2, true},
		{"400 is not retried", []int{400, 200}, 1, false},
		{"404 is not retried", []int{404}, 1, false},
		{"always fails: gives up after RetryMax", []int{502}, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hook{statuses: tc.statuses}
			srv := httptest.NewServer(h)
			defer srv.Close()
			rep := sampleReport()
			res := Send(context.Background(), quick(srv.URL+"/hook"), Event{Command: "sync", Report: rep})
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			if (res[0].Err == nil) != tc.ok || res[0].Attempts != tc.attempts || len(h.bodies) != tc.attempts {
				t.Fatalf("result %+v after %d requests; want ok=%v after %d", res[0], len(h.bodies), tc.ok, tc.attempts)
			}
			var want bytes.Buffer
			rep.Write(&want, report.FormatJSON)
			for i, b := range h.bodies {
				if !bytes.Equal(b, want.Bytes()) || h.types[i] != "application/json" {
					t.Errorf("request %d: %s body\n%s\nwant the JSON report", i, h.types[i], b)
				}
			}
			if !tc.ok && !strings.Contains(res[0].Err.Error(), "HTTP ") {
				t.Errorf("error %q does not say what the hook answered", res[0].Err)
			}
		})
	}
}

// TestSendIsBoundedInTime runs Send in a synctest bubble, with the hook
// in-process, so that its deadline and the retry wait run on the bubble's
// fake clock: a hook that keeps answering 503 with a retry wait of an hour
// must not hold Send past c.Timeout.
func TestSendIsBoundedInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hook{statuses: []int{503}}
		c := quick("http://hook.in-process/x")
		c.Client = &http.Client{Transport: handlerTransport{h}}
		c.RetryMax = 1000
		c.Timeout = 50 * time.Millisecond
		c.Backoff = func(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return time.Hour }
		start := time.Now()
		res := Send(context.Background(), c, Event{Report: sampleReport()})
		if took := time.Since(start); took > c.Timeout {
			t.Errorf("Send took %v (on the fake clock) with a %v deadline", took, c.Timeout)
		}
		if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "deadline") || len(h.bodies) != 1 {
			t.Errorf("result %+v after %d requests, want a deadline error after 1", res[0], len(h.bodies))
		}
	})
}

// handlerTransport serves each request with a handler in-process: no socket,
// so a test can run in a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context())
	sr.RequestURI = r.URL.RequestURI()
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sr)
	if r.Body != nil {
		r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func TestSendAfterInterrupt(t *testing.T) {
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := Send(ctx, quick(srv.URL), Event{Report: sampleReport()}); res[0].Err != nil {
		t.Errorf("an interrupted run was not notified: %v", res[0].Err)
	}
}

func TestSecretsNeverShown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // connection refused from now on
	slack := httptest.NewServer(&hook{statuses: []int{500}})
	defer slack.Close()
	secretURLs := []string{
		strings.Replace(dead.URL, "http://", "http://user:hunter2@", 1) + "/services/T000/B000/XXXXSECRET?token=abc123",
		slack.URL + "/services/T000/B000/XXXXSECRET",
	}
	var logs bytes.Buffer
	c := quick(secretURLs...)
	c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	res := Send(context.Background(), c, Event{Report: sampleReport()})
	var all strings.Builder
	all.WriteString(logs.String())
	for _, r := range res {
		if r.Err == nil {
			t.Fatalf("%s: delivered to a dead hook", r.Hook)
		}
		all.WriteString(r.Hook + " " + r.Err.Error() + "\n")
	}
	for _, secret := range []string{"hunter2", "XXXXSECRET", "abc123", "services", "token"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("%q shown:\n%s", secret, all.String())
		}
	}
	if !strings.Contains(all.String(), "connection refused") || !strings.Contains(logs.String(), "notification not delivered") {
		t.Errorf("the reason is missing:\n%s", all.String())
	}
	if err := CheckURL("ftp://u:p@example.com/x?token=abc123"); err == nil || strings.Contains(err.Error(), "abc123") || strings.Contains(err.Error(), "u:p") {
		t.Errorf("CheckURL error = %v", err)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/…"},
		{"https://user:pass@example.com:8443/hook?token=abc", "https://example.com:8443/…"},
		{"https://example.com", "https://example.com"},
		{"https://example.com/", "https://example.com"},
		{"http://example.com?x=1", "http://example.com/…"},
		{"not a url", "(unparsable URL)"},
		{"%zz", "(unparsable URL)"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := scrub(`Post "https://hooks.slack.com/services/T/B/X": EOF`); got != `Post "https://hooks.slack.com/…": EOF` {
		t.Errorf("scrub = %q", got)
	}
}

func TestWanted(t *testing.T) {
	inSync := &report.Report{Targets: []report.Target{{Status: report.StatusInSync}}}
	copied := &report.Report{Targets: []report.Target{{Status: report.StatusCopying}, {Status: report.StatusInSync}}}
	wouldCopy := &report.Report{DryRun: true, Targets: []report.Target{{Status: report.StatusWouldCopy}}}
	adopted := &report.Report{Targets: []report.Target{{Status: report.StatusAdopted}, {Status: report.StatusInSync}}}
	wouldAdopt := &report.Report{DryRun: true, Targets: []report.Target{{Status: report.StatusWouldAdopt}}}
	failed := sampleReport()
	interrupted := &report.Report{Interrupted: true}
	noReport := Event{Err: errors.New("no credentials")}
	for _, tc := range []struct {
		name                    string
		e                       Event
		failure, change, always bool
	}{
		{"in sync", Event{Report: inSync}, false, false, true},
		{"copied", Event{Report: copied}, false, true, true},
		{"dry run with changes", Event{Report: wouldCopy}, false, true, true},
		{"adopted only", Event{Report: adopted}, false, true, true},
		{"dry run that would adopt", Event{Report: wouldAdopt}, false, true, true},
		{"failed", Event{Report: failed}, true, true, true},
		{"interrupted", Event{Report: interrupted}, true, true, true},
		{"no report", noReport, true, true, true},
	} {
		for on, want := range map[On]bool{OnFailure: tc.failure, OnChange: tc.change, OnAlways: tc.always} {
			if got := Wanted(on, tc.e); got != want {
				t.Errorf("%s: Wanted(%s) = %v, want %v", tc.name, on, got, want)
			}
		}
	}
}

func TestSendSkipsUnwanted(t *testing.T) {
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := quick(srv.URL)
	c.On = OnFailure
	if res := Send(context.Background(), c, Event{Report: &report.Report{}}); res != nil || len(h.bodies) != 0 {
		t.Errorf("a successful run notified on failure: %+v", res)
	}
}

func TestParse(t *testing.T) {
	if _, err := ParseFormat("teams"); err == nil {
		t.Error("ParseFormat(teams) accepted")
	}
	if f, err := ParseFormat("slack"); err != nil || f != FormatSlack {
		t.Errorf("ParseFormat(slack) = %v, %v", f, err)
	}
	if _, err := ParseOn("sometimes"); err == nil {
		t.Error("ParseOn(sometimes) accepted")
	}
	if o, err := ParseOn("change"); err != nil || o != OnChange {
		t.Errorf("ParseOn(change) = %v, %v", o, err)
	}
}

func TestSlackPayloadGolden(t *testing.T) {
	h := &hook{statuses: []int{200}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := quick(srv.URL)
	c.Format = FormatSlack
	if res := Send(context.Background(), c, Event{Command: "sync", Report: sampleReport()}); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	var msg map[string]string
	if err := json.Unmarshal(h.bodies[0], &msg); err != nil || len(msg) != 1 || msg["text"] == "" {
		t.Fatalf("Slack payload is not {\"text\": ...}: %v\n%s", err, h.bodies[0])
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, h.bodies[0], "", "  ")
	pretty.WriteByte('\n')
	golden.Check(t, filepath.Join("testdata", "slack.golden.json"), pretty.Bytes())

	noReport, err := Payload(FormatSlack, Event{Command: "sync", Plan: "fpga-fleet", Err: errors.New("get caller identity: no credentials <found>")})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "slack-error.golden.json"), append(noReport, '\n'))

	// A run that could not start still has a report, with an error.
	failed := &report.Report{Plan: "fpga-fleet", Error: "no AWS credentials found <in> the chain", StartedAt: t0, FinishedAt: t0}
	failed.Finish()
	withError, err := Payload(FormatSlack, Event{Command: "sync", Report: failed})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "slack-report-error.golden.json"), append(withError, '\n'))
}

func TestJSONPayloadWithoutReport(t *testing.T) {
	b, err := Payload(FormatJSON, Event{Command: "sync", Plan: "p", Err: errors.New("boom"), Started: t0, Finished: t0.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil || got["error"] != "boom" || got["plan"] != "p" || got["command"] != "sync" {
		t.Errorf("payload %s (%v)", b, err)
	}
}

func TestManyFailuresAreCapped(t *testing.T) {
	r := &report.Report{Plan: "big"}
	for range maxListed + 5 {
		r.Targets = append(r.Targets, report.Target{SourceAFI: "afi-1", SourceRegion: "us-east-1", Region: "eu-west-1", Status: report.StatusTimedOut, Message: strings.Repeat("x", 1000)})
	}
	r.Finish()
	text := SlackText(Event{Report: r})
	if n := strings.Count(text, "\n• "); n != maxListed {
		t.Errorf("%d targets listed, want %d", n, maxListed)
	}
	if !strings.Contains(text, "…and 5 more") || strings.Contains(text, strings.Repeat("x", maxMessage+1)) {
		t.Errorf("not capped:\n%.500s", text)
	}
}

var _ retryablehttp.Backoff = quick().Backoff

// The secrets of the echo tests' hook URL.
const (
	echoPath  = "/hooks/T0A1B2C3/XyZsecretPath99"
	echoToken = "s3cr3tT0ken"
	echoPass  = "hunter22"
)

// echoing answers 404 with a body built from the request, the way
// misconfigured or strict webhook servers do.
func echoing(body func(r *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, body(r))
	})
}

// echoServers are hooks that echo their secrets in different forms.
var echoServers = []struct {
	name string
	h    http.Handler
}{
	{"Express: path and query", echoing(func(r *http.Request) string {
		return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot POST " + r.URL.RequestURI() + "</pre>\n</body>\n</html>\n"
	})},
	{"the full URL", echoing(func(r *http.Request) string {
		u, p, _ := r.BasicAuth()
		return "no route for http://" + u + ":" + p + "@" + r.Host + r.URL.RequestURI()
	})},
	{"the full URL in JSON", echoing(func(r *http.Request) string {
		b, _ := json.Marshal(map[string]string{"error": "not found", "url": "http://" + r.Host + r.URL.RequestURI()})
		return string(b)
	})},
	{"just the token", echoing(func(r *http.Request) string {
		return `{"error":"unknown token ` + r.URL.Query().Get("token") + `"}`
	})},
	{"just the password", echoing(func(r *http.Request) string {
		_, p, _ := r.BasicAuth()
		return "bad password " + p
	})},
	{"path segments, escaped", echoing(func(r *http.Request) string {
		segs := strings.Split(r.URL.EscapedPath(), "/")
		return "hook " + segs[len(segs)-1] + " in team " + segs[2] + " not found; query " + url.QueryEscape(r.URL.RawQuery)
	})},
	// The 200-character cut falls inside the path, after the team ID.
	{"a long page cut inside the path", echoing(func(r *http.Request) string {
		return strings.Repeat("x", 170) + " " + r.URL.RequestURI()
	})},
}

// TestEchoedSecretsScrubbed sends to hooks that echo their path, query,
// token or password in their answers: none of it may reach the result or
// the log.
func TestEchoedSecretsScrubbed(t *testing.T) {
	for _, tc := range echoServers {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			hookURL := strings.Replace(srv.URL, "http://", "http://afisync:"+echoPass+"@", 1) + echoPath + "?token=" + echoToken + "&channel=ops"
			var logs bytes.Buffer
			c := quick(hookURL)
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			res := Send(context.Background(), c, Event{Report: sampleReport()})
			if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "HTTP 404") {
				t.Fatalf("result %+v, want an HTTP 404 error", res[0])
			}
			all := logs.String() + res[0].Hook + " " + res[0].Err.Error()
			for _, secret := range []string{echoToken, echoPass, "XyZsecretPath99", "T0A1B2C3", "token=", "afisync:"} {
				if strings.Contains(all, secret) {
					t.Errorf("%q shown:\n%s", secret, all)
				}
			}
			if !strings.Contains(logs.String(), "notification not delivered") {
				t.Errorf("no log line:\n%s", logs.String())
			}
		})
	}
}

func TestScrubber(t *testing.T) {
	sc := NewScrubber([]string{
		"https://user1:pa55word@hooks.example.com/services/T000/B000/XXXXSECRET?token=abc123&x=1#frag",
		"https://discord.com/api/webhooks/123456789012/AbCdEf_gh-ij",
		"::not a url",
	})
	for _, tc := range []struct{ in, want string }{
		{"Cannot POST /services/T000/B000/XXXXSECRET?token=abc123&x=1", "Cannot POST /…"},
		{"Cannot POST /services/T000/B000/XXXXSECRET", "Cannot POST /…"},
		{"token abc123 unknown", "token … unknown"},
		{"team T000, hook XXXXSECRET", "team …, hook …"},
		{"user user1 password pa55word", "user … password …"},
		{"see https://hooks.example.com/services/T000/B000/XXXXSECRET?token=abc123", "see https://hooks.example.com/…"},
		{`{"url":"https:\/\/hooks.example.com\/services\/T000\/B000\/XXXXSECRET"}`, `{"url":"https:\/\/hooks.example.com\/…\/…\/…\/…"}`},
		{"webhook 123456789012 token AbCdEf_gh-ij", "webhook … token …"},
		{"the api webhooks answered 404", "the api … answered 404"},
		{"x=1 stays: too short to tell from text", "x=1 stays: too short to tell from text"},
		{"::not a url", "…"},
	} {
		if got := sc.Scrub(tc.in); got != tc.want {
			t.Errorf("Scrub(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
	if got := (Scrubber{}).Scrub(`Post "https://h.example.com/a/b": EOF`); got != `Post "https://h.example.com/…": EOF` {
		t.Errorf("zero Scrubber: %q", got)
	}
}

// A run over several accounts names each account in the Slack message, with
// its summary, and each unsatisfied target's account.
func TestSlackTextAccounts(t *testing.T) {
	r := &report.Report{Plan: "fpga-fleet", StartedAt: t0, FinishedAt: t0.Add(time.Minute),
		Targets: []report.Target{
			{SourceAFI: "afi-0123456789abcdef0", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusSkipped, Message: "account ci: AccessDenied", AccountName: "ci"},
			{SourceAFI: "afi-0123456789abcdef1", SourceRegion: "us-east-1", Region: "us-west-2", Status: report.StatusCopied, Account: "222222222222", AccountName: "prod"},
		},
		Accounts: []report.Account{{Name: "ci", Error: "AccessDenied"}, {Name: "prod", ID: "222222222222"}},
		Error:    "account ci: AccessDenied",
	}
	r.Finish()
	got := SlackText(Event{Command: "sync", Report: r})
	for _, want := range []string{`*afisync sync of plan "fpga-fleet"* over 2 accounts: 1 skipped, 1 copied`,
		"\n• account ci: 1 skipped", "\n• account prod (222222222222): 1 copied", "\n• ci: `us-east-1/afi-0123456789abcdef0` → us-west-2: *skipped*"} {
		if !strings.Contains(got, want) {
			t.Errorf("Slack text lacks %q:\n%s", want, got)
		}
	}
}
