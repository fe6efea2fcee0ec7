package ec2sim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
)

const authEast = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"

// TestCalls drives the handler with raw HTTP requests, as ggcr's registry
// tests do.
func TestCalls(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, auth, body string
		status                         int
		want                           []string // substrings of the body
	}{
		{"unsigned", "POST", "/", "", "Action=DescribeFpgaImages&Version=2016-11-15", 401,
			[]string{"<Code>MissingAuthenticationToken</Code>", "<RequestID>"}},
		{"unknown action", "POST", "/", authEast, "Action=RunInstances&Version=2016-11-15", 400,
			[]string{"<Response><Errors><Error><Code>InvalidAction</Code><Message>The action RunInstances is not valid for this web service.</Message></Error></Errors><RequestID>"}},
		{"no action", "POST", "/", authEast, "Version=2016-11-15", 400, []string{"<Code>MissingAction</Code>"}},
		{"success envelope", "POST", "/", authEast, "Action=DescribeFpgaImages&Version=2016-11-15", 200,
			[]string{`<?xml version="1.0" encoding="UTF-8"?>`, `<DescribeFpgaImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>`, "<fpgaImageSet></fpgaImageSet></DescribeFpgaImagesResponse>"}},
		{"query string GET", "GET", "/?Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1", authEast, "", 200,
			[]string{"<regionInfo><item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint>"}},
		{"missing parameter", "POST", "/", authEast, "Action=CopyFpgaImage&Version=2016-11-15&SourceRegion=us-east-1", 400,
			[]string{"<Code>MissingParameter</Code>"}},
		{"sts unknown action", "POST", "/", strings.Replace(authEast, "/ec2/", "/sts/", 1), "Action=GetSessionToken&Version=2011-06-15", 400,
			[]string{"<ErrorResponse", "<Type>Sender</Type><Code>InvalidAction</Code>", "<RequestId>"}},
		{"sts assume role without parameters", "POST", "/", strings.Replace(authEast, "/ec2/", "/sts/", 1), "Action=AssumeRole&Version=2011-06-15", 400,
			[]string{"<Type>Sender</Type><Code>ValidationError</Code><Message>2 validation errors detected: Value null at &#39;roleArn&#39; failed to satisfy constraint: Member must not be null; Value null at &#39;roleSessionName&#39;"}},
		{"stats", "GET", "/_sim/stats", "", "", 200, []string{`"calls": [`, `"retries": [`, `"total": 0`}},
		{"unknown control path", "GET", "/_sim/nothing", "", "", 404, nil},
		{"real clock cannot advance", "POST", "/_sim/clock/advance?by=1h", "", "", 409, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ec2sim.New(ec2sim.Options{})
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d; body %s", w.Code, tc.status, w.Body)
			}
			for _, want := range tc.want {
				if !strings.Contains(w.Body.String(), want) {
					t.Errorf("body lacks %q:\n%s", want, w.Body)
				}
			}
			if tc.status >= 400 && !strings.HasPrefix(tc.path, "/_sim/") && w.Header().Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId header")
			}
		})
	}
}

func TestStatsJSONAndClockControl(t *testing.T) {
	s := ec2sim.New(ec2sim.Options{Clock: ec2sim.NewOffsetClock(), CopyTime: time.Hour})
	srv := httptest.NewServer(s)
	defer srv.Close()
	post := func(body, attempt string) {
		r, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", authEast)
		r.Header.Set("amz-sdk-request", attempt)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	post("Action=DescribeFpgaImages&Version=2016-11-15", "attempt=1; max=3")
	post("Action=DescribeFpgaImages&Version=2016-11-15", "attempt=2; max=3")
	post("Action=Nope&Version=2016-11-15", "attempt=1; max=3")

	resp, err := http.Get(srv.URL + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st ec2sim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := ec2sim.Stats{
		Calls: []ec2sim.CallCount{
			{Action: "DescribeFpgaImages", Region: "us-east-1", Outcome: "ok", Count: 2},
			{Action: "Nope", Region: "us-east-1", Outcome: "InvalidAction", Count: 1},
		},
		Retries: []ec2sim.RetryCount{{Action: "DescribeFpgaImages", Region: "us-east-1", Count: 1}},
		Total:   3,
	}
	if !slices.Equal(st.Calls, want.Calls) || !slices.Equal(st.Retries, want.Retries) || st.Total != want.Total {
		t.Errorf("stats = %+v\nwant %+v", st, want)
	}

	// A pending AFI turns available when the clock is advanced over HTTP.
	img, err := s.AddImage(ec2sim.Image{Region: "us-east-1", State: "pending", ReadyAt: s.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.Post(srv.URL+"/_sim/clock/advance?by=61m", "", nil)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("advance: %v %v", err, r.Status)
	}
	r.Body.Close()
	if got, _ := s.Image(img.ID); got.State != ec2sim.StateAvailable {
		t.Errorf("after advancing: %s", got.State)
	}
	req, _ := http.NewRequest("DELETE", srv.URL+"/_sim/stats", nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 204 {
		t.Fatalf("reset: %v", err)
	}
	if s.Stats().Total != 0 {
		t.Error("DELETE /_sim/stats did not reset")
	}
}

func TestAddImage(t *testing.T) {
	clock := ec2sim.NewManualClock(t0)
	s := ec2sim.New(ec2sim.Options{Clock: clock})
	for _, tc := range []struct {
		name string
		img  ec2sim.Image
		err  string
	}{
		{"non-FPGA region", ec2sim.Image{Region: "us-east-2"}, "not an FPGA region"},
		{"malformed ID", ec2sim.Image{Region: "us-east-1", ID: "afi-1"}, "malformed AFI ID"},
		{"malformed AGFI", ec2sim.Image{Region: "us-east-1", AGFI: "agfi-x"}, "malformed AGFI"},
		{"bad account", ec2sim.Image{Region: "us-east-1", Account: "123"}, "malformed account"},
		{"bad state", ec2sim.Image{Region: "us-east-1", State: "ready"}, "unknown state"},
		{"bad load permission", ec2sim.Image{Region: "us-east-1", LoadPermissions: []string{"x"}}, "load permission"},
		{"ok", ec2sim.Image{Region: "us-east-1", ID: "afi-0123456789abcdef0"}, ""},
		{"duplicate", ec2sim.Image{Region: "us-west-2", ID: "afi-0123456789abcdef0"}, "already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.AddImage(tc.img)
			if tc.err == "" {
				if err != nil || got.State != "available" || got.Account != acctA || !got.CreateTime.Equal(t0) || got.AGFI == "" {
					t.Errorf("AddImage = %+v, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
	// "pending" with ReadyAt turns available then; without, stays pending.
	p1, _ := s.AddImage(ec2sim.Image{Region: "us-east-1", State: "pending", ReadyAt: t0.Add(time.Minute)})
	p2, _ := s.AddImage(ec2sim.Image{Region: "us-east-1", State: "pending"})
	clock.Advance(time.Hour)
	if a, _ := s.Image(p1.ID); a.State != "available" || !a.UpdateTime.Equal(t0.Add(time.Minute)) {
		t.Errorf("p1 = %+v", a)
	}
	if b, _ := s.Image(p2.ID); b.State != "pending" {
		t.Errorf("p2 = %+v", b)
	}
}

func TestSaveLoad(t *testing.T) {
	clock := ec2sim.NewManualClock(t0)
	s := ec2sim.New(ec2sim.Options{Clock: clock, Seed: 1})
	e := &env{t: t, sim: s, clock: clock}
	e.srv = httptest.NewServer(s)
	defer e.srv.Close()
	src := e.add(ec2sim.Image{Region: "us-east-1", Tags: map[string]string{"a": "b"}, LoadPermissions: []string{acctB}})
	e.add(ec2sim.Image{Region: "us-east-1", State: "pending", ReadyAt: t0.Add(time.Hour)})
	if _, err := e.ec2("us-west-2").CopyFpgaImage(ctx, copyInput(src.ID, "us-east-1", "tok")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := s.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("SaveFile left %d files", len(entries))
	}

	s2 := ec2sim.New(ec2sim.Options{Clock: clock, Seed: 1})
	if ok, err := s2.LoadFile(path); !ok || err != nil {
		t.Fatalf("LoadFile: %v %v", ok, err)
	}
	if a, b := s.Images("", ""), s2.Images("", ""); !equalImages(a, b) {
		t.Errorf("after reload:\n%+v\n%+v", a, b)
	}
	// The client token survives: the retry answers the same ID.
	e2 := &env{t: t, sim: s2, clock: clock}
	e2.srv = httptest.NewServer(s2)
	defer e2.srv.Close()
	again, err := e2.ec2("us-west-2").CopyFpgaImage(ctx, copyInput(src.ID, "us-east-1", "tok"))
	if err != nil || len(s2.Images("", "us-west-2")) != 1 {
		t.Fatalf("idempotent retry after reload: %v, %d copies", err, len(s2.Images("", "us-west-2")))
	}
	_ = again
	// Same seed after reload must not reuse IDs.
	src2 := e2.add(ec2sim.Image{Region: "us-east-1"})
	for _, img := range s.Images("", "") {
		if img.ID == src2.ID {
			t.Errorf("ID %s reused after reload", img.ID)
		}
	}
	if ok, err := s2.LoadFile(filepath.Join(t.TempDir(), "missing.json")); ok || err != nil {
		t.Errorf("missing state file: %v %v", ok, err)
	}
	if err := s2.Load(bytes.NewReader([]byte(`{"version":2,"images":[]}`))); err == nil {
		t.Error("version 2 accepted")
	}
}

func equalImages(a, b []ec2sim.Image) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "anything", true},
		{"cl_*", "cl_hello", true},
		{"cl_*", "xcl_hello", false},
		{"*hello", "cl_hello", true},
		{"c?_h*o", "cl_hello", true},
		{"?", "", false},
		{"a*b*c", "a-b-b-c", true},
		{"a*b*c", "a-b-b-d", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{"2017-04-17*", "2017-04-17T10:00:00.000Z", true},
		{"Abc", "abc", false},
	} {
		if got := ec2sim.Wildcard(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestLoadMovesClockForward(t *testing.T) {
	c1 := ec2sim.NewManualClock(t0.Add(time.Hour))
	s1 := ec2sim.New(ec2sim.Options{Clock: c1})
	var buf bytes.Buffer
	if err := s1.Save(&buf); err != nil {
		t.Fatal(err)
	}
	c2 := ec2sim.NewManualClock(t0)
	if err := ec2sim.New(ec2sim.Options{Clock: c2}).Load(&buf); err != nil {
		t.Fatal(err)
	}
	if !c2.Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("clock after Load = %v, want %v", c2.Now(), t0.Add(time.Hour))
	}
}
