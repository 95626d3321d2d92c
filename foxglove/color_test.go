package foxglove

import "testing"

func TestParseColor(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Color
		ok       bool
	}{
		{"short hex", "#f00", Color{R: 1, A: 1}, true},
		{"long hex", "#00ff00", Color{G: 1, A: 1}, true},
		{"hex with alpha", "#0000ff80", Color{B: 1, A: 128.0 / 255}, true},
		{"name", " Blue ", Color{B: 1, A: 1}, true},
		{"rgb", "rgb(255, 0, 0)", Color{R: 1, A: 1}, true},
		{"rgba percent", "rgba(100%, 50%, 0%, 0.5)", Color{R: 1, G: 0.5, A: 0.5}, true},
		{"bad hex", "#zzz", Grey, false},
		{"unknown", "chartreusey", Grey, false},
		{"empty", "", Grey, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseColor(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %+v %v; want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestUnitScale(t *testing.T) {
	for _, tc := range []struct {
		units string
		want  float64
	}{{"m", 1}, {"mm", 0.001}, {"cm", 0.01}, {"px", 0.01}, {"", 0.01}} {
		if got := UnitScale(tc.units); got != tc.want {
			t.Errorf("UnitScale(%q) = %g; want %g", tc.units, got, tc.want)
		}
	}
}
