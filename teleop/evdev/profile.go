package evdev

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/teleop"
)

//go:embed profiles.json
var builtinJSON []byte

// Profile describes one family of devices as data: how to recognise it,
// what its axes and buttons are called, how axes normalise, and the default
// mapping onto a task's actions. Profiles never hard-code ranges a device
// reports: Range is only a fallback for raw event files, which carry no
// absinfo.
type Profile struct {
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Match       []Match             `json:"match,omitempty"`
	Deadzone    float64             `json:"deadzone,omitempty"`
	RelHoldMS   float64             `json:"rel_hold_ms,omitempty"`
	Rule        string              `json:"rule,omitempty"`
	Axes        map[string]AxisSpec `json:"axes,omitempty"`
	KeyAxes     map[string]KeyAxis  `json:"key_axes,omitempty"`
	Buttons     map[string]string   `json:"buttons,omitempty"`
	Mapping     Mapping             `json:"mapping"`
}

// Match is one way to recognise a device; every field given must hold.
// Vendor and Product are hex ("045e"); Name is a case-insensitive substring
// of the device name; Has lists codes the device must declare.
type Match struct {
	Vendor  string   `json:"vendor,omitempty"`
	Product string   `json:"product,omitempty"`
	Name    string   `json:"name,omitempty"`
	Has     []string `json:"has,omitempty"`
}

// AxisSpec names and shapes one axis, keyed by its code name ("ABS_X").
type AxisSpec struct {
	Name string `json:"name,omitempty"`
	// Kind is "centred" (default) or "trigger".
	Kind string `json:"kind,omitempty"`
	// Deadzone overrides the profile's deadzone for this axis.
	Deadzone *float64 `json:"deadzone,omitempty"`
	// FullScale is a relative axis's magnitude that maps to ±1.
	FullScale float64 `json:"full_scale,omitempty"`
	// Range is [min, max] used only when the device reports no absinfo
	// (raw input_event files).
	Range *[2]int32 `json:"range,omitempty"`
}

// KeyAxis makes an axis from two keys: Plus held gives +1, Minus -1.
type KeyAxis struct {
	Plus  string `json:"plus"`
	Minus string `json:"minus"`
}

// defaultRelFullScale: a SpaceMouse's typical full deflection (robosuite
// and pyspacemouse divide by 350; input-reference.md).
const defaultRelFullScale = 350

// ProfileFile is the JSON document of the built-in profiles and of a user
// mapping file: profiles to add or replace (by name) and an optional
// mapping that overrides the chosen profile's own.
type ProfileFile struct {
	Profiles []*Profile `json:"profiles,omitempty"`
	Mapping  *Mapping   `json:"mapping,omitempty"`
	// Profile names the profile to use regardless of matching.
	Profile string `json:"profile,omitempty"`
}

// Catalog is an ordered set of profiles; earlier profiles win ties.
type Catalog struct {
	Profiles []*Profile
}

var (
	builtinOnce sync.Once
	builtin     *Catalog
	builtinErr  error
)

// Builtin returns the embedded profiles. The returned catalog is shared:
// copy it (With) before changing it.
func Builtin() (*Catalog, error) {
	builtinOnce.Do(func() {
		var f ProfileFile
		if err := decodeStrict(builtinJSON, &f); err != nil {
			builtinErr = fmt.Errorf("evdev: built-in profiles: %w", err)
			return
		}
		for _, p := range f.Profiles {
			if err := p.Validate(); err != nil {
				builtinErr = fmt.Errorf("evdev: built-in profiles: %w", err)
				return
			}
		}
		builtin = &Catalog{Profiles: f.Profiles}
	})
	return builtin, builtinErr
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// LoadProfileFile reads a user mapping file (see docs/devices.md).
func LoadProfileFile(path string) (*ProfileFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evdev: mapping file: %w", err)
	}
	var f ProfileFile
	if err := decodeStrict(b, &f); err != nil {
		return nil, fmt.Errorf("evdev: mapping file %s: %w", path, err)
	}
	for _, p := range f.Profiles {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("evdev: mapping file %s: %w", path, err)
		}
	}
	if f.Mapping != nil {
		if err := f.Mapping.Validate(); err != nil {
			return nil, fmt.Errorf("evdev: mapping file %s: %w", path, err)
		}
	}
	return &f, nil
}

// With returns a catalog with ps added; a profile with an existing name
// replaces it in place, new ones go first so they win ties.
func (c *Catalog) With(ps []*Profile) *Catalog {
	out := &Catalog{}
	var fresh []*Profile
	replaced := map[string]bool{}
	for _, p := range ps {
		if c.index(p.Name) < 0 {
			fresh = append(fresh, p)
		}
	}
	out.Profiles = append(out.Profiles, fresh...)
	for _, old := range c.Profiles {
		use := old
		for _, p := range ps {
			if p.Name == old.Name && !replaced[p.Name] {
				use, replaced[p.Name] = p, true
			}
		}
		out.Profiles = append(out.Profiles, use)
	}
	return out
}

func (c *Catalog) index(name string) int {
	for i, p := range c.Profiles {
		if strings.EqualFold(p.Name, name) {
			return i
		}
	}
	return -1
}

// Names lists the profile names.
func (c *Catalog) Names() []string {
	out := make([]string, len(c.Profiles))
	for i, p := range c.Profiles {
		out[i] = p.Name
	}
	return out
}

// Lookup returns the named profile.
func (c *Catalog) Lookup(name string) (*Profile, error) {
	if i := c.index(name); i >= 0 {
		return c.Profiles[i], nil
	}
	return nil, fmt.Errorf("evdev: unknown profile %q (valid: %s)", name, strings.Join(c.Names(), ", "))
}

// Choose returns the best-matching profile for a device, or nil when none
// matches. A vendor:product match beats a vendor match, which beats a name
// match, which beats a match on capabilities alone.
func (c *Catalog) Choose(d *Description) *Profile {
	best, bestScore := (*Profile)(nil), 0
	for _, p := range c.Profiles {
		for _, m := range p.Match {
			if s := m.score(d); s > bestScore {
				best, bestScore = p, s
			}
		}
	}
	return best
}

func (m Match) score(d *Description) int {
	s := 0
	if m.Vendor != "" {
		v, err := strconv.ParseUint(m.Vendor, 16, 16)
		if err != nil || uint16(v) != d.Vendor {
			return 0
		}
		s += 4
	}
	if m.Product != "" {
		v, err := strconv.ParseUint(m.Product, 16, 16)
		if err != nil || uint16(v) != d.Product {
			return 0
		}
		s += 4
	}
	if m.Name != "" {
		if !strings.Contains(strings.ToLower(d.Name), strings.ToLower(m.Name)) {
			return 0
		}
		s += 2
	}
	for _, h := range m.Has {
		typ, code, err := ParseCode(h)
		if err != nil || !d.Has(typ, code) {
			return 0
		}
	}
	if len(m.Has) > 0 {
		s++
	}
	return s
}

// Validate checks names, codes and numbers.
func (p *Profile) Validate() error {
	if p.Name == "" {
		return fmt.Errorf("profile without a name")
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("profile %s: %s", p.Name, fmt.Sprintf(format, args...))
	}
	if !(p.Deadzone >= 0 && p.Deadzone < 1) {
		return bad("deadzone %g not in [0, 1)", p.Deadzone)
	}
	if !(p.RelHoldMS >= 0) || math.IsInf(p.RelHoldMS, 0) {
		return bad("rel_hold_ms %g must be non-negative", p.RelHoldMS)
	}
	if p.Rule != "" {
		if _, err := teleop.ParseRule(p.Rule); err != nil {
			return bad("%v", err)
		}
	}
	for _, m := range p.Match {
		for _, h := range []string{m.Vendor, m.Product} {
			if h != "" {
				if _, err := strconv.ParseUint(h, 16, 16); err != nil {
					return bad("match id %q is not a 16-bit hex number", h)
				}
			}
		}
		if m.Product != "" && m.Vendor == "" {
			return bad("match product %s without a vendor", m.Product)
		}
		for _, h := range m.Has {
			if _, _, err := ParseCode(h); err != nil {
				return bad("%v", err)
			}
		}
	}
	names := map[string]bool{}
	for code, a := range p.Axes {
		typ, _, err := ParseCode(code)
		if err != nil || (typ != EvAbs && typ != EvRel) {
			return bad("axis %q is not an ABS_ or REL_ code", code)
		}
		if a.Kind != "" && a.Kind != "centred" && a.Kind != "centered" && a.Kind != "trigger" {
			return bad("axis %s kind %q (valid: centred, trigger)", code, a.Kind)
		}
		if a.Deadzone != nil && !(*a.Deadzone >= 0 && *a.Deadzone < 1) {
			return bad("axis %s deadzone %g not in [0, 1)", code, *a.Deadzone)
		}
		if a.FullScale < 0 || math.IsInf(a.FullScale, 0) {
			return bad("axis %s full_scale %g must be positive", code, a.FullScale)
		}
		if a.Range != nil && a.Range[0] >= a.Range[1] {
			return bad("axis %s range [%d, %d] has min >= max", code, a.Range[0], a.Range[1])
		}
		if a.Name != "" {
			if names[a.Name] {
				return bad("axis name %q used twice", a.Name)
			}
			names[a.Name] = true
		}
	}
	for name, k := range p.KeyAxes {
		if names[name] {
			return bad("axis name %q used twice", name)
		}
		names[name] = true
		for _, c := range []string{k.Plus, k.Minus} {
			if typ, _, err := ParseCode(c); err != nil || typ != EvKey {
				return bad("key axis %s: %q is not a KEY_ or BTN_ code", name, c)
			}
		}
	}
	for code := range p.Buttons {
		if typ, _, err := ParseCode(code); err != nil || typ != EvKey {
			return bad("button %q is not a KEY_ or BTN_ code", code)
		}
	}
	return p.Mapping.Validate()
}

// DefaultRule returns the profile's takeover rule (ButtonRule if unset).
func (p *Profile) DefaultRule() teleop.Rule {
	r, err := teleop.ParseRule(p.Rule)
	if err != nil {
		return teleop.Rule{Kind: teleop.ButtonRule}
	}
	return r
}

func (p *Profile) relHold() time.Duration {
	if p.RelHoldMS > 0 {
		return time.Duration(p.RelHoldMS * float64(time.Millisecond))
	}
	return DefaultRelHold
}

// sortedKeys returns m's keys in order so layouts are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
