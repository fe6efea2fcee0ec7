package ec2sim

import (
	"sort"
	"strconv"
	"strings"
)

// Error helpers shared by the FPGA actions.

func missing(param string) *apiError {
	return errf(400, "MissingParameter", "The request must contain the parameter %s", param)
}

func malformedAFI(id string) *apiError {
	return errf(400, "InvalidFpgaImageID.Malformed", "Image ID '%s' is invalid", id)
}

// notFoundAFI is EC2's not-found error; after a delete the message ends with
// a period, as in AWS's delete_fpga_image example.
func (s *Sim) notFoundAFI(id string) *apiError {
	if s.deleted[id] {
		return errf(400, "InvalidFpgaImageID.NotFound", "Image ID '%s' not found.", id)
	}
	return errf(400, "InvalidFpgaImageID.NotFound", "Image ID '%s' not found", id)
}

// lookup returns the AFI id in the call's Region if the caller can see it
// (owned, shared or public); ownerOnly narrows that to AFIs the caller owns.
func (s *Sim) lookup(c *call, param string, ownerOnly bool) (*afi, *apiError) {
	id := c.str(param)
	if id == "" {
		return nil, missing(param)
	}
	if !ValidAFIID(id) {
		return nil, malformedAFI(id)
	}
	a, ok := s.images[id]
	if !ok || a.Region != c.region || !a.visibleTo(c.account) || (ownerOnly && a.Account != c.account) {
		return nil, s.notFoundAFI(id)
	}
	return a, nil
}

func (s *Sim) createFpgaImage(c *call) (any, *apiError) {
	if c.str("InputStorageLocation.Bucket") == "" {
		return nil, missing("InputStorageLocation.Bucket")
	}
	if c.str("InputStorageLocation.Key") == "" {
		return nil, missing("InputStorageLocation.Key")
	}
	tags := map[string]string{}
	for _, i := range c.indexes("TagSpecification") {
		p := "TagSpecification." + strconv.Itoa(i)
		if rt := c.str(p + ".ResourceType"); rt != "fpga-image" {
			return nil, errf(400, "InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", rt)
		}
		for _, j := range c.indexes(p + ".Tag") {
			q := p + ".Tag." + strconv.Itoa(j)
			tags[c.form.Get(q+".Key")] = c.form.Get(q + ".Value")
		}
	}
	if err := checkTags(tags, 0); err != nil {
		return nil, err
	}
	params := paramString(c, "InputStorageLocation.Bucket", "InputStorageLocation.Key", "LogsStorageLocation.Bucket", "LogsStorageLocation.Key", "Name", "Description")
	if a, err := s.idempotent(c, params); a != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return createFpgaImageResult{a.ID, a.AGFI}, nil
	}
	if err := s.checkAFILimit(c); err != nil {
		return nil, err
	}
	a := &afi{Image: Image{
		ID:           s.newID("afi-"),
		AGFI:         s.newID("agfi-"),
		Account:      c.account,
		Region:       c.region,
		Name:         c.form.Get("Name"),
		Description:  c.form.Get("Description"),
		State:        StateAvailable,
		ShellVersion: DefaultShellVersion,
		CreateTime:   c.now,
		UpdateTime:   c.now,
		ReadyAt:      c.now.Add(s.jittered(s.buildTime)),
	}}
	if len(tags) > 0 {
		a.Tags = tags
	}
	if code := buildFailure(c.form.Get("InputStorageLocation.Key")); code != "" {
		a.State, a.Message = StateFailed, BuildFailureMessage(code)
	}
	s.store(c, a, params)
	return createFpgaImageResult{a.ID, a.AGFI}, nil
}

// paramString joins the named form values; two requests with the same client
// token must have the same paramString.
func paramString(c *call, keys ...string) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strconv.Quote(c.form.Get(k)) + ";")
	}
	// TagSpecification.* take part too.
	var extra []string
	for k, v := range c.form {
		if strings.HasPrefix(k, "TagSpecification.") {
			extra = append(extra, k+"="+strconv.Quote(strings.Join(v, ",")))
		}
	}
	sort.Strings(extra)
	b.WriteString(strings.Join(extra, ";"))
	return b.String()
}

// idempotent looks the call's ClientToken up (per account and Region). It
// returns the AFI an identical earlier request created, or
// IdempotentParameterMismatch, or (nil, nil) when the token is new or absent.
func (s *Sim) idempotent(c *call, params string) (*afi, *apiError) {
	tok := c.form.Get("ClientToken")
	if tok == "" {
		return nil, nil
	}
	if len(tok) > 64 {
		return nil, errf(400, "InvalidParameterValue", "Value (%s) for parameter clientToken is invalid. Length exceeds maximum of 64.", tok)
	}
	e, ok := s.tokens[tokenKey{c.account, c.region, c.action + "\x00" + tok}]
	if !ok {
		return nil, nil
	}
	if e.Params != params {
		return nil, errf(400, "IdempotentParameterMismatch", msgIdempotent)
	}
	if a, ok := s.images[e.ID]; ok {
		return a, nil
	}
	// The AFI was deleted since; answer with its ID all the same.
	return &afi{Image: Image{ID: e.ID}}, nil
}

func (s *Sim) store(c *call, a *afi, params string) {
	s.images[a.ID] = a
	if tok := c.form.Get("ClientToken"); tok != "" {
		a.Token = tok
		s.tokens[tokenKey{c.account, c.region, c.action + "\x00" + tok}] = tokenEntry{ID: a.ID, Params: params}
	}
}

func (s *Sim) copyFpgaImage(c *call) (any, *apiError) {
	srcID, srcRegion := c.str("SourceFpgaImageId"), c.str("SourceRegion")
	if srcID == "" {
		return nil, missing("SourceFpgaImageId")
	}
	if srcRegion == "" {
		return nil, missing("SourceRegion")
	}
	if !ValidAFIID(srcID) {
		return nil, malformedAFI(srcID)
	}
	if !knownRegion(srcRegion) {
		return nil, errf(400, "InvalidParameterValue", "Invalid source region: %s", srcRegion)
	}
	params := paramString(c, "SourceFpgaImageId", "SourceRegion", "Name", "Description")
	if a, err := s.idempotent(c, params); a != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return copyFpgaImageResult{a.ID}, nil
	}
	if err := s.checkAFILimit(c); err != nil {
		return nil, err
	}
	src := s.images[srcID]
	if src != nil && src.Region != srcRegion {
		src = nil
	}
	var srcState string
	if src != nil {
		srcState, _, _ = src.stateAt(c.now)
	}
	if srcRegion == c.region {
		// Same-Region problems are reported at once.
		switch {
		case src == nil || src.Account != c.account:
			return nil, s.notFoundAFI(srcID)
		case srcState != StateAvailable:
			return nil, errf(400, "IncorrectState", "Source image is not in a suitable state to allow copying.")
		}
	}
	a := &afi{Image: Image{
		ID:           s.newID("afi-"),
		Account:      c.account,
		Region:       c.region,
		Name:         c.form.Get("Name"),
		Description:  c.form.Get("Description"),
		CreateTime:   c.now,
		UpdateTime:   c.now,
		ReadyAt:      c.now.Add(s.jittered(s.copyTime)),
		SourceID:     srcID,
		SourceRegion: srcRegion,
	}}
	switch {
	case src == nil || src.Account != c.account:
		a.State, a.Message = StateFailed, MsgNotFound
	case srcState != StateAvailable:
		a.State, a.Message = StateFailed, MsgInvalidState
	default:
		a.State = StateAvailable
		a.AGFI = src.AGFI
		a.ShellVersion = src.ShellVersion
		a.ProductCodes = append([]string(nil), src.ProductCodes...)
		if !c.has("Name") {
			a.Name = src.Name
		}
		if !c.has("Description") {
			a.Description = src.Description
		}
		if srcRegion != c.region && s.failRate > 0 && s.rng.Float64() < s.failRate {
			a.State, a.Message = StateFailed, TransientCopyFailure
		}
	}
	s.store(c, a, params)
	return copyFpgaImageResult{a.ID}, nil
}

// heldAFIs counts the AFIs an account owns in a Region, in any state.
func (s *Sim) heldAFIs(account, region string) int {
	n := 0
	for _, a := range s.images {
		if a.Account == account && a.Region == region {
			n++
		}
	}
	return n
}

// checkAFILimit refuses a new AFI past Options.AFILimit.
func (s *Sim) checkAFILimit(c *call) *apiError {
	if s.afiLimit <= 0 {
		return nil
	}
	if n := s.heldAFIs(c.account, c.region); n >= s.afiLimit {
		return errf(400, CodeAFILimit, "You have reached the limit of %d Amazon FPGA images (AFIs) in %s (account %s holds %d). Delete unused AFIs or request a quota increase.", s.afiLimit, c.region, c.account, n)
	}
	return nil
}

func (s *Sim) deleteFpgaImage(c *call) (any, *apiError) {
	a, err := s.lookup(c, "FpgaImageId", true)
	if err != nil {
		return nil, err
	}
	if a.Public {
		return nil, errf(400, "OperationNotPermitted", "Operation not permitted for public AFI")
	}
	if len(a.LoadPermissions) > 0 {
		return nil, errf(400, "OperationNotPermitted", "Operation not permitted for shared AFI")
	}
	delete(s.images, a.ID)
	s.deleted[a.ID] = true
	return returnResult{true}, nil
}

// checkTags applies EC2's tag rules: keys 1–127 characters, not starting with
// aws:, values up to 256, at most 50 tags per resource.
func checkTags(tags map[string]string, existing int) *apiError {
	for k, v := range tags {
		switch {
		case k == "":
			return errf(400, "InvalidParameterValue", "Tag key cannot be empty.")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return errf(400, "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
		case len([]rune(k)) > 127 || len([]rune(v)) > 256:
			return errf(400, "InvalidParameterValue", "Tag key or value exceeds the maximum length.")
		}
	}
	if existing+len(tags) > 50 {
		return errf(400, "TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
	}
	return nil
}

// tagTargets resolves ResourceId.N to AFIs the caller owns in the Region.
func (s *Sim) tagTargets(c *call) ([]*afi, *apiError) {
	ids := c.list("ResourceId")
	if len(ids) == 0 {
		return nil, missing("ResourceId")
	}
	var out []*afi
	for _, id := range ids {
		if !strings.HasPrefix(id, "afi-") {
			return nil, errf(400, "InvalidID", "The ID '%s' is not valid", id)
		}
		if !ValidAFIID(id) {
			return nil, malformedAFI(id)
		}
		a, ok := s.images[id]
		if !ok || a.Region != c.region || a.Account != c.account {
			return nil, s.notFoundAFI(id)
		}
		out = append(out, a)
	}
	return out, nil
}

func (s *Sim) createTags(c *call) (any, *apiError) {
	targets, err := s.tagTargets(c)
	if err != nil {
		return nil, err
	}
	idx := c.indexes("Tag")
	if len(idx) == 0 {
		return nil, missing("Tag")
	}
	tags := map[string]string{}
	for _, i := range idx {
		p := "Tag." + strconv.Itoa(i)
		tags[c.form.Get(p+".Key")] = c.form.Get(p + ".Value")
	}
	for _, a := range targets {
		n := 0
		for k := range a.Tags {
			if _, over := tags[k]; !over {
				n++
			}
		}
		if err := checkTags(tags, n); err != nil {
			return nil, err
		}
	}
	for _, a := range targets {
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		for k, v := range tags {
			a.Tags[k] = v
		}
	}
	return returnResult{true}, nil
}

func (s *Sim) deleteTags(c *call) (any, *apiError) {
	targets, err := s.tagTargets(c)
	if err != nil {
		return nil, err
	}
	idx := c.indexes("Tag")
	for _, a := range targets {
		if len(idx) == 0 {
			a.Tags = nil
			continue
		}
		for _, i := range idx {
			p := "Tag." + strconv.Itoa(i)
			k := c.form.Get(p + ".Key")
			if c.has(p+".Value") && a.Tags[k] != c.form.Get(p+".Value") {
				continue // a value was given and does not match
			}
			delete(a.Tags, k)
		}
		if len(a.Tags) == 0 {
			a.Tags = nil
		}
	}
	return returnResult{true}, nil
}

// attrName validates the Attribute parameter.
func attrName(c *call, allowed ...string) (string, *apiError) {
	attr := c.str("Attribute")
	for _, a := range allowed {
		if attr == a {
			return attr, nil
		}
	}
	if attr == "" {
		return "", missing("Attribute")
	}
	return "", errf(400, "InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
}

func attributeOf(a *afi, attr string) attributeResult {
	r := attributeResult{Attribute: xmlFpgaImageAttribute{FpgaImageID: a.ID}}
	switch attr {
	case "name":
		n := a.Name
		r.Attribute.Name = &n
	case "description":
		d := a.Description
		r.Attribute.Description = &d
	case "loadPermission":
		lp := &xmlLoadPermissions{}
		for _, u := range a.LoadPermissions {
			lp.Items = append(lp.Items, xmlLoadPermission{UserID: u})
		}
		if a.Public {
			lp.Items = append(lp.Items, xmlLoadPermission{Group: "all"})
		}
		r.Attribute.LoadPermissions = lp
	case "productCodes":
		r.Attribute.ProductCodes = productCodes(a.ProductCodes, true)
	}
	return r
}

func productCodes(codes []string, empty bool) *xmlProductCode {
	if len(codes) == 0 && !empty {
		return nil
	}
	pc := &xmlProductCode{}
	for _, p := range codes {
		pc.Items = append(pc.Items, xmlProductCodeItem{ProductCode: p, Type: "marketplace"})
	}
	return pc
}

func (s *Sim) describeFpgaImageAttribute(c *call) (any, *apiError) {
	a, err := s.lookup(c, "FpgaImageId", true)
	if err != nil {
		return nil, err
	}
	attr, err := attrName(c, "name", "description", "loadPermission", "productCodes")
	if err != nil {
		return nil, err
	}
	return attributeOf(a, attr), nil
}

// modifyParams returns the attributes whose parameters a
// ModifyFpgaImageAttribute call carries, in a fixed order.
func modifyParams(c *call) []string {
	var out []string
	if c.has("Name") {
		out = append(out, "name")
	}
	if c.has("Description") {
		out = append(out, "description")
	}
	if len(c.indexes("ProductCode")) > 0 {
		out = append(out, "productCodes")
	}
	if c.has("OperationType") || len(c.indexes("UserId")) > 0 || len(c.indexes("UserGroup")) > 0 ||
		len(c.indexes("LoadPermission.Add")) > 0 || len(c.indexes("LoadPermission.Remove")) > 0 {
		out = append(out, "loadPermission")
	}
	return out
}

// modifyFpgaImageAttribute changes one attribute per call, like the
// operation's documentation ("Modifies the specified attribute") and its
// single-attribute answer: Attribute names it, or the parameters do when
// Attribute is absent. Parameters of any other attribute are refused
// (InvalidParameterCombination) rather than ignored, and name/description
// need their value (MissingParameter), as productCodes and loadPermission do.
func (s *Sim) modifyFpgaImageAttribute(c *call) (any, *apiError) {
	a, err := s.lookup(c, "FpgaImageId", true)
	if err != nil {
		return nil, err
	}
	given := modifyParams(c)
	attr := c.str("Attribute")
	switch {
	case attr == "" && len(given) == 0:
		return nil, missing("Attribute")
	case attr == "" && len(given) > 1:
		return nil, errf(400, "InvalidParameterCombination", "Only one attribute can be modified at a time; the request has parameters of %s.", strings.Join(given, " and "))
	case attr == "":
		attr = given[0]
	case attr != "name" && attr != "description" && attr != "productCodes" && attr != "loadPermission":
		return nil, errf(400, "InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	for _, g := range given {
		if g != attr {
			return nil, errf(400, "InvalidParameterCombination", "Parameters of attribute %s are not valid when modifying attribute %s; only one attribute can be modified at a time.", g, attr)
		}
	}
	switch attr {
	case "name":
		if c.str("Name") == "" {
			return nil, missing("Name")
		}
		a.Name = c.form.Get("Name")
	case "description":
		if c.str("Description") == "" {
			return nil, missing("Description")
		}
		a.Description = c.form.Get("Description")
	case "productCodes":
		codes := c.list("ProductCode")
		if len(codes) == 0 {
			return nil, missing("ProductCode")
		}
		for _, p := range codes {
			if !contains(a.ProductCodes, p) {
				a.ProductCodes = append(a.ProductCodes, p)
			}
		}
	case "loadPermission":
		if err := s.modifyLoadPermission(c, a); err != nil {
			return nil, err
		}
	}
	a.UpdateTime = c.now
	return attributeOf(a, attr), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Sim) modifyLoadPermission(c *call, a *afi) *apiError {
	type change struct {
		add         bool
		user, group string
	}
	var changes []change
	op := c.str("OperationType")
	for _, u := range c.list("UserId") {
		changes = append(changes, change{add: op != "remove", user: u})
	}
	for _, g := range c.list("UserGroup") {
		changes = append(changes, change{add: op != "remove", group: g})
	}
	for _, dir := range []string{"Add", "Remove"} {
		p := "LoadPermission." + dir
		for _, i := range c.indexes(p) {
			q := p + "." + strconv.Itoa(i)
			changes = append(changes, change{add: dir == "Add", user: c.form.Get(q + ".UserId"), group: c.form.Get(q + ".Group")})
		}
	}
	if len(changes) == 0 {
		return missing("LoadPermission")
	}
	if (len(c.list("UserId")) > 0 || len(c.list("UserGroup")) > 0) && op != "add" && op != "remove" {
		return errf(400, "InvalidParameterValue", "Value (%s) for parameter operationType is invalid. Must be add or remove.", op)
	}
	for _, ch := range changes {
		if ch.group != "" && ch.group != "all" {
			return errf(400, "InvalidParameterValue", "Value (%s) for parameter group is invalid. Only 'all' is supported.", ch.group)
		}
		if ch.user != "" && !accountRe.MatchString(ch.user) {
			return errf(400, "InvalidUserID.Malformed", "User ID '%s' is invalid", ch.user)
		}
	}
	if st, _, _ := a.stateAt(c.now); st != StateAvailable {
		return errf(400, "IncorrectState", "Load permissions can only be changed when the AFI is available; %s is %s.", a.ID, st)
	}
	for _, ch := range changes {
		switch {
		case ch.group == "all":
			a.Public = ch.add
		case ch.add && !contains(a.LoadPermissions, ch.user):
			a.LoadPermissions = append(a.LoadPermissions, ch.user)
		case !ch.add:
			kept := a.LoadPermissions[:0]
			for _, u := range a.LoadPermissions {
				if u != ch.user {
					kept = append(kept, u)
				}
			}
			a.LoadPermissions = kept
		}
	}
	if len(a.LoadPermissions) == 0 {
		a.LoadPermissions = nil
	}
	return nil
}

func (s *Sim) resetFpgaImageAttribute(c *call) (any, *apiError) {
	a, err := s.lookup(c, "FpgaImageId", true)
	if err != nil {
		return nil, err
	}
	if attr := c.str("Attribute"); attr != "" && attr != "loadPermission" {
		return nil, errf(400, "InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Only loadPermission can be reset.", attr)
	}
	if st, _, _ := a.stateAt(c.now); st != StateAvailable {
		return nil, errf(400, "IncorrectState", "Load permissions can only be changed when the AFI is available; %s is %s.", a.ID, st)
	}
	a.LoadPermissions, a.Public, a.UpdateTime = nil, false, c.now
	return returnResult{true}, nil
}

// describeFpgaImages implements DescribeFpgaImages: visibility, Owner.N,
// FpgaImageId.N, Filter.N and MaxResults/NextToken pagination in ID order.
func (s *Sim) describeFpgaImages(c *call) (any, *apiError) {
	owners := c.list("Owner")
	for _, o := range owners {
		if o != "self" && o != "amazon" && o != "aws-marketplace" && !accountRe.MatchString(o) {
			return nil, errf(400, "InvalidUserID.Malformed", "User ID '%s' is invalid", o)
		}
	}
	filters, ferr := parseFilters(c, fpgaFilterNames)
	if ferr != nil {
		return nil, ferr
	}
	max, merr := c.maxResults()
	if merr != nil {
		return nil, merr
	}
	after, terr := c.pageStart()
	if terr != nil {
		return nil, terr
	}
	if after != "" && !ValidAFIID(after) {
		return nil, invalidToken()
	}
	var candidates []*afi
	ids := c.list("FpgaImageId")
	if len(ids) > 0 {
		seen := map[string]bool{}
		for _, id := range ids {
			if !ValidAFIID(id) {
				return nil, malformedAFI(id)
			}
			a, ok := s.images[id]
			if !ok || a.Region != c.region || !a.visibleTo(c.account) {
				return nil, s.notFoundAFI(id)
			}
			if !seen[id] {
				seen[id] = true
				candidates = append(candidates, a)
			}
		}
	} else {
		for _, a := range s.images {
			if a.Region == c.region && a.visibleTo(c.account) {
				candidates = append(candidates, a)
			}
		}
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].ID < candidates[j].ID })
	res := describeFpgaImagesResult{}
	res.FpgaImageSet.Items = []xmlFpgaImage{}
	for _, a := range candidates {
		if after != "" && a.ID <= after {
			continue
		}
		if len(owners) > 0 && !ownerMatches(a, owners, c.account) {
			continue
		}
		v := a.Image // shallow: read-only here, under s.mu
		v.State, v.Message, v.UpdateTime = a.stateAt(c.now)
		if !filters.match(func(name string) []string { return fpgaFilterValues(&v, name) }) {
			continue
		}
		if max > 0 && len(res.FpgaImageSet.Items) == max {
			res.NextToken = c.pageToken(res.FpgaImageSet.Items[max-1].FpgaImageID)
			break
		}
		res.FpgaImageSet.Items = append(res.FpgaImageSet.Items, toXML(&v, c.account))
	}
	return res, nil
}

func ownerMatches(a *afi, owners []string, caller string) bool {
	for _, o := range owners {
		switch o {
		case "self":
			if a.Account == caller {
				return true
			}
		case "amazon", "aws-marketplace":
			if a.OwnerAlias == o {
				return true
			}
		default:
			if a.Account == o {
				return true
			}
		}
	}
	return false
}

// toXML renders an AFI as DescribeFpgaImages shows it in its state
// (docs/simulator.md, "What a describe shows"). Following AWS's examples, a
// pending or failed AFI has no global ID, PCI IDs or shell version; a
// pending copy shows only its IDs, name, description, state code, owner and
// times; a failed copy only its IDs, state (with message), owner and times.
// Tags, which AWS's examples do not exercise, are shown to the owner in
// every state.
func toXML(v *Image, caller string) xmlFpgaImage {
	x := xmlFpgaImage{
		FpgaImageID:  v.ID,
		Name:         v.Name,
		Description:  v.Description,
		State:        xmlState{Code: v.State, Message: v.Message},
		CreateTime:   fmtTime(v.CreateTime),
		UpdateTime:   fmtTime(v.UpdateTime),
		OwnerID:      v.Account,
		OwnerAlias:   v.OwnerAlias,
		ProductCodes: productCodes(v.ProductCodes, false),
	}
	pub := v.Public
	x.Public = &pub
	copying := v.SourceID != ""
	switch {
	case v.State == StateAvailable || v.State == StateUnavailable:
		x.FpgaImageGlobalID = v.AGFI
		x.ShellVersion = v.ShellVersion
		x.PciID = &xmlPciID{DefaultDeviceID, DefaultVendorID, DefaultSubsystemID, DefaultSubsystemVendorID}
	case v.State == StatePending && copying:
		x.Public, x.ProductCodes = nil, nil
	case v.State == StateFailed && copying:
		x.Name, x.Description, x.Public, x.ProductCodes = "", "", nil, nil
	}
	if len(v.Tags) > 0 && v.Account == caller {
		keys := make([]string, 0, len(v.Tags))
		for k := range v.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		x.Tags = &xmlTags{}
		for _, k := range keys {
			x.Tags.Items = append(x.Tags.Items, xmlTag{k, v.Tags[k]})
		}
	}
	return x
}

var fpgaFilterNames = map[string]bool{
	"create-time": true, "fpga-image-id": true, "fpga-image-global-id": true, "name": true,
	"owner-id": true, "product-code": true, "shell-version": true, "state": true,
	"tag-key": true, "tag-value": true, "update-time": true,
}

// fpgaFilterValues returns the values a filter name tests on an AFI view.
func fpgaFilterValues(v *Image, name string) []string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	shown := v.State == StateAvailable || v.State == StateUnavailable
	switch name {
	case "create-time":
		return []string{fmtTime(v.CreateTime)}
	case "update-time":
		return []string{fmtTime(v.UpdateTime)}
	case "fpga-image-id":
		return []string{v.ID}
	case "fpga-image-global-id":
		if !shown {
			return nil
		}
		return one(v.AGFI)
	case "shell-version":
		if !shown {
			return nil
		}
		return one(v.ShellVersion)
	case "name":
		return one(v.Name)
	case "owner-id":
		return []string{v.Account}
	case "product-code":
		if v.SourceID != "" && (v.State == StatePending || v.State == StateFailed) {
			return nil // not shown (toXML)
		}
		return v.ProductCodes
	case "state":
		return []string{v.State}
	case "tag-key":
		var out []string
		for k := range v.Tags {
			out = append(out, k)
		}
		return out
	case "tag-value":
		var out []string
		for _, val := range v.Tags {
			out = append(out, val)
		}
		return out
	}
	if k, ok := strings.CutPrefix(name, "tag:"); ok {
		if val, ok := v.Tags[k]; ok {
			return []string{val}
		}
	}
	return nil
}

// stsCall answers STS: GetCallerIdentity and AssumeRole.
func (s *Sim) stsCall(c *call) (any, *apiError) {
	switch c.action {
	case "GetCallerIdentity", "AssumeRole":
	case "":
		return nil, errf(400, "MissingAction", "Missing Action")
	default:
		return nil, errf(400, "InvalidAction", "Could not find operation %s for version %s", c.action, stsVersion)
	}
	if c.action == "AssumeRole" {
		return s.assumeRole(c)
	}
	if s.deny[c.account]["GetCallerIdentity"] {
		return nil, errf(403, "AccessDenied", "User is not authorized to perform: sts:GetCallerIdentity")
	}
	if ss, ok := s.sessions[c.akid]; ok {
		return getCallerIdentityResult{Arn: ss.arn, UserID: ss.userID, Account: ss.account}, nil
	}
	return getCallerIdentityResult{
		Arn:     "arn:aws:iam::" + c.account + ":user/ec2sim",
		UserID:  c.akid,
		Account: c.account,
	}, nil
}
