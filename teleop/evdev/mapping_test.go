package evdev

import (
	"math"
	"strings"
	"testing"

	"tandem/teleop"
)

func xboxMapper(t *testing.T, m *Mapping, names []string, rule string) *Mapper {
	t.Helper()
	opts := Options{ActionNames: names, Rule: rule, Mapping: m, Operator: "pad0"}
	mp, err := Resolve(loadDesc(t, "microsoft-xbox360-pad.desc"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

func frame(s *State, evs ...Event) {
	for _, e := range evs {
		s.Apply(e)
	}
	s.Apply(syn(s.Time + ms(8)))
}

func TestMapDefaultXbox(t *testing.T) {
	mp := xboxMapper(t, nil, []string{"dx", "dy"}, "")
	s := mp.Layout.NewState(nil)
	tests := []struct {
		name    string
		evs     []Event
		action  [2]float64
		buttons teleop.Buttons
		clutch  bool
		engaged bool
	}{
		{"rest", nil, [2]float64{0, 0}, 0, false, false},
		{"stick right and up", []Event{ev(0, EvAbs, AbsX, 32767), ev(0, EvAbs, AbsY, -32768)}, [2]float64{1, 1}, 0, false, false},
		{"rb held takes over", []Event{ev(0, EvKey, BtnTR, 1)}, [2]float64{1, 1}, teleop.Takeover, false, true},
		{"lb clutch, a grip", []Event{ev(0, EvKey, BtnTR, 0), ev(0, EvKey, BtnTL, 1), ev(0, EvKey, BtnSouth, 1)}, [2]float64{1, 1}, teleop.Grip, true, false},
		{"b hands back, stick left down", []Event{ev(0, EvKey, BtnTL, 0), ev(0, EvKey, BtnSouth, 0), ev(0, EvKey, BtnEast, 1), ev(0, EvAbs, AbsX, -32768), ev(0, EvAbs, AbsY, 32767)}, [2]float64{-1, -1}, teleop.HandBack, false, false},
		{"start back y x", []Event{ev(0, EvKey, BtnEast, 0), ev(0, EvKey, BtnStart, 1), ev(0, EvKey, BtnSelect, 1), ev(0, EvKey, BtnNorth, 1), ev(0, EvKey, BtnWest, 1)}, [2]float64{-1, -1}, teleop.Reset | teleop.Help | teleop.MarkSuccess | teleop.MarkFailure, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame(s, tt.evs...)
			c, ok := mp.Map(s, s.Time)
			if !ok {
				t.Fatal("skipped")
			}
			if c.Action.Len() != 2 {
				t.Fatalf("action size %d; want the task's 2", c.Action.Len())
			}
			if got := c.Action.Slice(); got[0] != tt.action[0] || got[1] != tt.action[1] {
				t.Errorf("action %v; want %v", got, tt.action)
			}
			if c.Buttons != tt.buttons || c.Clutch != tt.clutch || c.Engaged != tt.engaged {
				t.Errorf("buttons %b clutch %v engaged %v; want %b %v %v", c.Buttons, c.Clutch, c.Engaged, tt.buttons, tt.clutch, tt.engaged)
			}
			if c.Operator != "pad0" || !c.At.Equal(mp.Epoch.Add(s.Time)) {
				t.Errorf("operator %q at %v; want pad0 at the frame's event time", c.Operator, c.At)
			}
		})
	}
}

func TestMapRules(t *testing.T) {
	tests := []struct {
		rule string
		x    int32
		want bool
	}{
		{"button", 32767, false},
		{"nonzero", 0, false},
		{"nonzero", 20000, true},
		{"norm", 20000, true},
		{"norm:0.9", 20000, false},
		{"norm:0.9", 32767, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			mp := xboxMapper(t, nil, []string{"dx", "dy"}, tt.rule)
			s := mp.Layout.NewState(nil)
			frame(s, ev(0, EvAbs, AbsX, tt.x))
			c, _ := mp.Map(s, s.Time)
			if c.Engaged != tt.want {
				t.Errorf("x=%d: engaged %v; want %v (action %v)", tt.x, c.Engaged, tt.want, c.Action.Slice())
			}
		})
	}
}

func TestMapScaleInvertDeadzoneAndNames(t *testing.T) {
	dz := 0.5
	m := &Mapping{Axes: []AxisBinding{
		{Axis: "left_x", Action: ActionRef{Name: "jaw"}, Scale: 2},
		{Axis: "ABS_RX", Action: ActionRef{Index: 0}, Invert: true, Deadzone: &dz},
		{Axis: "right_trigger", Action: ActionRef{Index: 0}},
	}}
	mp := xboxMapper(t, m, []string{"dx", "jaw"}, "")
	s := mp.Layout.NewState(nil)
	// left_x at a quarter: 0.25 → past the 8% deadzone (0.25-0.08)/0.92.
	// ABS_RX at 0.4 < 0.5 binding deadzone → 0; trigger full → +1.
	frame(s, ev(0, EvAbs, AbsX, 8192), ev(0, EvAbs, AbsRX, 13107), ev(0, EvAbs, AbsRZ, 255))
	c, _ := mp.Map(s, s.Time)
	lx := (8192.5/32767.5 - 0.08) / 0.92
	if got := c.Action.Slice(); math.Abs(got[1]-2*lx) > 1e-9 || got[0] != 1 {
		t.Errorf("action %v; want [1 %v]", got, 2*lx)
	}
	frame(s, ev(0, EvAbs, AbsRX, 32767), ev(0, EvAbs, AbsRZ, 0))
	c, _ = mp.Map(s, s.Time)
	if got := c.Action.Slice(); got[0] != -1 {
		t.Errorf("inverted full right stick: action[0] %v; want -1", got[0])
	}
}

func TestMapperResolutionErrors(t *testing.T) {
	tests := []struct {
		name  string
		m     Mapping
		names []string
		want  string
	}{
		{"unknown action name", Mapping{Axes: []AxisBinding{{Axis: "left_x", Action: ActionRef{Name: "warp"}}}}, []string{"x"}, "not one of the task's actions"},
		{"unknown axis", Mapping{Axes: []AxisBinding{{Axis: "tail", Action: ActionRef{}}}}, []string{"x"}, "unknown axis"},
		{"unknown button", Mapping{Buttons: map[string]Names{"takeover": {"big_red"}}}, []string{"x"}, "unknown button"},
		{"index beyond MaxVec", Mapping{Axes: []AxisBinding{{Axis: "left_x", Action: ActionRef{Index: 100}}}}, nil, "not in 0..63"},
		{"nan scale", Mapping{Axes: []AxisBinding{{Axis: "left_x", Scale: math.NaN()}}}, []string{"x"}, "scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := xboxMapper(t, nil, nil, "").Layout
			_, err := NewMapper(l, tt.m, tt.names, teleop.Rule{}, "op")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMapperUnbound(t *testing.T) {
	// The default mapping binds four actions; a two-action task leaves two
	// unbound, and a device without a right stick leaves its bindings out.
	mp := xboxMapper(t, nil, []string{"x", "y"}, "")
	if len(mp.Unbound) != 2 || mp.ActionSize() != 2 {
		t.Errorf("unbound %v size %d; want 2 unbound, size 2", mp.Unbound, mp.ActionSize())
	}
	// No task: the size comes from the mapping's largest index.
	if mp := xboxMapper(t, nil, nil, ""); mp.ActionSize() != 4 {
		t.Errorf("no task: action size %d; want 4", mp.ActionSize())
	}
	cat, _ := Builtin()
	p, _ := cat.Lookup("xbox")
	l, err := Bind(p, synthDesc("half pad", 0x045e, 0x028e, nil, "ABS_X", "ABS_Y", "BTN_SOUTH"))
	if err != nil {
		t.Fatal(err)
	}
	mp, err = NewMapper(l, p.Mapping, nil, teleop.Rule{}, "op")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(mp.Unbound, "; "); !strings.Contains(got, "right_x (device lacks it)") || !strings.Contains(got, "takeover → rb") {
		t.Errorf("unbound %q; want right_x and the rb takeover listed", got)
	}
}

// A device reporting a broken range (min == max) yields NaN: the frame is
// counted and skipped, never turned into a command.
func TestMapNaNIsSkipped(t *testing.T) {
	d := loadDesc(t, "microsoft-xbox360-pad.desc")
	d.Abs[AbsX] = AbsInfo{Min: 0, Max: 0}
	mp, err := Resolve(d, Options{ActionNames: []string{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}
	s := mp.Layout.NewState(nil)
	frame(s, ev(0, EvAbs, AbsX, 0))
	c, ok := mp.Map(s, s.Time)
	if ok || mp.Skipped != 1 {
		t.Errorf("ok %v skipped %d; want a counted skip", ok, mp.Skipped)
	}
	if c.Action.Len() != 0 {
		t.Errorf("skipped command carries action %v", c.Action.Slice())
	}
}

func TestMapDoesNotAllocate(t *testing.T) {
	mp := xboxMapper(t, nil, []string{"a", "b", "c", "d"}, "norm")
	s := mp.Layout.NewState(nil)
	frame(s, ev(0, EvAbs, AbsX, 9000), ev(0, EvKey, BtnTR, 1))
	allocs := testing.AllocsPerRun(500, func() {
		if _, ok := mp.Map(s, s.Time); !ok {
			t.Fatal("skipped")
		}
	})
	if allocs != 0 {
		t.Errorf("Map allocates %v times; want 0", allocs)
	}
}

func BenchmarkMap(b *testing.B) {
	rec, _ := ReadRecording("testdata/microsoft-xbox360-pad.desc")
	mp, err := Resolve(&rec.Desc, Options{ActionNames: []string{"a", "b", "c", "d"}})
	if err != nil {
		b.Fatal(err)
	}
	s := mp.Layout.NewState(nil)
	s.Apply(ev(0, EvAbs, AbsX, 9000))
	s.Apply(syn(0))
	b.ReportAllocs()
	for b.Loop() {
		mp.Map(s, 0)
	}
}
