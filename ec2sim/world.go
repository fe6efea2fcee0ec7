package ec2sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// AFI states.
const (
	StatePending     = "pending"
	StateAvailable   = "available"
	StateFailed      = "failed"
	StateUnavailable = "unavailable"
)

// Failure messages of copies. The first two are quoted from AWS's
// copy_fpga_image documentation; TransientCopyFailure is invented by the
// simulator (AWS documents no transient copy error).
const (
	MsgNotFound          = "NOT_FOUND: Source image is not found or the user ID is not authorized to copy source image."
	MsgInvalidState      = "INVALID_STATE: Source image is not in a suitable state to allow copying."
	TransientCopyFailure = "INTERNAL_ERROR: An internal error occurred while copying the image. Retry the request."
)

// Defaults for the PCI IDs and shell version of simulated AFIs, taken from
// AWS's sample DescribeFpgaImages response.
const (
	DefaultShellVersion      = "0x071417d3"
	DefaultDeviceID          = "0xf000"
	DefaultVendorID          = "0x1d0f"
	DefaultSubsystemID       = "0x1d51"
	DefaultSubsystemVendorID = "0xfedd"
)

var (
	afiIDRe   = regexp.MustCompile(`^afi-[0-9a-f]{17}$`)
	agfiIDRe  = regexp.MustCompile(`^agfi-[0-9a-f]{17}$`)
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
)

// ValidAFIID reports whether id has the form afi- followed by 17 lower-case
// hex digits.
func ValidAFIID(id string) bool { return afiIDRe.MatchString(id) }

// Image is an AFI as the Go API sees it: the input of AddImage and the output
// of Images.
type Image struct {
	ID          string `json:"id,omitempty"`   // afi-…; filled in when empty
	AGFI        string `json:"agfi,omitempty"` // agfi-…; filled in when empty
	Account     string `json:"account,omitempty"`
	Region      string `json:"region"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// State is the state once ReadyAt has passed ("" means available); while
	// the clock is before ReadyAt the AFI is pending. "pending" with a zero
	// ReadyAt stays pending. Images() reports the state at the current time.
	State        string `json:"state,omitempty"`
	Message      string `json:"message,omitempty"` // State.Message when failed
	ShellVersion string `json:"shell_version,omitempty"`
	// OwnerAlias is "amazon" or "aws-marketplace" for such AFIs, else "".
	OwnerAlias      string            `json:"owner_alias,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	LoadPermissions []string          `json:"load_permissions,omitempty"` // account IDs
	Public          bool              `json:"public,omitempty"`           // load permission group "all"
	ProductCodes    []string          `json:"product_codes,omitempty"`
	CreateTime      time.Time         `json:"create_time"`
	UpdateTime      time.Time         `json:"update_time"`
	// ReadyAt is when a pending AFI turns State; zero means "now".
	ReadyAt time.Time `json:"ready_at,omitzero"`
	// SourceID and SourceRegion are set on copies.
	SourceID     string `json:"source_id,omitempty"`
	SourceRegion string `json:"source_region,omitempty"`
}

// afi is the stored form of an AFI.
type afi struct {
	Image
	Token string `json:"client_token,omitempty"`
}

// stateAt returns the AFI's state, message and update time at now.
func (a *afi) stateAt(now time.Time) (state, message string, updated time.Time) {
	if !a.ReadyAt.IsZero() && now.Before(a.ReadyAt) {
		return StatePending, "", a.UpdateTime
	}
	updated = a.UpdateTime
	if a.ReadyAt.After(updated) {
		updated = a.ReadyAt
	}
	state = a.State
	if state != StateFailed {
		return state, "", updated
	}
	return state, a.Message, updated
}

// view returns the AFI as seen at now.
func (a *afi) view(now time.Time) Image {
	img := a.Image
	img.State, img.Message, img.UpdateTime = a.stateAt(now)
	img.Tags = cloneMap(a.Tags)
	img.LoadPermissions = append([]string(nil), a.LoadPermissions...)
	img.ProductCodes = append([]string(nil), a.ProductCodes...)
	return img
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// visibleTo reports whether account may see the AFI (owner, shared, public).
func (a *afi) visibleTo(account string) bool {
	if a.Account == account || a.Public {
		return true
	}
	for _, u := range a.LoadPermissions {
		if u == account {
			return true
		}
	}
	return false
}

// newID returns prefix followed by 17 random hex digits, unique among the
// simulator's AFI IDs (and AGFIs). s.mu must be held.
func (s *Sim) newID(prefix string) string {
	for {
		// Real IDs seen in AWS's examples start with 0: afi-0ccd812687c77c5b8.
		id := fmt.Sprintf("%s0%016x", prefix, s.rng.Uint64())
		if _, used := s.images[id]; !used && !s.deleted[id] && !s.agfiUsed(id) {
			return id
		}
	}
}

func (s *Sim) agfiUsed(id string) bool {
	if len(id) < 5 || id[:5] != "agfi-" {
		return false
	}
	for _, a := range s.images {
		if a.AGFI == id {
			return true
		}
	}
	return false
}

// AddImage stores img, as if it had been created earlier, and returns it as
// stored. Empty ID and AGFI get fresh ones, an empty Account the default
// account, empty State "available", zero CreateTime the current time, zero
// UpdateTime the CreateTime, an empty ShellVersion DefaultShellVersion. The
// Region must be an FPGA Region; IDs must be well formed and unused.
func (s *Sim) AddImage(img Image) (Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changes++
	if !s.fpgaRegions[img.Region] {
		return Image{}, fmt.Errorf("ec2sim: region %q is not an FPGA region", img.Region)
	}
	if img.ID == "" {
		img.ID = s.newID("afi-")
	} else if !ValidAFIID(img.ID) {
		return Image{}, fmt.Errorf("ec2sim: malformed AFI ID %q (want afi- and 17 hex digits)", img.ID)
	} else if _, dup := s.images[img.ID]; dup {
		return Image{}, fmt.Errorf("ec2sim: AFI %s already exists", img.ID)
	}
	if img.AGFI == "" {
		img.AGFI = s.newID("agfi-")
	} else if !agfiIDRe.MatchString(img.AGFI) {
		return Image{}, fmt.Errorf("ec2sim: malformed AGFI %q (want agfi- and 17 hex digits)", img.AGFI)
	}
	if img.Account == "" {
		img.Account = s.defAccount
	}
	if !accountRe.MatchString(img.Account) {
		return Image{}, fmt.Errorf("ec2sim: malformed account ID %q (want 12 digits)", img.Account)
	}
	for _, u := range img.LoadPermissions {
		if !accountRe.MatchString(u) {
			return Image{}, fmt.Errorf("ec2sim: malformed load permission account ID %q", u)
		}
	}
	switch img.State {
	case "":
		img.State = StateAvailable
	case StatePending:
		if !img.ReadyAt.IsZero() {
			img.State = StateAvailable
		}
	case StateAvailable, StateFailed, StateUnavailable:
	default:
		return Image{}, fmt.Errorf("ec2sim: unknown state %q (want pending, available, failed or unavailable)", img.State)
	}
	now := s.clock.Now()
	if img.CreateTime.IsZero() {
		img.CreateTime = now
	}
	if img.UpdateTime.IsZero() {
		img.UpdateTime = img.CreateTime
	}
	if img.ShellVersion == "" {
		img.ShellVersion = DefaultShellVersion
	}
	img.Tags = cloneMap(img.Tags)
	img.LoadPermissions = append([]string(nil), img.LoadPermissions...)
	img.ProductCodes = append([]string(nil), img.ProductCodes...)
	s.images[img.ID] = &afi{Image: img}
	return s.images[img.ID].view(now), nil
}

// Images returns the AFIs owned by account in region as they are now, sorted
// by ID. An empty account or region matches any.
func (s *Sim) Images(account, region string) []Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var out []Image
	for _, a := range s.images {
		if (account == "" || a.Account == account) && (region == "" || a.Region == region) {
			out = append(out, a.view(now))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Image returns the AFI with the given ID as it is now.
func (s *Sim) Image(id string) (Image, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.images[id]
	if !ok {
		return Image{}, false
	}
	return a.view(s.clock.Now()), true
}

// snapshotVersion is the version of the Save format.
const snapshotVersion = 1

type tokenKey struct{ account, region, token string }

type tokenEntry struct {
	ID     string `json:"id"`
	Params string `json:"params"`
}

type snapshot struct {
	Version int          `json:"version"`
	SavedAt time.Time    `json:"saved_at"`
	Images  []*afi       `json:"images"`
	Deleted []string     `json:"deleted,omitempty"`
	Tokens  []savedToken `json:"client_tokens,omitempty"`
}

type savedToken struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Token   string `json:"token"`
	tokenEntry
}

// Save writes the simulator's world (AFIs with their raw state and ReadyAt,
// deleted IDs, client tokens) as JSON. Counters, buckets and faults are not
// saved.
func (s *Sim) Save(w io.Writer) error {
	s.mu.Lock()
	snap := snapshot{Version: snapshotVersion, SavedAt: s.clock.Now().UTC(), Images: []*afi{}}
	for _, a := range s.images {
		c := *a
		snap.Images = append(snap.Images, &c)
	}
	for id := range s.deleted {
		snap.Deleted = append(snap.Deleted, id)
	}
	for k, v := range s.tokens {
		snap.Tokens = append(snap.Tokens, savedToken{k.account, k.region, k.token, v})
	}
	s.mu.Unlock()
	sort.Slice(snap.Images, func(i, j int) bool { return snap.Images[i].ID < snap.Images[j].ID })
	sort.Strings(snap.Deleted)
	sort.Slice(snap.Tokens, func(i, j int) bool {
		a, b := snap.Tokens[i], snap.Tokens[j]
		return a.Account+a.Region+a.Token < b.Account+b.Region+b.Token
	})
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(snap)
}

// Load replaces the simulator's world with one written by Save. If the
// snapshot was saved at a later simulated time than the clock now reads (the
// clock had been advanced) and the clock can be advanced (OffsetClock,
// ManualClock), it is moved forward to that time, so that simulated time
// never runs backwards across a restart.
func (s *Sim) Load(r io.Reader) error {
	var snap snapshot
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		return fmt.Errorf("ec2sim: reading state: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("ec2sim: state version %d not supported (want %d)", snap.Version, snapshotVersion)
	}
	images := map[string]*afi{}
	for _, a := range snap.Images {
		if a == nil || !ValidAFIID(a.ID) {
			return errors.New("ec2sim: state holds an AFI with a malformed ID")
		}
		images[a.ID] = a
	}
	if adv, ok := s.clock.(advancer); ok {
		if d := snap.SavedAt.Sub(s.clock.Now()); d > 0 {
			adv.Advance(d)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images = images
	s.deleted = map[string]bool{}
	for _, id := range snap.Deleted {
		s.deleted[id] = true
	}
	s.tokens = map[tokenKey]tokenEntry{}
	for _, t := range snap.Tokens {
		s.tokens[tokenKey{t.Account, t.Region, t.Token}] = t.tokenEntry
	}
	return nil
}

// SaveFile writes the world to path atomically: to a temporary file in the
// same directory, synced, then renamed over path.
func (s *Sim) SaveFile(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = s.Save(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ec2sim: saving state to %s: %w", path, err)
	}
	return nil
}

// LoadFile reads a world written by SaveFile. A missing file is not an
// error: the world stays as it is and LoadFile reports false.
func (s *Sim) LoadFile(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := s.Load(f); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}
