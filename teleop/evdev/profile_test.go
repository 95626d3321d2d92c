package evdev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// synthDesc builds a description declaring the named codes; ABS axes get
// the absinfo in abs (or -32768..32767).
func synthDesc(name string, vendor, product uint16, abs map[string]AbsInfo, codes ...string) *Description {
	d := &Description{Name: name, Vendor: vendor, Product: product, Bits: map[uint16][]byte{}, Abs: map[uint16]AbsInfo{}}
	set := func(typ, code uint16) {
		b := d.Bits[typ]
		for len(b) <= int(code/8) {
			b = append(b, 0)
		}
		b[code/8] |= 1 << (code % 8)
		d.Bits[typ] = b
	}
	for _, c := range codes {
		typ, code, err := ParseCode(c)
		if err != nil {
			panic(err)
		}
		set(0, typ)
		set(typ, code)
		if typ == EvAbs {
			a, ok := abs[c]
			if !ok {
				a = AbsInfo{Min: -32768, Max: 32767, Fuzz: 16, Flat: 128}
			}
			d.Abs[code] = a
		}
	}
	return d
}

func loadDesc(t *testing.T, file string) *Description {
	t.Helper()
	rec, err := ReadRecording(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return &rec.Desc
}

func TestBuiltinProfilesValid(t *testing.T) {
	cat, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"xbox", "dualsense", "dualshock3", "spacemouse", "spacemouse-abs", "pen3d", "joystick", "keyboard"}
	if got := strings.Join(cat.Names(), " "); got != strings.Join(want, " ") {
		t.Errorf("profiles %q; want %q", got, strings.Join(want, " "))
	}
}

func TestChooseProfile(t *testing.T) {
	dsAbs := map[string]AbsInfo{"ABS_X": {Max: 255}, "ABS_Y": {Max: 255}, "ABS_RX": {Max: 255}, "ABS_RY": {Max: 255}, "ABS_Z": {Max: 255}, "ABS_RZ": {Max: 255}}
	smAbs := map[string]AbsInfo{"ABS_X": {Min: -350, Max: 350}, "ABS_RX": {Min: -350, Max: 350}}
	tests := []struct {
		name string
		desc *Description
		want string
	}{
		{"microsoft recording", loadDesc(t, "microsoft-xbox360-pad.desc"), "xbox"},
		{"mad catz recording", loadDesc(t, "madcatz-xbox360.events"), "xbox"},
		{"ps3 recording", loadDesc(t, "sony-ps3-controller.desc"), "dualshock3"},
		{"xbox one by id", synthDesc("Microsoft X-Box One pad", 0x045e, 0x02ea, nil, "ABS_X", "ABS_Z", "BTN_SOUTH"), "xbox"},
		{"dualsense", synthDesc("Sony Interactive Entertainment DualSense Wireless Controller", 0x054c, 0x0ce6, dsAbs, "ABS_X", "ABS_Y", "ABS_RX", "ABS_RY", "ABS_Z", "ABS_RZ", "BTN_SOUTH"), "dualsense"},
		{"spacenavigator rel", synthDesc("3Dconnexion SpaceNavigator", 0x046d, 0xc626, nil, "REL_X", "REL_Y", "REL_Z", "REL_RX", "REL_RY", "REL_RZ", "BTN_0", "BTN_1"), "spacemouse"},
		{"spacemouse 256f rel", synthDesc("3Dconnexion SpaceMouse Compact", 0x256f, 0xc635, nil, "REL_X", "REL_RX", "BTN_0"), "spacemouse"},
		{"spacemouse 256f abs", synthDesc("3Dconnexion SpaceMouse Pro", 0x256f, 0xc62b, smAbs, "ABS_X", "ABS_RX", "BTN_0"), "spacemouse-abs"},
		{"pen bridge", synthDesc("tandem pen bridge", 0x1234, 0x0001, map[string]AbsInfo{"ABS_X": {Min: -200, Max: 200}, "ABS_Y": {Min: -200, Max: 200}, "ABS_Z": {Min: -100, Max: 100}}, "ABS_X", "ABS_Y", "ABS_Z", "BTN_STYLUS", "BTN_STYLUS2"), "pen3d"},
		{"generic joystick", synthDesc("Logitech Extreme 3D", 0x046d, 0xc215, nil, "ABS_X", "ABS_Y", "ABS_RZ", "BTN_TRIGGER"), "joystick"},
		{"keyboard", synthDesc("AT Translated Set 2 keyboard", 0x0001, 0x0001, nil, "KEY_A", "KEY_SPACE", "KEY_W"), "keyboard"},
		{"mouse matches nothing", synthDesc("Mouse", 0x1, 0x2, nil, "REL_X", "REL_Y", "BTN_LEFT"), ""},
	}
	cat, _ := Builtin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if p := cat.Choose(tt.desc); p != nil {
				got = p.Name
			}
			if got != tt.want {
				t.Errorf("got profile %q; want %q", got, tt.want)
			}
		})
	}
}

func TestLayoutReadsRangesFromAbsinfo(t *testing.T) {
	// An Xbox One pad's triggers report 0..1023; the profile's fallback
	// range (0..255) must not be used when absinfo is present.
	cat, _ := Builtin()
	p, _ := cat.Lookup("xbox")
	d := synthDesc("Xbox One", 0x045e, 0x02ea, map[string]AbsInfo{"ABS_RZ": {Max: 1023}}, "ABS_X", "ABS_RZ", "BTN_SOUTH")
	l, err := Bind(p, d)
	if err != nil {
		t.Fatal(err)
	}
	i, ok := l.Axis("right_trigger")
	if !ok {
		t.Fatal("no right_trigger axis")
	}
	if n := l.AxisNorm(i); n.Hi != 1023 || n.Kind != Trigger {
		t.Errorf("right_trigger %v; want trigger up to 1023", n)
	}
	s := l.NewState(nil)
	s.Apply(ev(0, EvAbs, AbsRZ, 1023))
	s.Apply(syn(0))
	if v := l.Value(i, s, 0); v != 1 {
		t.Errorf("full trigger %v; want 1", v)
	}
}

func TestProfileValidateErrors(t *testing.T) {
	neg := -0.5
	tests := []struct {
		name string
		p    Profile
		want string
	}{
		{"no name", Profile{}, "without a name"},
		{"deadzone 1", Profile{Name: "p", Deadzone: 1}, "deadzone"},
		{"bad rule", Profile{Name: "p", Rule: "sometimes"}, "unknown takeover rule"},
		{"bad vendor", Profile{Name: "p", Match: []Match{{Vendor: "xyz"}}}, "hex"},
		{"product without vendor", Profile{Name: "p", Match: []Match{{Product: "0001"}}}, "without a vendor"},
		{"axis not abs", Profile{Name: "p", Axes: map[string]AxisSpec{"KEY_A": {}}}, "not an ABS_ or REL_"},
		{"axis kind", Profile{Name: "p", Axes: map[string]AxisSpec{"ABS_X": {Kind: "wobbly"}}}, "kind"},
		{"axis deadzone", Profile{Name: "p", Axes: map[string]AxisSpec{"ABS_X": {Deadzone: &neg}}}, "deadzone"},
		{"range", Profile{Name: "p", Axes: map[string]AxisSpec{"ABS_X": {Range: &[2]int32{5, 5}}}}, "min >= max"},
		{"dup axis name", Profile{Name: "p", Axes: map[string]AxisSpec{"ABS_X": {Name: "x"}}, KeyAxes: map[string]KeyAxis{"x": {Plus: "KEY_A", Minus: "KEY_B"}}}, "used twice"},
		{"key axis code", Profile{Name: "p", KeyAxes: map[string]KeyAxis{"k": {Plus: "ABS_X", Minus: "KEY_B"}}}, "KEY_"},
		{"bad role", Profile{Name: "p", Mapping: Mapping{Buttons: map[string]Names{"launch": {"KEY_A"}}}}, "unknown button role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestUserMappingFileOverrides(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.json")
	const doc = `{
  "profiles": [{"name": "xbox", "description": "mine", "deadzone": 0.2,
                "match": [{"vendor": "045e", "product": "028e"}],
                "axes": {"ABS_X": {"name": "steer"}},
                "mapping": {"axes": [{"axis": "steer", "action": 0}]}}],
  "mapping": {"axes": [{"axis": "steer", "action": "y", "scale": 0.5}], "buttons": {"takeover": "BTN_SOUTH"}}
}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	d := loadDesc(t, "microsoft-xbox360-pad.desc")
	m, err := Resolve(d, Options{MappingFile: path, ActionNames: []string{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Layout.Profile.Description != "mine" {
		t.Errorf("profile %q; want the user's xbox profile", m.Layout.Profile.Description)
	}
	s := m.Layout.NewState(nil)
	s.Apply(ev(0, EvAbs, AbsX, 32767))
	s.Apply(ev(0, EvKey, BtnSouth, 1))
	s.Apply(syn(0))
	c, ok := m.Map(s, 0)
	if !ok {
		t.Fatal("skipped")
	}
	if got := c.Action.Slice(); got[0] != 0 || got[1] != 0.5 {
		t.Errorf("action %v; want [0 0.5] (file mapping: steer → y × 0.5)", got)
	}
	if !c.Engaged {
		t.Error("takeover button from the file's mapping did not engage")
	}
}

func TestLoadProfileFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, doc, want string
	}{
		{"not json", "{", "unexpected EOF"},
		{"unknown field", `{"profilez": []}`, "unknown field"},
		{"bad action", `{"mapping": {"axes": [{"axis": "x", "action": -1}]}}`, "want an index"},
		{"bad profile", `{"profiles": [{"name": "p", "deadzone": 3}]}`, "deadzone"},
		{"bad role", `{"mapping": {"buttons": {"fire": "BTN_SOUTH"}}}`, "unknown button role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			os.WriteFile(path, []byte(tt.doc), 0o600)
			_, err := LoadProfileFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v; want an error naming the file and containing %q", err, tt.want)
			}
		})
	}
	if _, err := LoadProfileFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestParseCode(t *testing.T) {
	tests := []struct {
		name      string
		typ, code uint16
		ok        bool
	}{
		{"ABS_X", EvAbs, 0, true},
		{"abs_hat0y", EvAbs, 0x11, true},
		{"BTN_A", EvKey, 0x130, true},
		{"BTN_0x12c", EvKey, 0x12c, true},
		{"ABS_0x29", EvAbs, 0x29, true},
		{"REL_RZ", EvRel, 5, true},
		{"KEY_W", EvKey, 17, true},
		{"ABS_0x99", 0, 0, false},
		{"STICK_X", 0, 0, false},
	}
	for _, tt := range tests {
		typ, code, err := ParseCode(tt.name)
		if (err == nil) != tt.ok || (tt.ok && (typ != tt.typ || code != tt.code)) {
			t.Errorf("ParseCode(%q) = %d %#x %v; want %d %#x ok=%v", tt.name, typ, code, err, tt.typ, tt.code, tt.ok)
		}
		if tt.ok {
			if back := CodeName(typ, code); !strings.EqualFold(back, tt.name) && tt.name != "BTN_A" {
				t.Errorf("CodeName(%d, %#x) = %q; want %q", typ, code, back, tt.name)
			}
		}
	}
}
