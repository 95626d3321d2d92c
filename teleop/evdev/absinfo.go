package evdev

import (
	"fmt"
	"math"
)

// AbsInfo is struct input_absinfo as EVIOCGABS fills it and evemu's A:
// lines record it (evemu records no Value).
type AbsInfo struct {
	Value      int32 `json:"value"`
	Min        int32 `json:"min"`
	Max        int32 `json:"max"`
	Fuzz       int32 `json:"fuzz"`
	Flat       int32 `json:"flat"`
	Resolution int32 `json:"resolution"`
}

// Valid reports whether the range is usable (min < max).
func (a AbsInfo) Valid() bool { return a.Min < a.Max }

// AxisKind says how raw axis values become normalised ones.
type AxisKind uint8

const (
	// Centred axes (sticks, hats, SpaceMouse, pen positions) map the
	// range midpoint to 0 and the ends to -1 and +1.
	Centred AxisKind = iota
	// Trigger axes map min to 0 and max to 1.
	Trigger
	// Relative axes (EV_REL) divide by a full-scale value and clip to ±1.
	Relative
)

func (k AxisKind) String() string {
	switch k {
	case Trigger:
		return "trigger"
	case Relative:
		return "relative"
	}
	return "centred"
}

// Norm normalises one axis. The zero Norm is invalid (it yields NaN).
type Norm struct {
	Kind AxisKind
	// Lo and Hi are the raw range (absinfo min and max); for Relative axes
	// Hi is the full-scale magnitude and Lo is -Hi.
	Lo, Hi float64
	// Deadzone is a fraction of the half range (Centred, Relative) or of
	// the range (Trigger) inside which the output is 0; outside it the
	// output is rescaled so it starts from 0 without a jump.
	Deadzone float64
}

// NormFromAbs builds the normaliser of an absolute axis. The deadzone is the
// larger of the profile's deadzone and the kernel's flat (applied by joydev
// only, so evdev readers apply it themselves).
func NormFromAbs(a AbsInfo, kind AxisKind, deadzone float64) Norm {
	n := Norm{Kind: kind, Lo: float64(a.Min), Hi: float64(a.Max), Deadzone: deadzone}
	if a.Valid() && a.Flat > 0 {
		span := n.Hi - n.Lo
		if kind != Trigger {
			span /= 2
		}
		if f := float64(a.Flat) / span; f > n.Deadzone {
			n.Deadzone = f
		}
	}
	return n
}

// NormRelative builds the normaliser of a relative axis with the given
// full-scale magnitude (SpaceMouse: about 350).
func NormRelative(fullScale, deadzone float64) Norm {
	return Norm{Kind: Relative, Lo: -fullScale, Hi: fullScale, Deadzone: deadzone}
}

// Valid reports whether the range can normalise anything.
func (n Norm) Valid() bool { return n.Lo < n.Hi && !math.IsInf(n.Hi-n.Lo, 0) }

// Apply returns the normalised value of raw: in [-1, 1] for Centred and
// Relative axes, [0, 1] for Trigger axes. An invalid range (min >= max, as
// some broken devices report) yields NaN, which mappings count and skip.
func (n Norm) Apply(raw float64) float64 {
	if !n.Valid() {
		return math.NaN()
	}
	var x float64
	switch n.Kind {
	case Trigger:
		x = (raw - n.Lo) / (n.Hi - n.Lo)
	default:
		// Centre is the midpoint (DualSense 0..255: 127.5; xpad
		// -32768..32767: -0.5).
		c, h := (n.Lo+n.Hi)/2, (n.Hi-n.Lo)/2
		x = (raw - c) / h
	}
	x = math.Max(-1, math.Min(1, x))
	return applyDeadzone(x, n.Deadzone)
}

// applyDeadzone zeroes |x| <= d and rescales the rest to reach ±1.
func applyDeadzone(x, d float64) float64 {
	if d <= 0 {
		return x
	}
	if d >= 1 {
		return 0
	}
	ax := math.Abs(x)
	if ax <= d {
		return 0
	}
	return math.Copysign((ax-d)/(1-d), x)
}

func (n Norm) String() string {
	return fmt.Sprintf("%s [%g, %g] deadzone %.3g", n.Kind, n.Lo, n.Hi, n.Deadzone)
}
