package evdev

// Linux ioctl request encoding (asm-generic/ioctl.h), used on x86-64 and
// arm64: dir in bits 30-31, size in 16-29, type in 8-15, number in 0-7.
const (
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}

// iocSize is the argument size a request declares: the exact length of the
// buffer it must be issued with.
func iocSize(req uintptr) int { return int(req >> 16 & 0x3fff) }

// Sizes of the kernel structures the ioctls carry (x86-64).
const (
	absInfoSize  = 24 // struct input_absinfo: six s32
	ffEffectSize = 48 // struct ff_effect
	inputIDSize  = 8  // struct input_id: four u16
)

// Evdev ioctl requests (linux/input.h).
var (
	eviocgversion = ioc(iocRead, 'E', 0x01, 4)
	eviocgid      = ioc(iocRead, 'E', 0x02, inputIDSize)
	eviocsff      = ioc(iocWrite, 'E', 0x80, ffEffectSize)
	eviocrmff     = ioc(iocWrite, 'E', 0x81, 4)
	eviocgeffects = ioc(iocRead, 'E', 0x84, 4)
	eviocgrab     = ioc(iocWrite, 'E', 0x90, 4)
	eviocsclockid = ioc(iocWrite, 'E', 0xa0, 4)
)

// eviocgname reads the device name into a buffer of n bytes.
func eviocgname(n uintptr) uintptr { return ioc(iocRead, 'E', 0x06, n) }

// eviocgphys reads the physical path (e.g. usb-0000:00:14.0-1/input0) into
// a buffer of n bytes.
func eviocgphys(n uintptr) uintptr { return ioc(iocRead, 'E', 0x07, n) }

// eviocgprop reads the property bitmap into a buffer of n bytes.
func eviocgprop(n uintptr) uintptr { return ioc(iocRead, 'E', 0x09, n) }

// eviocgkey reads the held-key bitmap into a buffer of n bytes.
func eviocgkey(n uintptr) uintptr { return ioc(iocRead, 'E', 0x18, n) }

// eviocgbit reads event type ev's code bitmap (ev 0: the type bitmap) into
// a buffer of n bytes. n must be the buffer's true size: the kernel copies
// min(n, bitmap size) bytes.
func eviocgbit(ev, n uintptr) uintptr { return ioc(iocRead, 'E', 0x20+ev, n) }

// eviocgabs reads axis code's input_absinfo.
func eviocgabs(code uintptr) uintptr { return ioc(iocRead, 'E', 0x40+code, absInfoSize) }

// bitmapBytes is the size of a code bitmap for codes 0..max, rounded up to
// whole 8-byte longs as the kernel copies them.
func bitmapBytes(max uint16) int {
	return (int(max)/64 + 1) * 8
}

// liveArch reports whether the live layer's layouts hold on goarch: Linux
// with the asm-generic ioctl encoding above (mips and powerpc encode
// direction and size differently), 8-byte longs (bitmaps, timeval) and
// little-endian input_event, ff_effect and bitmap words. Elsewhere
// recordings still replay.
func liveArch(goarch string) bool {
	switch goarch {
	case "amd64", "arm64", "riscv64", "loong64":
		return true
	}
	return false
}
