package reconcile

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/afisync/afisync/plan"
)

// BuildKey is the identity of the build a plan entry asks for: 32
// hexadecimal digits of SHA-256 over its input, logs and name. The AFI a
// build makes carries it, from its creation on, as the value of its
// plan.TagBuild tag; every later run finds the build by that tag, and the
// build's ClientToken (BuildToken) derives from it. The description is left
// out, so that editing it never builds again; so is the source region,
// since tags and tokens are regional already.
func BuildKey(b *plan.Build, name string) string {
	h := sha256.Sum256([]byte("afisync build\x00" + b.Input + "\x00" + b.Logs + "\x00" + name))
	return hex.EncodeToString(h[:16])
}

// BuildToken is the CreateFpgaImage ClientToken of the build with key
// (BuildKey): 46 ASCII characters, the same for every run and every plan,
// so that an SDK retry, a crash after the call or two runs at once get the
// same AFI back. There is one token per build, ever: afisync builds an input
// at most once (docs/copies.md).
func BuildToken(key string) string { return "afisync-build-" + key }

// BuildTags are the tags a build is created with (CreateFpgaImage's
// TagSpecification): plan.TagBuild with its key, and the claim of the plan
// that built it. The plan's own tags go on the copies, not on the source.
func BuildTags(key, planName string) map[string]string {
	return map[string]string{plan.TagBuild: key, plan.ClaimKey(planName): planName}
}
