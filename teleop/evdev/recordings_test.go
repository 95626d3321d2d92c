package evdev

import (
	"math"
	"slices"
	"testing"
	"time"

	"tandem/teleop"
)

// madcatzFrames plays the Mad Catz recording through the xbox profile.
func madcatzFrames(t *testing.T, m *Mapping, extra ...Event) (frames []Frame, mp *Mapper) {
	t.Helper()
	rec, err := ReadRecording("testdata/madcatz-xbox360.events")
	if err != nil {
		t.Fatal(err)
	}
	mp, err = Resolve(&rec.Desc, Options{ActionNames: []string{"x", "y", "rx", "ry"}, Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	if mp.Layout.Profile.Name != "xbox" {
		t.Fatalf("profile %s; want xbox", mp.Layout.Profile.Name)
	}
	p := NewPlayer(append(rec.Events, extra...), mp, nil)
	p.SetOrigin(0)
	for f := p.Next(); f != nil; f = p.Next() {
		c := *f
		c.Axes = slices.Clone(f.Axes)
		c.Held = slices.Clone(f.Held)
		frames = append(frames, c)
	}
	return frames, mp
}

func axis(t *testing.T, mp *Mapper, f Frame, name string) float64 {
	t.Helper()
	i, ok := mp.Layout.Axis(name)
	if !ok {
		t.Fatalf("no axis %s", name)
	}
	return f.Axes[i]
}

func within(t time.Duration, from, to float64) bool {
	s := t.Seconds()
	return s >= from-1e-9 && s < to-1e-9
}

func TestMadCatzRestingJitterIsAbsorbed(t *testing.T) {
	frames, mp := madcatzFrames(t, nil)
	if len(frames) < 200 {
		t.Fatalf("%d frames; want the whole recording", len(frames))
	}
	for _, f := range frames {
		for _, name := range []string{"left_x", "left_y", "right_x", "right_y"} {
			if v := axis(t, mp, f, name); v != 0 {
				t.Fatalf("t=%.3f %s = %v at rest; want 0 (deadzone)", f.T.Seconds(), name, v)
			}
		}
		if a := f.Cmd.Action.Slice(); a[0] != 0 || a[1] != 0 || a[2] != 0 || a[3] != 0 {
			t.Fatalf("t=%.3f action %v at rest; want zeros", f.T.Seconds(), a)
		}
		if f.Cmd.Engaged {
			t.Fatalf("t=%.3f engaged at rest", f.T.Seconds())
		}
	}
}

// The jitter is real: with the deadzone reduced to the kernel's flat the
// same frames are not zero, with the recorded sign and size.
func TestMadCatzJitterVisibleWithoutDeadzone(t *testing.T) {
	zero := 0.0
	m := &Mapping{Axes: []AxisBinding{
		{Axis: "left_x", Action: ActionRef{Index: 0}, Deadzone: &zero},
		{Axis: "left_y", Action: ActionRef{Index: 1}, Deadzone: &zero},
		{Axis: "right_y", Action: ActionRef{Index: 3}, Deadzone: &zero},
	}}
	frames, _ := madcatzFrames(t, m)
	flat := 128 / 32767.5
	norm := func(raw float64) float64 {
		x := (raw + 0.5) / 32767.5
		return math.Copysign((math.Abs(x)-flat)/(1-flat), x)
	}
	var sawY, sawRY, sawX bool
	for _, f := range frames {
		a := f.Cmd.Action.Slice()
		if math.Abs(a[1]-norm(-392)) < 1e-9 || math.Abs(a[1]-norm(-314)) < 1e-9 {
			sawY = true // ≈ 1% of full scale
		}
		if math.Abs(a[3]-norm(-1490)) < 1e-9 || math.Abs(a[3]-norm(-1412)) < 1e-9 {
			sawRY = true // ≈ 4.5%
		}
		if within(f.T, 3.2001, 3.21) && math.Abs(a[0]-norm(-860)) < 1e-9 {
			sawX = true // the small leftward nudge at 3.2 s
		}
	}
	if !sawY || !sawRY || !sawX {
		t.Errorf("raw jitter seen: ABS_Y %v ABS_RY %v ABS_X nudge %v; want all", sawY, sawRY, sawX)
	}
}

func TestMadCatzDpadAndButtonFrames(t *testing.T) {
	frames, mp := madcatzFrames(t, nil)
	var pressed []float64
	for _, f := range frames {
		dy := axis(t, mp, f, "dpad_y")
		want := 0.0
		switch {
		case within(f.T, 0.548020, 0.632022):
			want = 1
		case within(f.T, 0.860034, 0.976039), within(f.T, 1.048035, 1.148044):
			want = -1
		}
		if dy != want {
			t.Errorf("t=%.6f dpad_y %v; want %v", f.T.Seconds(), dy, want)
		}
		held := slices.Contains(f.Held, "b")
		if held != within(f.T, 1.464057, 1.564079) {
			t.Errorf("t=%.6f b held %v; want %v", f.T.Seconds(), held, !held)
		}
		if held {
			pressed = append(pressed, f.T.Seconds())
			if !f.Cmd.Buttons.Has(teleop.HandBack) {
				t.Errorf("t=%.6f b held but command buttons %b lack HandBack", f.T.Seconds(), f.Cmd.Buttons)
			}
		}
	}
	if len(pressed) == 0 || math.Abs(pressed[0]-1.464057) > 1e-9 {
		t.Errorf("b first held at %v; want the 1.464057 s frame", pressed)
	}
}

func TestMadCatzStickDeflections(t *testing.T) {
	// Full and half deflections appended to the real recording: right and
	// up are positive (ABS_Y is inverted: the kernel's up is negative).
	// The right trigger half pressed drives action 3.
	at := 4 * time.Second
	extra := []Event{
		ev(at, EvAbs, AbsX, 32767), ev(at, EvAbs, AbsY, -32768), ev(at, EvAbs, AbsRX, -16384), ev(at, EvAbs, AbsRZ, 128), syn(at),
	}
	frames, _ := madcatzFrames(t, nil, extra...)
	last := frames[len(frames)-1]
	half := (16384/32767.5 - 0.08) / 0.92
	trigger := (128.0/255 - 0.02) / 0.98 // right trigger drives action 3 (a jaw)
	want := []float64{1, 1, -half, trigger}
	got := last.Cmd.Action.Slice()
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-4 {
			t.Errorf("action %v; want %v", got, want)
			break
		}
	}
	if last.Cmd.Engaged {
		t.Error("button rule engaged without the takeover button")
	}
}

func TestRecordedDescriptionsMatchProfiles(t *testing.T) {
	tests := []struct {
		file, profile string
		axes          []string
	}{
		{"microsoft-xbox360-pad.desc", "xbox", []string{"left_x", "left_y", "left_trigger", "right_x", "right_y", "right_trigger", "dpad_x", "dpad_y"}},
		{"sony-ps3-controller.desc", "dualshock3", []string{"left_x", "left_y", "right_x", "right_y"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			mp, err := Resolve(loadDesc(t, tt.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if mp.Layout.Profile.Name != tt.profile {
				t.Errorf("profile %s; want %s", mp.Layout.Profile.Name, tt.profile)
			}
			for _, a := range tt.axes {
				if _, ok := mp.Layout.Axis(a); !ok {
					t.Errorf("no axis %s", a)
				}
			}
			// At rest (centre assumed: descriptions carry no values)
			// every stick reads 0.
			s := mp.Layout.NewState(nil)
			for _, a := range tt.axes {
				i, _ := mp.Layout.Axis(a)
				if v := mp.Layout.Value(i, s, 0); v != 0 {
					t.Errorf("%s at rest %v; want 0", a, v)
				}
			}
		})
	}
}

func TestPS3RightStickAndButtons(t *testing.T) {
	mp, err := Resolve(loadDesc(t, "sony-ps3-controller.desc"), Options{ActionNames: []string{"a", "b", "c", "d"}})
	if err != nil {
		t.Fatal(err)
	}
	s := mp.Layout.NewState(nil)
	// Right stick full left (ABS_Z = 0), R1 (BTN_BASE6) held: takeover.
	frame(s, ev(0, EvAbs, AbsZ, 0), ev(0, EvKey, 0x12b, 1))
	c, _ := mp.Map(s, s.Time)
	if got := c.Action.Slice(); got[2] != -1 || !c.Engaged || !c.Buttons.Has(teleop.Takeover) {
		t.Errorf("action %v engaged %v buttons %b; want right_x -1 and takeover", got, c.Engaged, c.Buttons)
	}
	if held := mp.Layout.Held(s, nil); len(held) != 1 || held[0] != "r1" {
		t.Errorf("held %v; want [r1]", held)
	}
}
