//go:build linux

package evdev

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ioctler issues evdev ioctls whose argument is a buffer. buf's length is
// the size the request declares (iocSize): the kernel copies at most that
// many bytes. A live device does it with ioctl(2) (device_linux.go);
// tests answer as drivers/input/evdev.c does.
type ioctler interface {
	ioctl(req uintptr, buf []byte) error
}

// Sizes of the string buffers for EVIOCGNAME and EVIOCGPHYS (libevdev and
// evtest use 256 too); longer strings come back truncated.
const nameSize = 256

// inputPropMax is INPUT_PROP_MAX (linux/input-event-codes.h).
const inputPropMax = 0x1f

// describe reads a device's name, physical path, ids, properties,
// capability bitmaps, absinfo and force-feedback slot count. Every buffer
// is fresh, zeroed and exactly as long as its request declares (the
// golang-evdev defects doc.go lists). Bitmaps arrive as the kernel's
// unsigned longs; on the little-endian 64-bit systems liveArch admits,
// their bytes are already in Description.Bits order (code c at byte c/8,
// bit c%8).
func describe(k ioctler) (Description, int, error) {
	d := Description{Bits: map[uint16][]byte{}, Abs: map[uint16]AbsInfo{}, AbsValues: true}
	id := make([]byte, inputIDSize)
	if err := k.ioctl(eviocgid, id); err != nil {
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			return d, 0, fmt.Errorf("%w (EVIOCGID: %w)", ErrNotInputDevice, err)
		}
		return d, 0, fmt.Errorf("EVIOCGID: %w", err)
	}
	ne := binary.NativeEndian
	d.Bus, d.Vendor, d.Product, d.Version = ne.Uint16(id[0:]), ne.Uint16(id[2:]), ne.Uint16(id[4:]), ne.Uint16(id[6:])
	d.Name = readString(k, eviocgname)
	d.Phys = readString(k, eviocgphys)
	props := make([]byte, bitmapBytes(inputPropMax))
	if k.ioctl(eviocgprop(uintptr(len(props))), props) == nil {
		d.Props = props
	}
	types := make([]byte, bitmapBytes(EvMax))
	if err := k.ioctl(eviocgbit(0, uintptr(len(types))), types); err != nil {
		return d, 0, fmt.Errorf("EVIOCGBIT(0): %w", err)
	}
	d.Bits[0] = types
	for t := uint16(1); t <= EvMax; t++ {
		if types[t/8]&(1<<(t%8)) == 0 {
			continue
		}
		bits := make([]byte, bitmapBytes(maxCode(t)))
		if err := k.ioctl(eviocgbit(uintptr(t), uintptr(len(bits))), bits); err != nil {
			continue // the kernel answers EINVAL for EV_REP, EV_PWR, EV_FF_STATUS
		}
		d.Bits[t] = bits
	}
	for _, c := range d.Codes(EvAbs) {
		if a, err := queryAbs(k, c); err == nil {
			d.Abs[c] = a
		}
	}
	effects := 0
	if d.Bits[EvFF] != nil {
		b := make([]byte, 4)
		if k.ioctl(eviocgeffects, b) == nil {
			effects = int(int32(ne.Uint32(b)))
		}
	}
	return d, effects, nil
}

// readString issues a string request (EVIOCGNAME, EVIOCGPHYS) and returns
// "" when the device has none (ENOENT).
func readString(k ioctler, req func(n uintptr) uintptr) string {
	b := make([]byte, nameSize)
	if k.ioctl(req(uintptr(len(b))), b) != nil {
		return ""
	}
	return cString(b)
}

// cString is b up to its first NUL (all of b when the kernel truncated).
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// queryAbs reads one axis's input_absinfo (EVIOCGABS): six native s32.
func queryAbs(k ioctler, code uint16) (AbsInfo, error) {
	b := make([]byte, absInfoSize)
	if err := k.ioctl(eviocgabs(uintptr(code)), b); err != nil {
		return AbsInfo{}, err
	}
	ne := binary.NativeEndian
	v := func(i int) int32 { return int32(ne.Uint32(b[4*i:])) }
	return AbsInfo{Value: v(0), Min: v(1), Max: v(2), Fuzz: v(3), Flat: v(4), Resolution: v(5)}, nil
}

// queryKeys reads the held-key bitmap (EVIOCGKEY) into bits; the kernel
// copies min(len(bits), 96) bytes.
func queryKeys(k ioctler, bits []byte) error {
	if len(bits) == 0 {
		return nil
	}
	return k.ioctl(eviocgkey(uintptr(len(bits))), bits)
}
