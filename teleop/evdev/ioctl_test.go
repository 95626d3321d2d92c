package evdev

import "testing"

// The request numbers input-reference.md lists for x86-64, and those
// computed by hand from _IOC(dir, 'E', nr, size) = dir<<30 | size<<16 |
// 0x45<<8 | nr with _IOC_READ 2 and _IOC_WRITE 1 (linux/input.h).
func TestIoctlNumbers(t *testing.T) {
	tests := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"EVIOCGABS(0)", eviocgabs(0), 0x80184540},
		{"EVIOCGRAB", eviocgrab, 0x40044590},
		{"EVIOCSFF", eviocsff, 0x40304580},
		{"EVIOCRMFF", eviocrmff, 0x40044581},
		{"EVIOCGEFFECTS", eviocgeffects, 0x80044584},
		{"EVIOCSCLOCKID", eviocsclockid, 0x400445a0},
		{"EVIOCGKEY(96)", eviocgkey(96), 0x80604518},
		{"EVIOCGID", eviocgid, 0x80084502},
		{"EVIOCGVERSION", eviocgversion, 0x80044501},
		{"EVIOCGNAME(256)", eviocgname(256), 0x81004506},
		{"EVIOCGPHYS(256)", eviocgphys(256), 0x81004507},
		{"EVIOCGPROP(8)", eviocgprop(8), 0x80084509},
		{"EVIOCGBIT(0, 8)", eviocgbit(0, 8), 0x80084520},
		{"EVIOCGBIT(EV_KEY, 96)", eviocgbit(1, 96), 0x80604521},
		{"EVIOCGBIT(EV_REL, 8)", eviocgbit(2, 8), 0x80084522},
		{"EVIOCGBIT(EV_ABS, 8)", eviocgbit(3, 8), 0x80084523},
		{"EVIOCGBIT(EV_FF, 16)", eviocgbit(0x15, 16), 0x80104535},
		{"EVIOCGABS(ABS_HAT0X)", eviocgabs(0x10), 0x80184550},
		{"EVIOCGABS(ABS_MAX)", eviocgabs(0x3f), 0x8018457f},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x; want %#x", tt.name, tt.got, tt.want)
		}
	}
}

// iocSize recovers the size each request declares: the buffer length a
// live device issues it with.
func TestIoctlSize(t *testing.T) {
	tests := []struct {
		req  uintptr
		want int
	}{
		{eviocgid, inputIDSize},
		{eviocgabs(5), absInfoSize},
		{eviocsff, ffEffectSize},
		{eviocgname(256), 256},
		{eviocgbit(1, uintptr(bitmapBytes(KeyMax))), 96},
		{eviocgkey(96), 96},
		{eviocgrab, 4},
	}
	for _, tt := range tests {
		if got := iocSize(tt.req); got != tt.want {
			t.Errorf("iocSize(%#x) = %d; want %d", tt.req, got, tt.want)
		}
	}
}

func TestLiveArch(t *testing.T) {
	for arch, want := range map[string]bool{
		"amd64": true, "arm64": true, "riscv64": true, "loong64": true,
		"386": false, "arm": false, // 4-byte longs: other input_event and bitmap layouts
		"ppc64le": false, "mips64le": false, // other ioctl direction and size bits
		"s390x": false, "ppc64": false, // big-endian
	} {
		if got := liveArch(arch); got != want {
			t.Errorf("liveArch(%s) = %v; want %v", arch, got, want)
		}
	}
}

func TestBitmapSizes(t *testing.T) {
	tests := []struct {
		max  uint16
		want int
	}{
		{EvMax, 8}, // 32 bits: the kernel copies one 8-byte long
		{KeyMax, 96},
		{AbsMax, 8},
		{RelMax, 8},
		{FFMax, 16},
	}
	for _, tt := range tests {
		if got := bitmapBytes(tt.max); got != tt.want {
			t.Errorf("bitmapBytes(%#x) = %d; want %d", tt.max, got, tt.want)
		}
	}
}
