package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultAFILimit is the AFIs an account may own per region when neither
// the plan, a flag nor Service Quotas says otherwise: the default of the
// Service Quota "Amazon FPGA images (AFIs)" (L-8FBBDF0C), 100, which the
// aws-fpga FAQ also gives ("typically 100 AFIs per region per AWS account").
const DefaultAFILimit = 100

// MaxAFILimit bounds settings.quota and --afi-limit.
const MaxAFILimit = 1_000_000

// Quota is settings.quota: how many AFIs the account may hold in a region
// (in any state but deleted). Regions override AFIs per region.
type Quota struct {
	AFIs    int            // every region; 0: not set
	Regions map[string]int // per region; nil: none
}

// Limit returns the plan's limit for region, and whether the plan sets one.
func (q Quota) Limit(region string) (int, bool) {
	if n, ok := q.Regions[region]; ok {
		return n, true
	}
	return q.AFIs, q.AFIs > 0
}

// quotaKeys are the keys of settings.quota.
var quotaKeys = []string{"afis", "regions"}

// quota reads settings.quota: {afis: N, regions: {REGION: N, …}}.
func (ps *parser) quota(f field, what string) (Quota, bool) {
	nerr := len(ps.errs)
	fs := ps.fields(f.val, what, quotaKeys)
	var q Quota
	if fs == nil {
		return q, false
	}
	limit := intIn(1, MaxAFILimit, " AFIs; a limit below 1 would refuse every copy")
	if af, ok := fs["afis"]; ok {
		q.AFIs, _ = limit(ps, af, what+".afis")
	}
	if rf, ok := fs["regions"]; ok {
		n := resolve(rf.val)
		if n.Kind != yaml.MappingNode {
			ps.at(n, fmt.Sprintf("%s.regions must be a mapping of region: number, got %s", what, kindName(n)), "")
		} else {
			q.Regions = map[string]int{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := resolve(n.Content[i])
				if !ps.plainKey(k, what+".regions") {
					continue
				}
				if p := checkRegion(k.Value); p != nil {
					ps.problem(k, p)
					continue
				}
				if v, ok := limit(ps, field{k, n.Content[i+1]}, what+".regions."+k.Value); ok {
					q.Regions[k.Value] = v
				}
			}
		}
	}
	if len(fs) == 0 && len(ps.errs) == nerr {
		ps.at(resolve(f.val), what+" is empty", "write afis: N (and regions: {REGION: N} for exceptions), or remove the key")
	}
	return q, len(ps.errs) == nerr
}

func quotaNode(q Quota) *yaml.Node {
	m := mapping()
	if q.AFIs > 0 {
		addPair(m, "afis", intNode(q.AFIs))
	}
	if len(q.Regions) > 0 {
		rs := mapping()
		names := make([]string, 0, len(q.Regions))
		for r := range q.Regions {
			names = append(names, r)
		}
		sort.Strings(names)
		for _, r := range names {
			addPair(rs, r, intNode(q.Regions[r]))
		}
		addPair(m, "regions", rs)
	}
	return m
}

// Retain is a retention rule (retain: in defaults or on a select entry),
// like an ECR lifecycle policy: of the sources an entry's selector matches
// (and that the rule's match picks), keep the KeepLast newest and those
// created less than KeepNewerThan ago; the others expire: they are not
// copied, and this plan's copies of them are deleted (or, where other plans
// claim them too, released). Sources whose name the match does not pick
// are not touched by the rule.
type Retain struct {
	KeepLast      int           // keep the N newest; 0: not set
	KeepNewerThan time.Duration // keep those created within this long; 0: not set
	NamePrefix    string        // match.name_prefix; "": every source
}

// String renders the rule the way a plan writes it.
func (r *Retain) String() string {
	var parts []string
	if r.KeepLast > 0 {
		parts = append(parts, "keep_last: "+strconv.Itoa(r.KeepLast))
	}
	if r.KeepNewerThan > 0 {
		parts = append(parts, "keep_newer_than: "+formatAge(r.KeepNewerThan))
	}
	if r.NamePrefix != "" {
		parts = append(parts, "match: {name_prefix: "+strconv.Quote(r.NamePrefix)+"}")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// retainKeys and matchKeys are the keys of retain and of its match.
var (
	retainKeys = []string{"keep_last", "keep_newer_than", "match"}
	matchKeys  = []string{"name_prefix"}
)

// MaxRetainAge bounds keep_newer_than (ten years).
const MaxRetainAge = 10 * 365 * 24 * time.Hour

// retain reads a retention rule.
func (ps *parser) retain(f field, what string) (*Retain, bool) {
	nerr := len(ps.errs)
	fs := ps.fields(f.val, what, retainKeys)
	if fs == nil {
		return nil, false
	}
	r := &Retain{}
	if kf, ok := fs["keep_last"]; ok {
		r.KeepLast, _ = intIn(1, MaxEntries*1000, "; keep_last: 0 would delete every copy the entry lists")(ps, kf, what+".keep_last")
	}
	if af, ok := fs["keep_newer_than"]; ok {
		r.KeepNewerThan, _ = ps.age(af, what+".keep_newer_than")
	}
	if mf, ok := fs["match"]; ok {
		ms := ps.fields(mf.val, what+".match", matchKeys)
		if pf, ok := ms["name_prefix"]; ok {
			if s, ok := ps.str(pf, what+".match.name_prefix"); ok {
				if s == "" {
					ps.at(resolve(pf.val), what+".match.name_prefix is empty", "remove match to apply the rule to every source")
				}
				r.NamePrefix = s
			}
		}
	}
	_, last := fs["keep_last"]
	_, newer := fs["keep_newer_than"]
	if !last && !newer && len(ps.errs) == nerr {
		ps.at(resolve(f.val), what+" keeps nothing: it would delete every copy the entry lists",
			"write keep_last: N or keep_newer_than: 30d (or both: a source is kept if either keeps it)")
	}
	return r, len(ps.errs) == nerr
}

// age reads a duration written like "30d", "12h" or "90m".
func (ps *parser) age(f field, what string) (time.Duration, bool) {
	s, ok := ps.str(f, what)
	if !ok {
		return 0, false
	}
	d, err := parseAge(s)
	switch {
	case err != nil:
		ps.at(resolve(f.val), fmt.Sprintf("%s %s is not a duration", what, quote(s)), `write it like "30d", "12h" or "90m"`)
		return 0, false
	case d <= 0 || d > MaxRetainAge:
		ps.at(resolve(f.val), fmt.Sprintf("%s %s is out of range", what, quote(s)),
			"use a duration above 0 (0 would delete every copy the entry lists) and at most 3650d")
		return 0, false
	}
	return d, true
}

// parseAge parses a Go duration or a whole number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// formatAge writes d in days when it is whole days.
func formatAge(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return formatDuration(d)
}

func retainNode(r *Retain) *yaml.Node {
	m := mapping()
	if r == nil {
		return m
	}
	if r.KeepLast > 0 {
		addPair(m, "keep_last", intNode(r.KeepLast))
	}
	if r.KeepNewerThan > 0 {
		addPair(m, "keep_newer_than", strNode(formatAge(r.KeepNewerThan)))
	}
	if r.NamePrefix != "" {
		mm := mapping()
		addPair(mm, "name_prefix", strNode(r.NamePrefix))
		addPair(m, "match", mm)
	}
	return m
}

// inheritRetain: the entry's rule, else the defaults'. A rule applies to
// what a selector matches: on an entry with id or build, which lists its
// one AFI, it is an error (the AFIs a plan lists are never deleted); one in
// defaults leaves such entries alone.
func inheritRetain(ps *parser, x *entryDraft) {
	if x.has("retain") {
		if x.Select == nil && !x.bad["retain"] {
			ps.at(x.fields["retain"].key, fmt.Sprintf("%s lists its AFI with %s, and the AFIs a plan lists are never deleted", x.label(), sourceKind(x)),
				"a retention rule applies to what an entry's select: matches; remove retain here")
		}
		return
	}
	if x.Select != nil && x.defaults.Retain != nil {
		r := *x.defaults.Retain
		x.Retain = &r
	}
}

func sourceKind(x *entryDraft) string {
	if x.Build != nil {
		return "build:"
	}
	return "id:"
}

// HasRetention reports whether an entry of the plan has a retention rule.
func (p *Plan) HasRetention() bool {
	for _, e := range p.AFIs {
		if e.Retain != nil {
			return true
		}
	}
	return false
}
