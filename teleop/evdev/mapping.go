package evdev

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"tandem/sim"
	"tandem/teleop"
)

// Mapping binds a device's axes and buttons to a task: axes to actions (by
// index or name) with scale, inversion and deadzone, and buttons to the
// operator roles (takeover, hand-back, clutch, grip, reset, success,
// failure, help).
type Mapping struct {
	Axes []AxisBinding `json:"axes,omitempty"`
	// Buttons maps a role to one or more button names (profile names such
	// as "rb" or code names such as "BTN_TR").
	Buttons map[string]Names `json:"buttons,omitempty"`
}

// AxisBinding drives one action from one axis: action += scale * axis
// (negated when Invert). Several bindings on one action add up.
type AxisBinding struct {
	Axis   string    `json:"axis"`
	Action ActionRef `json:"action"`
	// Scale multiplies the normalised value (0 means 1).
	Scale  float64 `json:"scale,omitempty"`
	Invert bool    `json:"invert,omitempty"`
	// Deadzone replaces the profile's deadzone for this binding (never
	// below the kernel's flat).
	Deadzone *float64 `json:"deadzone,omitempty"`
}

// ActionRef names an action by index (JSON number) or name (JSON string).
type ActionRef struct {
	Index int
	Name  string
}

// MarshalJSON writes the index or the name.
func (a ActionRef) MarshalJSON() ([]byte, error) {
	if a.Name != "" {
		return json.Marshal(a.Name)
	}
	return json.Marshal(a.Index)
}

// UnmarshalJSON reads a non-negative integer or a name.
func (a *ActionRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			return fmt.Errorf("empty action name")
		}
		*a = ActionRef{Name: s}
		return nil
	}
	i, err := strconv.Atoi(string(b))
	if err != nil || i < 0 || i >= sim.MaxVec {
		return fmt.Errorf("action %s: want an index 0..%d or a name", b, sim.MaxVec-1)
	}
	*a = ActionRef{Index: i}
	return nil
}

func (a ActionRef) String() string {
	if a.Name != "" {
		return strconv.Quote(a.Name)
	}
	return strconv.Itoa(a.Index)
}

// Names is one name or a list of names (JSON string or array).
type Names []string

// UnmarshalJSON accepts "rb" or ["rb", "BTN_TR"].
func (n *Names) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*n = Names{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a button name or a list of names")
	}
	*n = many
	return nil
}

// roleClutch is the role that sets Command.Clutch rather than a button bit.
const roleClutch = "clutch"

// Roles maps role names to logical buttons: teleop's button names plus
// the clutch.
var Roles = func() map[string]teleop.Buttons {
	m := map[string]teleop.Buttons{roleClutch: 0}
	for _, name := range teleop.ButtonNames() {
		b, _ := teleop.ParseButton(name)
		m[name] = b
	}
	return m
}()

func roleNames() string {
	out := make([]string, 0, len(Roles))
	for r := range Roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Validate checks what does not depend on the device or the task.
func (m *Mapping) Validate() error {
	for i, b := range m.Axes {
		if b.Axis == "" {
			return fmt.Errorf("mapping: axis binding %d has no axis", i)
		}
		if math.IsNaN(b.Scale) || math.IsInf(b.Scale, 0) {
			return fmt.Errorf("mapping: axis %s scale %g", b.Axis, b.Scale)
		}
		if b.Deadzone != nil && !(*b.Deadzone >= 0 && *b.Deadzone < 1) {
			return fmt.Errorf("mapping: axis %s deadzone %g not in [0, 1)", b.Axis, *b.Deadzone)
		}
	}
	for role := range m.Buttons {
		if _, ok := Roles[role]; !ok {
			return fmt.Errorf("mapping: unknown button role %q (valid: %s)", role, roleNames())
		}
	}
	return nil
}

type axisBind struct {
	slot   int
	action int
	scale  float64
	norm   Norm
}

type roleBind struct {
	code   uint16
	bit    teleop.Buttons
	clutch bool
}

// Mapper turns a device state into teleop.Commands for one task. It is
// owned by the device's reader goroutine; Map does not allocate.
type Mapper struct {
	Layout   *Layout
	Operator string
	Rule     teleop.Rule
	// Epoch is the wall time of event time 0: time.Unix(0, 0) for live
	// devices (CLOCK_REALTIME), the replay's start for recordings.
	Epoch time.Time
	// Skipped counts frames whose mapped action was not finite.
	Skipped int
	// Unbound lists bindings that name an axis, button or action the
	// device or task does not have (ignored, reported for display).
	Unbound []string

	n     int
	names []string
	axes  []axisBind
	roles []roleBind
	act   [sim.MaxVec]float64
}

// NewMapper resolves a mapping against a layout and the task's action
// names. With no action names (no task), the action size is one past the
// largest bound index and name bindings are unbound. Names that are neither
// known to the profile nor valid code names are errors; names the device
// simply lacks are listed in Unbound.
func NewMapper(l *Layout, m Mapping, actionNames []string, rule teleop.Rule, operator string) (*Mapper, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if len(actionNames) > sim.MaxVec {
		return nil, fmt.Errorf("mapping: %d actions exceed %d", len(actionNames), sim.MaxVec)
	}
	for _, b := range m.Axes {
		if b.Action.Index < 0 || b.Action.Index >= sim.MaxVec {
			return nil, fmt.Errorf("mapping: axis %s: action index %d not in 0..%d", b.Axis, b.Action.Index, sim.MaxVec-1)
		}
	}
	mp := &Mapper{Layout: l, Operator: operator, Rule: rule, Epoch: time.Unix(0, 0), n: len(actionNames), names: actionNames}
	if actionNames == nil {
		for _, b := range m.Axes {
			if b.Action.Name == "" && b.Action.Index+1 > mp.n {
				mp.n = b.Action.Index + 1
			}
		}
	}
	for _, b := range m.Axes {
		idx := b.Action.Index
		if b.Action.Name != "" {
			idx = indexOf(actionNames, b.Action.Name)
			if idx < 0 {
				if actionNames != nil {
					return nil, fmt.Errorf("mapping: action %q is not one of the task's actions [%s]", b.Action.Name, strings.Join(actionNames, " "))
				}
				mp.Unbound = append(mp.Unbound, fmt.Sprintf("axis %s → action %s (no task)", b.Axis, b.Action))
				continue
			}
		}
		if idx >= mp.n {
			mp.Unbound = append(mp.Unbound, fmt.Sprintf("axis %s → action %s (task has %d actions)", b.Axis, b.Action, mp.n))
			continue
		}
		slot, ok := l.Axis(b.Axis)
		if !ok {
			if !l.knowsAxis(b.Axis) {
				return nil, fmt.Errorf("mapping: unknown axis %q (profile %s axes: %s)", b.Axis, l.Profile.Name, strings.Join(l.axisNames(), ", "))
			}
			mp.Unbound = append(mp.Unbound, fmt.Sprintf("axis %s (device lacks it)", b.Axis))
			continue
		}
		scale := b.Scale
		if scale == 0 {
			scale = 1
		}
		if b.Invert {
			scale = -scale
		}
		n := l.axes[slot].norm
		if b.Deadzone != nil {
			n.Deadzone = math.Max(*b.Deadzone, l.axes[slot].flatDZ)
		}
		mp.axes = append(mp.axes, axisBind{slot: slot, action: idx, scale: scale, norm: n})
	}
	for _, role := range sortedKeys(m.Buttons) {
		for _, name := range m.Buttons[role] {
			code, ok := l.Button(name)
			if !ok {
				typ, c, err := ParseCode(name)
				known := err == nil && typ == EvKey
				if !known && !l.knowsButton(name) {
					return nil, fmt.Errorf("mapping: %s: unknown button %q (device buttons: %s)", role, name, strings.Join(l.Buttons(), ", "))
				}
				if !known || !l.Desc.Has(EvKey, c) {
					mp.Unbound = append(mp.Unbound, fmt.Sprintf("%s → %s (device lacks it)", role, name))
					continue
				}
				code = c
			}
			mp.roles = append(mp.roles, roleBind{code: code, bit: Roles[role], clutch: role == roleClutch})
		}
	}
	return mp, nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

func (l *Layout) knowsAxis(name string) bool {
	if _, _, err := ParseCode(name); err == nil {
		return true
	}
	for _, s := range l.Profile.Axes {
		if strings.EqualFold(s.Name, name) {
			return true
		}
	}
	for n := range l.Profile.KeyAxes {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (l *Layout) knowsButton(name string) bool {
	for _, n := range l.Profile.Buttons {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func (l *Layout) axisNames() []string {
	out := make([]string, len(l.axes))
	for i, a := range l.axes {
		out[i] = a.name
	}
	return out
}

// ActionSize returns the number of actions commands carry.
func (m *Mapper) ActionSize() int { return m.n }

// Map computes the command for state s at event time now. It returns false,
// and counts a skip, when an action value is NaN or infinite (a device with
// a broken range): such a command is never produced.
func (m *Mapper) Map(s *State, now time.Duration) (teleop.Command, bool) {
	act := m.act[:m.n]
	for i := range act {
		act[i] = 0
	}
	for i := range m.axes {
		b := &m.axes[i]
		act[b.action] += b.scale * m.Layout.value(&m.Layout.axes[b.slot], b.norm, s, now)
	}
	for _, v := range act {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			m.Skipped++
			return teleop.Command{}, false
		}
	}
	c := teleop.Command{Operator: m.Operator, Action: sim.VecOf(act), At: m.Epoch.Add(now)}
	for _, r := range m.roles {
		if s.Key(r.code) {
			if r.clutch {
				c.Clutch = true
			} else {
				c.Buttons |= r.bit
			}
		}
	}
	c.Engaged = m.Rule.Engaged(act, c.Buttons)
	return c, true
}

// Describe lists the resolved bindings for display.
func (m *Mapper) Describe() []string {
	var out []string
	for _, b := range m.axes {
		act := strconv.Itoa(b.action)
		if b.action < len(m.names) {
			act = m.names[b.action]
		}
		out = append(out, fmt.Sprintf("axis %s → action %s × %g (deadzone %.3g)", m.Layout.axes[b.slot].name, act, b.scale, b.norm.Deadzone))
	}
	for _, r := range m.roles {
		role := "clutch"
		for name, bit := range Roles {
			if bit == r.bit && !r.clutch && bit != 0 {
				role = name
			}
		}
		out = append(out, fmt.Sprintf("button %s → %s", m.Layout.ButtonName(r.code), role))
	}
	return out
}
