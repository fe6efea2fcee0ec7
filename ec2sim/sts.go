package ec2sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS AssumeRole: the simulator trusts every role in every account (there
// is no IAM to ask), except that a role in an account listed in
// Options.DenyAssumeRole cannot be assumed, a role of Options.ExternalIDs
// needs its external ID, and a caller whose Options.Deny lists AssumeRole
// may assume none. Each session's access key ID ("ASIA", the role's
// account, a sequence number) names the role's account, so EC2 calls
// signed with it act as that account, even after the simulator restarts.
// Sessions are not expired: the SDK's credentials cache renews them by its
// own clock, which may not be the simulator's.

// Limits of AssumeRole's parameters, as STS states them.
const (
	minRoleDuration     = 900
	maxRoleDuration     = 43200
	defaultRoleDuration = 3600
	// chainedRoleDuration bounds a session that a role session assumes
	// (role chaining).
	chainedRoleDuration = 3600
)

var (
	stsSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	stsExternalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // and 2 to 1224 characters
	stsAccountRE     = regexp.MustCompile(`^[0-9]{12}$`)
	sessionKeyRE     = regexp.MustCompile(`^ASIA([0-9]{12})[0-9A-Z]{4}$`)
	roleNameRE       = regexp.MustCompile(`^[\w+=,.@-]+$`)       // IAM: 1 to 64 characters
	rolePathRE       = regexp.MustCompile(`^/([\x21-\x7e]+/)?$`) // IAM: "/" or "/a/b/", at most 512
)

// session is an assumed role's session, by its access key ID.
type session struct {
	account string // the role's account
	arn     string // arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION
	userID  string // the role's ID and the session's name
}

type (
	assumeRoleResult struct {
		XMLName         xml.Name `xml:"AssumeRoleResult"`
		AssumedRoleUser struct {
			Arn           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
			Expiration      string `xml:"Expiration"`
		} `xml:"Credentials"`
	}
)

// roleARN is a parsed IAM role ARN.
type roleARN struct{ partition, account, name string }

// parseRoleARN splits arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
func parseRoleARN(arn string) (roleARN, bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || f[3] != "" || !stsAccountRE.MatchString(f[4]) {
		return roleARN{}, false
	}
	switch f[1] {
	case "aws", "aws-us-gov", "aws-cn":
	default:
		return roleARN{}, false
	}
	res, ok := strings.CutPrefix(f[5], "role/")
	i := strings.LastIndexByte(res, '/')
	path, name := "/"+res[:i+1], res[i+1:]
	if i < 0 {
		path = "/"
	}
	if !ok || name == "" || len(name) > 64 || !roleNameRE.MatchString(name) || len(path) > 512 || !rolePathRE.MatchString(path) {
		return roleARN{}, false
	}
	return roleARN{f[1], f[4], name}, true
}

// callerARN is the ARN STS names the caller by in its messages.
func (s *Sim) callerARN(c *call) string {
	if ss, ok := s.sessions[c.akid]; ok {
		return ss.arn
	}
	return "arn:aws:iam::" + c.account + ":user/ec2sim"
}

// assumeRole answers STS AssumeRole.
func (s *Sim) assumeRole(c *call) (any, *apiError) {
	arn, name := c.form.Get("RoleArn"), c.form.Get("RoleSessionName")
	var invalid []string
	switch {
	case !c.form.Has("RoleArn"):
		invalid = append(invalid, "Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case len(arn) < 20:
		invalid = append(invalid, fmt.Sprintf("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", arn))
	}
	switch {
	case !c.form.Has("RoleSessionName"):
		invalid = append(invalid, "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case !stsSessionNameRE.MatchString(name):
		invalid = append(invalid, fmt.Sprintf("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length from 2 to 64", name))
	}
	duration := defaultRoleDuration
	if d := c.form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < minRoleDuration || n > maxRoleDuration {
			invalid = append(invalid, fmt.Sprintf("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", d, minRoleDuration, maxRoleDuration))
		}
		duration = n
	}
	ext, hasExt := c.form.Get("ExternalId"), c.form.Has("ExternalId")
	if hasExt && (len(ext) < 2 || len(ext) > 1224 || !stsExternalIDRE.MatchString(ext)) {
		invalid = append(invalid, fmt.Sprintf("Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,./@:-]* and have length from 2 to 1224", ext))
	}
	if len(invalid) > 0 {
		return nil, errf(400, "ValidationError", "%d validation error%s detected: %s", len(invalid), plural(len(invalid)), strings.Join(invalid, "; "))
	}
	if !strings.HasPrefix(arn, "arn:") {
		return nil, errf(400, "ValidationError", "%s is invalid", arn)
	}
	if _, chained := s.sessionAccount(c.akid); chained && duration > chainedRoleDuration {
		return nil, errf(400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	role, ok := parseRoleARN(arn)
	denied := !ok || s.deny[c.account]["AssumeRole"] || s.denyRoles[role.account]
	if want, needs := s.externalIDs[arn]; needs && (!hasExt || ext != want) {
		denied = true
	}
	if denied {
		// AWS says the same for a role that does not exist, a trust policy
		// that does not name the caller, and a wrong or missing external ID.
		return nil, errf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.callerARN(c), arn)
	}

	s.sessionSeq++
	seq := s.sessionSeq
	n := strings.ToUpper(strconv.FormatUint(seq%(36*36*36*36), 36))
	key := "ASIA" + role.account + strings.Repeat("0", 4-len(n)) + n
	sum := sha256.Sum256([]byte(key + "\x00" + arn + "\x00" + name))
	roleSum := sha256.Sum256([]byte(arn))
	roleID := "AROA" + strings.ToUpper(hex.EncodeToString(roleSum[:9]))[:17]
	ss := session{
		account: role.account,
		arn:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", role.partition, role.account, role.name, name),
		userID:  roleID + ":" + name,
	}
	s.sessions[key] = ss
	var out assumeRoleResult
	out.AssumedRoleUser.Arn, out.AssumedRoleUser.AssumedRoleID = ss.arn, ss.userID
	out.Credentials.AccessKeyID = key
	out.Credentials.SecretAccessKey = base64.RawStdEncoding.EncodeToString(sum[:30])
	out.Credentials.SessionToken = "IQoJb3JpZ2luX2VjEO" + base64.StdEncoding.EncodeToString(append(sum[:], []byte(ss.arn)...))
	out.Credentials.Expiration = c.now.Add(time.Duration(duration) * time.Second).UTC().Format(time.RFC3339)
	return out, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// sessionAccount returns the account of an assumed role's access key ID.
func (s *Sim) sessionAccount(akid string) (string, bool) {
	if ss, ok := s.sessions[akid]; ok {
		return ss.account, true
	}
	if m := sessionKeyRE.FindStringSubmatch(akid); m != nil {
		return m[1], true
	}
	return "", false
}
