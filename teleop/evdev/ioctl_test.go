package evdev

import "testing"

// The request numbers input-reference.md lists for x86-64.
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
		{"EVIOCGBIT(EV_ABS, 8)", eviocgbit(3, 8), 0x80084523},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x; want %#x", tt.name, tt.got, tt.want)
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
