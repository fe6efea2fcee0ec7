package human

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{350 * time.Millisecond, "350ms"},
		{3240 * time.Millisecond, "3.2s"},
		{42*time.Second + 400*time.Millisecond, "42s"},
		{2*time.Minute + 3*time.Second, "2m3s"},
		{2 * time.Minute, "2m"},
		{time.Hour + 5*time.Minute + 20*time.Second, "1h5m"},
		{2 * time.Hour, "2h"},
		{26*time.Hour + 30*time.Second, "26h1m"},
		{-90 * time.Second, "-1m30s"},
	} {
		if got := Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1536, "1.5 KiB"},
		{3 << 20, "3.0 MiB"},
		{5 << 30, "5.0 GiB"},
	} {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestClock(t *testing.T) {
	old := time.Local
	time.Local = time.UTC
	defer func() { time.Local = old }()
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	if got := Clock(at); got != "03:00:00Z" {
		t.Errorf("Clock = %q", got)
	}
	if got := Timestamp(at); got != "2026-11-25T03:00:00Z" {
		t.Errorf("Timestamp = %q", got)
	}
}
