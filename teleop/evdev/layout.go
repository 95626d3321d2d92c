package evdev

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// axisSource says where an axis's raw value comes from.
type axisSource uint8

const (
	fromAbs axisSource = iota
	fromRel
	fromKeys
)

// axisSlot is one named axis of a bound device.
type axisSlot struct {
	name        string
	src         axisSource
	code        uint16 // abs or rel code
	plus, minus uint16 // key axis
	norm        Norm
	// flatDZ is the deadzone the kernel's flat alone implies; mappings
	// that override the deadzone never go below it.
	flatDZ float64
}

// Layout is a profile bound to one device's description: every axis the
// device has, with its name and normaliser, and every button with its name.
// Immutable after Bind; safe for concurrent use.
type Layout struct {
	Profile *Profile
	Desc    *Description
	axes    []axisSlot
	axisIdx map[string]int
	buttons []uint16
	btnName map[uint16]string
	btnCode map[string]uint16
	relHold time.Duration
}

// Bind lays a profile over a device description. Axes are read from the
// description's absinfo; a description without any (a raw event file) falls
// back to the ranges the profile declares.
func Bind(p *Profile, d *Description) (*Layout, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	l := &Layout{Profile: p, Desc: d, axisIdx: map[string]int{}, btnName: map[uint16]string{},
		btnCode: map[string]uint16{}, relHold: p.relHold()}
	bare := len(d.Abs) == 0 && len(d.Bits) == 0
	specs := map[[2]uint16]AxisSpec{}
	for name, s := range p.Axes {
		typ, code, _ := ParseCode(name)
		specs[[2]uint16{typ, code}] = s
	}
	dzOf := func(s AxisSpec) float64 {
		if s.Deadzone != nil {
			return *s.Deadzone
		}
		return p.Deadzone
	}
	kindOf := func(s AxisSpec) AxisKind {
		if s.Kind == "trigger" {
			return Trigger
		}
		return Centred
	}
	// Absolute axes.
	for c := uint16(0); c <= AbsMax; c++ {
		s, named := specs[[2]uint16{EvAbs, c}]
		a, ok := d.Abs[c]
		if !ok {
			if !bare || !named || s.Range == nil {
				continue
			}
			a = AbsInfo{Min: s.Range[0], Max: s.Range[1]}
		}
		n := NormFromAbs(a, kindOf(s), dzOf(s))
		flat := NormFromAbs(a, kindOf(s), 0).Deadzone
		l.addAxis(axisSlot{name: axisName(s, EvAbs, c), src: fromAbs, code: c, norm: n, flatDZ: flat})
	}
	// Relative axes.
	for c := uint16(0); c <= RelMax; c++ {
		s, named := specs[[2]uint16{EvRel, c}]
		if !d.Has(EvRel, c) && !(bare && named) {
			continue
		}
		fs := s.FullScale
		if fs == 0 {
			fs = defaultRelFullScale
		}
		l.addAxis(axisSlot{name: axisName(s, EvRel, c), src: fromRel, code: c, norm: NormRelative(fs, dzOf(AxisSpec{Deadzone: s.Deadzone}))})
	}
	// Key axes.
	for _, name := range sortedKeys(p.KeyAxes) {
		k := p.KeyAxes[name]
		_, plus, _ := ParseCode(k.Plus)
		_, minus, _ := ParseCode(k.Minus)
		if !bare && !d.Has(EvKey, plus) && !d.Has(EvKey, minus) {
			continue
		}
		l.addAxis(axisSlot{name: name, src: fromKeys, plus: plus, minus: minus, norm: Norm{Kind: Centred, Lo: -1, Hi: 1}})
	}
	// Buttons: what the device declares, or what the profile names.
	named := map[uint16]string{}
	for code, name := range p.Buttons {
		_, c, _ := ParseCode(code)
		named[c] = name
	}
	for c := uint16(0); c <= KeyMax; c++ {
		if _, ok := named[c]; d.Has(EvKey, c) || (bare && ok) {
			name := named[c]
			if name == "" {
				name = CodeName(EvKey, c)
			}
			l.buttons = append(l.buttons, c)
			l.btnName[c] = name
			l.btnCode[strings.ToLower(name)] = c
			l.btnCode[strings.ToLower(CodeName(EvKey, c))] = c
		}
	}
	return l, nil
}

func axisName(s AxisSpec, typ, code uint16) string {
	if s.Name != "" {
		return s.Name
	}
	return CodeName(typ, code)
}

func (l *Layout) addAxis(a axisSlot) {
	l.axisIdx[strings.ToLower(a.name)] = len(l.axes)
	if a.src == fromAbs {
		l.axisIdx[strings.ToLower(CodeName(EvAbs, a.code))] = len(l.axes)
	} else if a.src == fromRel {
		l.axisIdx[strings.ToLower(CodeName(EvRel, a.code))] = len(l.axes)
	}
	l.axes = append(l.axes, a)
}

// NewState returns a state for this device resyncing through q, with
// absolute axes at their live values when the description has them and at
// rest (centre, or min for triggers) otherwise.
func (l *Layout) NewState(q StateQuerier) *State {
	s := NewState(q)
	l.InitState(s)
	return s
}

// InitState resets s to the device's initial state.
func (l *Layout) InitState(s *State) {
	s.Reset()
	s.RelHold = l.relHold
	for _, a := range l.axes {
		if a.src != fromAbs {
			continue
		}
		if info, ok := l.Desc.Abs[a.code]; ok && l.Desc.AbsValues {
			s.SetAbs(a.code, info.Value)
			continue
		}
		rest := int32(a.norm.Lo)
		if a.norm.Kind != Trigger {
			rest = int32((int64(a.norm.Lo) + int64(a.norm.Hi) + 1) / 2)
		}
		s.SetAbs(a.code, rest)
	}
}

// NumAxes returns the number of axes.
func (l *Layout) NumAxes() int { return len(l.axes) }

// AxisName returns axis i's name (the profile's, else the code name).
func (l *Layout) AxisName(i int) string { return l.axes[i].name }

// AxisNorm returns axis i's normaliser.
func (l *Layout) AxisNorm(i int) Norm { return l.axes[i].norm }

// Axis returns the index of a named axis (profile name or code name).
func (l *Layout) Axis(name string) (int, bool) {
	i, ok := l.axisIdx[strings.ToLower(name)]
	return i, ok
}

// Value returns axis i's normalised value in state s at event time now.
func (l *Layout) Value(i int, s *State, now time.Duration) float64 {
	return l.value(&l.axes[i], l.axes[i].norm, s, now)
}

func (l *Layout) value(a *axisSlot, n Norm, s *State, now time.Duration) float64 {
	switch a.src {
	case fromRel:
		return n.Apply(float64(s.Rel(a.code, now)))
	case fromKeys:
		var v float64
		if s.Key(a.plus) {
			v++
		}
		if s.Key(a.minus) {
			v--
		}
		return v
	}
	return n.Apply(float64(s.Abs(a.code)))
}

// Button returns the code of a named button (profile name or code name).
func (l *Layout) Button(name string) (uint16, bool) {
	c, ok := l.btnCode[strings.ToLower(name)]
	return c, ok
}

// ButtonName returns a button's profile name, else its code name.
func (l *Layout) ButtonName(code uint16) string {
	if n, ok := l.btnName[code]; ok {
		return n
	}
	return CodeName(EvKey, code)
}

// Buttons lists the device's button names in code order.
func (l *Layout) Buttons() []string {
	out := make([]string, len(l.buttons))
	for i, c := range l.buttons {
		out[i] = l.btnName[c]
	}
	return out
}

// Held appends the names of the buttons held in s to dst, in code order.
func (l *Layout) Held(s *State, dst []string) []string {
	for _, c := range l.buttons {
		if s.Key(c) {
			dst = append(dst, l.btnName[c])
		}
	}
	return dst
}

// Describe returns one line per axis for display.
func (l *Layout) Describe() []string {
	out := make([]string, 0, len(l.axes))
	for _, a := range l.axes {
		src := CodeName(EvAbs, a.code)
		switch a.src {
		case fromRel:
			src = CodeName(EvRel, a.code)
		case fromKeys:
			src = fmt.Sprintf("%s/%s", CodeName(EvKey, a.plus), CodeName(EvKey, a.minus))
		}
		out = append(out, fmt.Sprintf("%s (%s): %s", a.name, src, a.norm))
	}
	sort.Strings(out)
	return out
}
