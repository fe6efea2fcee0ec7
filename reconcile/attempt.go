package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// permanentPrefixes are the State.Message prefixes AWS documents for copies
// that a new attempt will not cure.
var permanentPrefixes = []string{"NOT_FOUND:", "INVALID_STATE:"}

// NextAfterFailure is afisync's one rule for what follows a copy that ended
// failed, for Diff (copies that failed before this run) and for the executor
// (copies that fail while it waits). attempt is the failed copy's attempt
// number (1 for a target's first copy), retries how many new attempts a
// target may have, copyID and message the copy and its State.Message.
//
// A failure that a new attempt may cure is retried, with attempt+1, while
// attempt <= retries: at most retries+1 copies of a target fail. reason says
// why, for the report.
func NextAfterFailure(attempt, retries int, copyID, message string) (retry bool, reason string) {
	reason = "copy " + copyID + " failed"
	if message != "" {
		reason += ": " + message
	}
	switch {
	case !transientFailure(message):
		return false, reason
	case attempt > retries:
		attempts := "attempts"
		if attempt == 1 {
			attempts = "attempt"
		}
		return false, fmt.Sprintf("gave up after %d %s; last %s", attempt, attempts, reason)
	}
	return true, reason
}

// transientFailure reports whether a failed copy's State.Message describes a
// failure that a new attempt may cure. The documented NOT_FOUND and
// INVALID_STATE failures are permanent; anything else is taken as transient.
func transientFailure(message string) bool {
	for _, p := range permanentPrefixes {
		if strings.HasPrefix(message, p) {
			return false
		}
	}
	return true
}

// ClientToken is the deterministic CopyFpgaImage idempotency token for one
// attempt at copying a source into a region: at most 64 ASCII characters, the
// same for every run, so that an SDK retry, a crash between the copy and its
// tagging, or two runs at once all get the same destination AFI back.
func ClientToken(sourceRegion, sourceAFI, region string, attempt int) string {
	h := sha256.Sum256([]byte(sourceRegion + "\x00" + sourceAFI + "\x00" + region))
	return fmt.Sprintf("afisync-%s-%d", hex.EncodeToString(h[:16]), attempt)
}
