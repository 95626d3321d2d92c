package evdev

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func parseString(t *testing.T, s string) *Recording {
	t.Helper()
	rec, err := ParseEvemu(strings.NewReader(s))
	if err != nil {
		t.Fatalf("ParseEvemu: %v", err)
	}
	return rec
}

func TestParseEvemuFormats(t *testing.T) {
	const v13 = `# EVEMU 1.3
# Input device name: "Test pad"
N: Test pad # with a hash
I: 0003 045e 028e 0110
P: 00 00 00 00 00 00 00 00
B: 00 0b 00 00 00 00 00 00 00
B: 03 03 00 00 00 00 00 00 00
A: 00 -32768 32767 16 128 0
A: 01 -32768 32767 16 128 12	# trailing comment
L: 08 1
S: 00 0
################################
E: 0.000001 0003 0000 1000	# EV_ABS / ABS_X 1000
E: 0.000001 0000 0000 0000	# ------------ SYN_REPORT (0) ----------
E: 1.5 0003 0001 -001
`
	rec := parseString(t, v13)
	if rec.Version != "1.3" {
		t.Errorf("version %q; want 1.3", rec.Version)
	}
	if rec.Desc.Name != "Test pad # with a hash" {
		t.Errorf("name %q; want the whole N: text", rec.Desc.Name)
	}
	if rec.Desc.Vendor != 0x045e || rec.Desc.Product != 0x028e || rec.Desc.Bus != 3 || rec.Desc.Version != 0x110 {
		t.Errorf("ids %04x:%04x bus %d version %x; want 045e:028e bus 3 version 110", rec.Desc.Vendor, rec.Desc.Product, rec.Desc.Bus, rec.Desc.Version)
	}
	if got := rec.Desc.Abs[AbsY]; got != (AbsInfo{Min: -32768, Max: 32767, Fuzz: 16, Flat: 128, Resolution: 12}) {
		t.Errorf("ABS_Y %+v; want resolution 12", got)
	}
	if !rec.Desc.Has(EvAbs, AbsX) || rec.Desc.Has(EvAbs, AbsZ) {
		t.Error("ABS bitmap: want X and not Z")
	}
	if rec.Desc.LEDs[8] != 1 || len(rec.Desc.Switches) != 1 {
		t.Errorf("LEDs %v switches %v", rec.Desc.LEDs, rec.Desc.Switches)
	}
	want := []Event{
		{Time: time.Microsecond, Type: EvAbs, Code: AbsX, Value: 1000},
		{Time: time.Microsecond, Type: EvSyn, Code: SynReport},
		{Time: 1500 * time.Millisecond, Type: EvAbs, Code: AbsY, Value: -1},
	}
	if len(rec.Events) != len(want) {
		t.Fatalf("got %d events; want %d", len(rec.Events), len(want))
	}
	for i := range want {
		if rec.Events[i] != want[i] {
			t.Errorf("event %d: got %+v; want %+v", i, rec.Events[i], want[i])
		}
	}
}

func TestParseEvemuOldAxisLines(t *testing.T) {
	rec := parseString(t, "N: old\nA: 00 0 255 0 15\nA: 3b 0 1023 3 63\n")
	if got := rec.Desc.Abs[0x3b]; got != (AbsInfo{Max: 1023, Fuzz: 3, Flat: 63}) {
		t.Errorf("A: without resolution: got %+v", got)
	}
	if rec.Version != "" {
		t.Errorf("version %q; want empty without a header", rec.Version)
	}
}

func TestParseEvemuSkipsAbsurdAxes(t *testing.T) {
	rec := parseString(t, "N: broken\nA: 00 0 0 0 0 0\nA: 01 10 -10 0 0 0\nA: 02 0 255 0 0 0\n")
	if len(rec.SkippedAxes) != 2 || rec.SkippedAxes[0] != 2 || rec.SkippedAxes[1] != 3 {
		t.Errorf("skipped lines %v; want [2 3]", rec.SkippedAxes)
	}
	if _, ok := rec.Desc.Abs[0]; ok {
		t.Error("ABS_X with min == max was kept")
	}
	if _, ok := rec.Desc.Abs[2]; !ok {
		t.Error("valid ABS_Z was dropped")
	}
}

func TestParseEvemuErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"empty", "", 1, "empty file"},
		{"unknown prefix", "N: x\nQ: 1 2\n", 2, "unknown line type"},
		{"no colon", "# EVEMU 1.3\nhello\n", 2, "unknown line"},
		{"short I", "I: 0003 045e\n", 1, "want bus vendor product version"},
		{"I not hex", "I: 0003 zz 0001 0001\n", 1, "not a 16-bit hex"},
		{"B type too big", "B: 20 00\n", 1, "event type"},
		{"B byte not hex", "B: 01 0g\n", 1, "not a hex byte"},
		{"B too long", "B: 03" + strings.Repeat(" 00", 97) + "\n", 1, "longer than 96"},
		{"A code too big", "A: 40 0 1 0 0 0\n", 1, "axis code"},
		{"A too few", "A: 00 0 1\n", 1, "want code min max"},
		{"A not int", "A: 00 0 x 0 0 0\n", 1, "not a 32-bit integer"},
		{"E bad time", "E: 1 0003 0000 1\n", 1, "not sec.usec"},
		{"E negative time", "E: -1.000000 0003 0000 1\n", 1, "not sec.usec"},
		{"E usec too long", "E: 1.0000001 0003 0000 1\n", 1, "not sec.usec"},
		{"E bad type", "E: 0.000001 00zz 0000 1\n", 1, "event type"},
		{"E bad value", "E: 0.000001 0003 0000 9999999999\n", 1, "event value"},
		{"E too few", "N: a\n\n# c\nE: 0.000001 0003\n", 4, "want sec.usec type code value"},
		{"L bad", "L: 08\n", 1, "want code value"},
		{"line too long", "N: " + strings.Repeat("x", maxEvemuLine+10) + "\n", 1, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEvemu(strings.NewReader(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v; want *SyntaxError", err)
			}
			if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got line %d %q; want line %d containing %q", se.Line, se.Msg, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "evemu: line ") {
				t.Errorf("message %q does not name the line", err)
			}
		})
	}
}

func TestParseRealRecordings(t *testing.T) {
	tests := []struct {
		file        string
		name        string
		vendor      uint16
		product     uint16
		axes        int
		buttons     int
		wantVersion string
	}{
		{"madcatz-xbox360.events", "Mad Catz Wired Xbox 360 Controller", 0x0738, 0x4716, 8, 11, "1.3"},
		{"microsoft-xbox360-pad.desc", "Microsoft X-Box 360 pad", 0x045e, 0x028e, 8, 11, "1.2"},
		{"sony-ps3-controller.desc", "Sony PLAYSTATION(R)3 Controller", 0x054c, 0x0268, 27, 19, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rec, err := ParseEvemu(f)
			if err != nil {
				t.Fatal(err)
			}
			d := rec.Desc
			if d.Name != tt.name || d.Vendor != tt.vendor || d.Product != tt.product {
				t.Errorf("got %q %04x:%04x; want %q %04x:%04x", d.Name, d.Vendor, d.Product, tt.name, tt.vendor, tt.product)
			}
			if len(d.Abs) != tt.axes {
				t.Errorf("got %d axes; want %d", len(d.Abs), tt.axes)
			}
			if got := len(d.Codes(EvKey)); got != tt.buttons {
				t.Errorf("got %d buttons; want %d", got, tt.buttons)
			}
			if rec.Version != tt.wantVersion {
				t.Errorf("version %q; want %q", rec.Version, tt.wantVersion)
			}
			if tt.file == "madcatz-xbox360.events" && len(rec.Events) < 400 {
				t.Errorf("got %d events; want the whole recording", len(rec.Events))
			}
			if tt.file != "madcatz-xbox360.events" && len(rec.Events) != 0 {
				t.Errorf("description has %d events; want 0", len(rec.Events))
			}
		})
	}
}

func TestLooksLikeEvemu(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"# EVEMU 1.3\n", true},
		{"N: Sony\n", true},
		{"\n\nE: 0.1 0 0 0", true},
		{string(rawEvents(Event{Type: EvAbs, Value: 3})), false},
		{"", false},
	}
	for _, tt := range tests {
		if got := looksLikeEvemu([]byte(tt.in)); got != tt.want {
			t.Errorf("looksLikeEvemu(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}
