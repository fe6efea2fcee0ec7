package simenv

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/plan"
)

// hangBound is how long the test lets Close run before calling it hung. It
// is a hang detector, not a timing assertion: a Close that waits for a
// connection fails on the connections' state and on its error, not on time.
const hangBound = 20 * time.Second

// TestCloseDoesNotWaitForConnections leaves the two kinds of connection a
// finished run leaves behind, one idle after a request (keep-alive) and one
// that never sent anything (the SDK dials ahead; the server counts such a
// connection as new, not idle, for 5 s), and checks that Close ends both
// and returns without an error: http.Server.Shutdown would wait for the
// second until its deadline.
func TestCloseDoesNotWaitForConnections(t *testing.T) {
	p, err := plan.Parse("p.yaml", []byte("version: 1\nname: p\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: afi-0123456789abcdef0\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Start(p)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(e.Endpoint, "http://")

	// A keep-alive connection, idle after one request.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if _, err := io.WriteString(idle, "GET /_sim/stats HTTP/1.1\r\nHost: sim\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	if n, err := idle.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		t.Fatalf("GET /_sim/stats: %q, %v", buf[:n], err)
	}
	// A connection that sends nothing. Wait until the server has accepted
	// it: a request on a third connection is served after the accept loop
	// has taken the second.
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(e.Endpoint + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(hangBound):
		t.Fatalf("Close still running after %s", hangBound)
	}
	for name, c := range map[string]net.Conn{"idle": idle, "silent": silent} {
		// Close has returned: the server must have closed the connection
		// already, so the read ends at once (the deadline only keeps a
		// wrong Close from hanging the test).
		c.SetReadDeadline(time.Now().Add(hangBound))
		if n, err := c.Read(buf); !errors.Is(err, io.EOF) {
			t.Errorf("%s connection after Close: read %d bytes, %v; want EOF", name, n, err)
		}
	}
}
