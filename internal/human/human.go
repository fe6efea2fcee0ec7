// Package human renders durations, clock times and sizes the way a person
// reads them in afisync's text output ("2m3s", "03:00:00Z", "1.5 KiB"). It
// imports nothing of the project, so any package (report included) can use
// it.
package human

import (
	"fmt"
	"strings"
	"time"
)

// Duration renders d the way a person reads it: "350ms", "3.2s", "42s",
// "2m3s", "1h5m". Below ten seconds it keeps tenths, below an hour whole
// seconds, from an hour on whole minutes; trailing zero units are dropped.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d == 0:
		s = "0s"
	case d < time.Second:
		s = d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		s = d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		s = trimZeroUnits(d.Round(time.Second).String())
	default:
		s = trimZeroUnits(d.Round(time.Minute).String())
	}
	if neg {
		s = "-" + s
	}
	return s
}

// trimZeroUnits turns "1h5m0s" into "1h5m" and "2m0s" into "2m".
func trimZeroUnits(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Clock renders t as a local wall-clock time with its zone, "03:00:00Z" in
// UTC or "05:00:00+02:00" elsewhere: enough for times within the day of a
// run.
func Clock(t time.Time) string { return t.Local().Format("15:04:05Z07:00") }

// Timestamp renders t as local RFC 3339, "2026-11-25T03:00:00Z".
func Timestamp(t time.Time) string { return t.Local().Format(time.RFC3339) }

// Bytes renders a size with binary prefixes: "512 B", "1.5 KiB", "3.0 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
