package evdev

import (
	"errors"
	"math"
	"time"
)

// Haptics turns what the session reports each tick (the tool's contact
// force, whether the policy asks for help) into force feedback: a short
// rumble when contact starts, a longer one on a help request, and a
// constant force following the contact force. Owned by one goroutine (the
// session's publisher); Update does not allocate.
type Haptics struct {
	FF ForceFeedback
	// FullScale is the contact force magnitude (task units) rendered at
	// full strength; Threshold the magnitude that counts as contact.
	FullScale, Threshold float64
	// ContactRumble and HelpRumble are the rumble lengths (tandem's own
	// choices: short enough not to mask the constant force).
	ContactRumble, HelpRumble time.Duration
	// Gain multiplies every level (0 means 1) and Cap bounds it (0 means
	// 1): whatever the force, the device is never driven above Cap of its
	// full strength.
	Gain, Cap float64

	inContact bool
	helping   bool
	level     float64
}

// NewHaptics returns haptics with tandem's defaults: full strength at a
// contact force of fullScale, contact above 2% of it, 80 ms contact rumble
// and 400 ms help rumble.
func NewHaptics(ff ForceFeedback, fullScale float64) *Haptics {
	return &Haptics{FF: ff, FullScale: fullScale, Threshold: 0.02 * fullScale,
		ContactRumble: 80 * time.Millisecond, HelpRumble: 400 * time.Millisecond}
}

// levelStep is the smallest level change worth a new upload (1/64 of full
// strength), so a steady contact does not issue an ioctl every tick.
const levelStep = 1.0 / 64

// Update renders one tick: force (fx, fy) on the tool and the help flag.
// Non-finite forces count as no contact.
func (h *Haptics) Update(fx, fy float64, help bool) error {
	if h.FF == nil {
		return nil
	}
	mag := math.Hypot(fx, fy)
	if math.IsNaN(mag) || math.IsInf(mag, 0) {
		mag, fx, fy = 0, 0, 0
	}
	var errs []error
	contact := mag > h.Threshold
	if contact && !h.inContact && h.ContactRumble > 0 {
		errs = append(errs, ignoreMissing(h.FF.Rumble(h.scale(0.6), h.scale(0.3), h.ContactRumble)))
	}
	h.inContact = contact
	if help && !h.helping && h.HelpRumble > 0 {
		errs = append(errs, ignoreMissing(h.FF.Rumble(h.scale(0.2), h.scale(1), h.HelpRumble)))
	}
	h.helping = help
	level := 0.0
	if contact && h.FullScale > 0 {
		level = h.scale(mag / h.FullScale)
	}
	if math.Abs(level-h.level) >= levelStep || (level == 0) != (h.level == 0) {
		h.level = level
		errs = append(errs, ignoreMissing(h.FF.Constant(level, math.Atan2(fy, fx))))
	}
	return errors.Join(errs...)
}

// scale applies the gain and the cap to a level in [0, 1].
func (h *Haptics) scale(level float64) float64 {
	g, c := h.Gain, h.Cap
	if g <= 0 {
		g = 1
	}
	if c <= 0 || c > 1 {
		c = 1
	}
	return math.Min(c, math.Max(0, level*g))
}

func ignoreMissing(err error) error {
	if errors.Is(err, ErrNoForceFeedback) {
		return nil
	}
	return err
}
