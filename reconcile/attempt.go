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

// TransientFailure reports whether a failed copy's State.Message describes a
// failure that a new attempt may cure. The documented NOT_FOUND and
// INVALID_STATE failures are permanent; anything else is taken as transient.
func TransientFailure(message string) bool {
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
