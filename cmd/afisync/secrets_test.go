package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestWebhookSecretsNeverPrinted runs sync and diff with two webhooks: one
// that answers 404 echoing what it was sent (Express's "Cannot POST
// /path?query" page, then its token, then the whole URL), and one that takes
// the notification. No secret of either URL may appear on stdout, on
// stderr (debug logs included), in the --report file or in the
// notification delivered.
func TestWebhookSecretsNeverPrinted(t *testing.T) {
	noCI(t)
	sim, endpoint := simEnv(t)
	good, _ := twoRegionPlan(t, sim)

	var mu sync.Mutex
	var delivered []string
	taker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		delivered = append(delivered, string(b))
		mu.Unlock()
	}))
	defer taker.Close()
	echoes := 0
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		echoes++
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		_, pw, _ := r.BasicAuth()
		io.WriteString(w, "<pre>Cannot POST "+r.URL.RequestURI()+"</pre> token "+r.URL.Query().Get("token")+
			" password "+pw+" url http://"+r.Host+r.URL.RequestURI())
	}))
	defer echo.Close()

	echoURL := strings.Replace(echo.URL, "http://", "http://ci:Pa55w0rdX@", 1) + "/hooks/T0A1B2C3/XyZsecretPath99?token=s3cr3tT0ken"
	takerURL := taker.URL + "/services/T9Z8Y7X6/B5W4V3U2/takerSECRETpart"
	secrets := []string{"Pa55w0rdX", "T0A1B2C3", "XyZsecretPath99", "s3cr3tT0ken", "T9Z8Y7X6", "B5W4V3U2", "takerSECRETpart", "token="}

	for _, args := range [][]string{
		{"sync", "-o", "json"},
		{"diff", "--log-level", "debug", "--log-format", "json"},
		{"sync", "--notify-format", "slack", "-o", "markdown"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			reportFile := filepath.Join(t.TempDir(), "report.out")
			mu.Lock()
			delivered, echoes = nil, 0
			mu.Unlock()
			code, out, errOut := runCLI(t, append(args, "--plan", good, "--endpoint-url", endpoint, "--report", reportFile,
				"--notify", echoURL, "--notify", takerURL, "--notify-on", "always")...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			rep, err := os.ReadFile(reportFile)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if echoes == 0 || len(delivered) != 1 || !strings.Contains(errOut, "HTTP 404") {
				t.Fatalf("%d requests to the echoing hook, %d notifications delivered; stderr:\n%s", echoes, len(delivered), errOut)
			}
			for where, text := range map[string]string{"stdout": out, "stderr": errOut, "the report file": string(rep), "the notification": delivered[0]} {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%q in %s:\n%s", s, where, text)
					}
				}
			}
		})
	}
}
