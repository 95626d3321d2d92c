package evdev

import (
	"math"
	"testing"
)

func TestNormApply(t *testing.T) {
	xpad := AbsInfo{Min: -32768, Max: 32767, Fuzz: 16, Flat: 128}
	ds := AbsInfo{Min: 0, Max: 255}
	tests := []struct {
		name string
		norm Norm
		raw  float64
		want float64
	}{
		{"xpad max", NormFromAbs(xpad, Centred, 0), 32767, 1},
		{"xpad min", NormFromAbs(xpad, Centred, 0), -32768, -1},
		{"xpad centre", NormFromAbs(xpad, Centred, 0), 0, 0},
		{"xpad inside flat", NormFromAbs(xpad, Centred, 0), 120, 0},
		{"xpad half", NormFromAbs(xpad, Centred, 0), 16383.25, (0.5 - 128/32767.5) / (1 - 128/32767.5)},
		{"dualsense centre 128", NormFromAbs(ds, Centred, 0.05), 128, 0},
		{"dualsense full right", NormFromAbs(ds, Centred, 0.05), 255, 1},
		{"dualsense full left", NormFromAbs(ds, Centred, 0.05), 0, -1},
		{"trigger 0..255 released", NormFromAbs(ds, Trigger, 0), 0, 0},
		{"trigger 0..255 full", NormFromAbs(ds, Trigger, 0), 255, 1},
		{"trigger 0..1023 half", NormFromAbs(AbsInfo{Max: 1023}, Trigger, 0), 511.5, 0.5},
		{"deadzone rescales", NormFromAbs(AbsInfo{Min: -100, Max: 100}, Centred, 0.1), 55, 0.5},
		{"deadzone edge is zero", NormFromAbs(AbsInfo{Min: -100, Max: 100}, Centred, 0.1), -10, 0},
		{"clamps beyond max", NormFromAbs(AbsInfo{Min: -100, Max: 100}, Centred, 0), 250, 1},
		{"hat", NormFromAbs(AbsInfo{Min: -1, Max: 1}, Centred, 0), -1, -1},
		{"relative 350", NormRelative(350, 0), 175, 0.5},
		{"relative clips", NormRelative(350, 0), -700, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.norm.Apply(tt.raw); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("got %v; want %v (%v)", got, tt.want, tt.norm)
			}
		})
	}
}

func TestNormInvalidRangeIsNaN(t *testing.T) {
	for _, a := range []AbsInfo{{Min: 0, Max: 0}, {Min: 5, Max: -5}} {
		if got := NormFromAbs(a, Centred, 0).Apply(3); !math.IsNaN(got) {
			t.Errorf("range %d..%d: got %v; want NaN", a.Min, a.Max, got)
		}
	}
}

func TestFlatWidensDeadzone(t *testing.T) {
	// PS3: 0..255 with flat 15 → deadzone 15/127.5 beats a profile 0.08.
	n := NormFromAbs(AbsInfo{Max: 255, Flat: 15}, Centred, 0.08)
	if want := 15 / 127.5; math.Abs(n.Deadzone-want) > 1e-12 {
		t.Errorf("deadzone %v; want %v", n.Deadzone, want)
	}
}
