package evdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ForceFeedback drives a device's force-feedback motors. Implementations
// are safe for concurrent use.
type ForceFeedback interface {
	// Rumble plays strong and weak motor magnitudes in [0, 1] for d.
	Rumble(strong, weak float64, d time.Duration) error
	// Constant holds a force of level in [0, 1] pushing towards direction
	// (radians in the task plane, 0 = +x, π/2 = +y) until changed; level 0
	// stops it. Rumble-only devices render it as a continuous rumble of
	// that strength.
	Constant(level, direction float64) error
	// SetGain scales every effect, g in [0, 1].
	SetGain(g float64) error
	// Stop stops every effect tandem started.
	Stop() error
}

// ErrNoForceFeedback is returned for an effect the device lacks.
var ErrNoForceFeedback = errors.New("evdev: device has no such force-feedback effect")

// effect is struct ff_effect (48 bytes on x86-64): type@0, id@2 s16,
// direction@4, trigger{button, interval}@6, replay{length, delay}@10, union
// @16 (rumble: strong@16, weak@18; constant: level@16 s16, envelope@18).
type effect struct {
	typ       uint16
	id        int16
	direction uint16
	length    uint16 // ms; 0 = until stopped
	strong    uint16
	weak      uint16
	level     int16
}

func (e effect) marshal() [ffEffectSize]byte {
	var b [ffEffectSize]byte
	le := binary.LittleEndian
	le.PutUint16(b[0:], e.typ)
	le.PutUint16(b[2:], uint16(e.id))
	le.PutUint16(b[4:], e.direction)
	le.PutUint16(b[10:], e.length)
	switch e.typ {
	case FFRumble:
		le.PutUint16(b[16:], e.strong)
		le.PutUint16(b[18:], e.weak)
	case FFConstant:
		le.PutUint16(b[16:], uint16(e.level))
	}
	return b
}

// ffDirection converts a task-plane angle (0 = +x, counter-clockwise) to
// the kernel's encoding: 0x0000 down, 0x4000 left, 0x8000 up, 0xC000 right.
func ffDirection(rad float64) uint16 {
	fx, fy := math.Cos(rad), math.Sin(rad)
	a := math.Atan2(-fx, -fy)
	if a < 0 {
		a += 2 * math.Pi
	}
	return uint16(math.Round(a / (2 * math.Pi) * 65536)) // 2π wraps to 0
}

func unit16(x float64) uint16 {
	if !(x > 0) {
		return 0
	}
	if x >= 1 {
		return 0xFFFF
	}
	return uint16(math.Round(x * 0xFFFF))
}

func ms16(d time.Duration) uint16 {
	ms := d.Milliseconds()
	if ms < 0 {
		return 0
	}
	if ms > 0x7FFF { // the kernel rejects lengths above 0x7fff
		return 0x7FFF
	}
	return uint16(ms)
}

// ffSys is what the effect logic needs from a device: EVIOCSFF upload
// (returning the id the kernel assigned), writing EV_FF events, EVIOCRMFF.
type ffSys interface {
	upload(b *[ffEffectSize]byte) (int16, error)
	writeFF(code uint16, value int32) error
	erase(id int16) error
}

// ffCore implements ForceFeedback over an ffSys. Effects are uploaded once
// with id -1 and then updated in place by re-uploading with their id.
type ffCore struct {
	mu        sync.Mutex
	sys       ffSys
	rumble    bool
	constant  bool
	gain      bool
	rumbleID  int16
	constID   int16
	playing   bool // the constant (or emulated constant) effect
	lastLevel float64
}

func newFFCore(sys ffSys, rumble, constant, gain bool) *ffCore {
	return &ffCore{sys: sys, rumble: rumble, constant: constant, gain: gain, rumbleID: -1, constID: -1}
}

func (f *ffCore) upload(e effect, id *int16) error {
	e.id = *id
	b := e.marshal()
	nid, err := f.sys.upload(&b)
	if err != nil {
		return fmt.Errorf("evdev: upload %s: %w", CodeName(EvFF, e.typ), err)
	}
	*id = nid
	return nil
}

// Rumble implements ForceFeedback.
func (f *ffCore) Rumble(strong, weak float64, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.rumble {
		return ErrNoForceFeedback
	}
	if err := f.upload(effect{typ: FFRumble, strong: unit16(strong), weak: unit16(weak), length: ms16(d)}, &f.rumbleID); err != nil {
		return err
	}
	return f.sys.writeFF(uint16(f.rumbleID), 1)
}

// Constant implements ForceFeedback. Rumble-only devices get a separate,
// endless rumble effect, so contact rumbles do not cancel it.
func (f *ffCore) Constant(level, direction float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.constant && !f.rumble {
		return ErrNoForceFeedback
	}
	if !(level > 0) {
		f.lastLevel = 0
		if !f.playing {
			return nil
		}
		f.playing = false
		return f.sys.writeFF(uint16(f.constID), 0)
	}
	level = math.Min(level, 1)
	f.lastLevel = level
	e := effect{typ: FFRumble, strong: unit16(level), weak: unit16(level / 2)}
	if f.constant {
		e = effect{typ: FFConstant, level: int16(math.Round(level * 0x7FFF)), direction: ffDirection(direction)}
	}
	if err := f.upload(e, &f.constID); err != nil || f.playing {
		return err
	}
	f.playing = true
	return f.sys.writeFF(uint16(f.constID), 1)
}

// SetGain implements ForceFeedback.
func (f *ffCore) SetGain(g float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.gain {
		return ErrNoForceFeedback
	}
	return f.sys.writeFF(FFGain, int32(unit16(g)))
}

// Stop implements ForceFeedback.
func (f *ffCore) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, id := range []int16{f.rumbleID, f.constID} {
		if id >= 0 {
			errs = append(errs, f.sys.writeFF(uint16(id), 0))
		}
	}
	f.playing = false
	return errors.Join(errs...)
}

// release erases the uploaded effects (on close).
func (f *ffCore) release() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for _, id := range []*int16{&f.rumbleID, &f.constID} {
		if *id >= 0 {
			errs = append(errs, f.sys.erase(*id))
			*id = -1
		}
	}
	return errors.Join(errs...)
}
