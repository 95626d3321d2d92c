package evdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

func TestEffectLayout(t *testing.T) {
	r := effect{typ: FFRumble, id: -1, length: 80, strong: 0xABCD, weak: 0x1234}.marshal()
	le := binary.LittleEndian
	if le.Uint16(r[0:]) != 0x50 || int16(le.Uint16(r[2:])) != -1 || le.Uint16(r[10:]) != 80 || le.Uint16(r[16:]) != 0xABCD || le.Uint16(r[18:]) != 0x1234 {
		t.Errorf("rumble bytes % x; want type 0x50@0, id -1@2, length 80@10, strong@16, weak@18", r)
	}
	c := effect{typ: FFConstant, id: 3, direction: 0x4000, level: -200}.marshal()
	if le.Uint16(c[0:]) != 0x52 || le.Uint16(c[2:]) != 3 || le.Uint16(c[4:]) != 0x4000 || int16(le.Uint16(c[16:])) != -200 {
		t.Errorf("constant bytes % x; want type 0x52, id 3, direction 0x4000@4, level -200@16", c)
	}
	if len(r) != 48 {
		t.Errorf("ff_effect is %d bytes; want 48", len(r))
	}
}

func TestFFDirection(t *testing.T) {
	tests := []struct {
		name string
		rad  float64
		want uint16
	}{
		{"down", -math.Pi / 2, 0x0000},
		{"left", math.Pi, 0x4000},
		{"up", math.Pi / 2, 0x8000},
		{"right", 0, 0xC000},
	}
	for _, tt := range tests {
		if got := ffDirection(tt.rad); got != tt.want {
			t.Errorf("%s: got %#04x; want %#04x", tt.name, got, tt.want)
		}
	}
}

// fakeFF records what an ffCore asks of the device.
type fakeFF struct {
	nextID  int16
	uploads []effect
	writes  [][2]int32
	erased  []int16
	fail    error
}

func (f *fakeFF) upload(b *[ffEffectSize]byte) (int16, error) {
	if f.fail != nil {
		return -1, f.fail
	}
	le := binary.LittleEndian
	e := effect{typ: le.Uint16(b[0:]), id: int16(le.Uint16(b[2:])), direction: le.Uint16(b[4:]), length: le.Uint16(b[10:]),
		strong: le.Uint16(b[16:]), weak: le.Uint16(b[18:]), level: int16(le.Uint16(b[16:]))}
	f.uploads = append(f.uploads, e)
	if e.id >= 0 {
		return e.id, nil
	}
	f.nextID++
	return f.nextID - 1, nil
}

func (f *fakeFF) writeFF(code uint16, v int32) error {
	f.writes = append(f.writes, [2]int32{int32(code), v})
	return nil
}

func (f *fakeFF) erase(id int16) error { f.erased = append(f.erased, id); return nil }

func TestFFCoreUploadsOnceThenUpdates(t *testing.T) {
	sys := &fakeFF{}
	ff := newFFCore(sys, true, true, true)
	if err := ff.Rumble(1, 0.5, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := ff.Rumble(0.2, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	if sys.uploads[0].id != -1 || sys.uploads[1].id != 0 || sys.uploads[0].strong != 0xFFFF || sys.uploads[0].weak != 0x8000 || sys.uploads[1].length != 1000 {
		t.Errorf("uploads %+v; want id -1 then the kernel's id 0, strong 0xffff weak 0x8000, length 1000", sys.uploads)
	}
	ff.Constant(0.5, 0)
	ff.Constant(0.75, math.Pi/2)
	ff.Constant(0, 0)
	ff.SetGain(0.5)
	ff.Stop()
	ff.release()
	wantWrites := [][2]int32{{0, 1}, {0, 1}, {1, 1}, {1, 0}, {int32(FFGain), 0x8000}, {0, 0}, {1, 0}}
	if len(sys.writes) != len(wantWrites) {
		t.Fatalf("writes %v; want %v", sys.writes, wantWrites)
	}
	for i := range wantWrites {
		if sys.writes[i] != wantWrites[i] {
			t.Errorf("write %d: got %v; want %v (all %v)", i, sys.writes[i], wantWrites[i], sys.writes)
		}
	}
	c := sys.uploads[3]
	if c.typ != FFConstant || c.id != 1 || c.level != int16(math.Round(0.75*0x7FFF)) || c.direction != 0x8000 {
		t.Errorf("constant update %+v; want id 1, level 0.75, direction up", c)
	}
	if len(sys.erased) != 2 {
		t.Errorf("erased %v; want both effects", sys.erased)
	}
}

func TestFFCoreRumbleOnlyEmulatesConstant(t *testing.T) {
	sys := &fakeFF{}
	ff := newFFCore(sys, true, false, false)
	if err := ff.Constant(0.5, 0); err != nil {
		t.Fatal(err)
	}
	if u := sys.uploads[0]; u.typ != FFRumble || u.length != 0 || u.strong != unit16(0.5) {
		t.Errorf("emulation %+v; want an endless rumble of strength 0.5", u)
	}
	ff.Rumble(1, 1, time.Millisecond)
	if sys.uploads[1].id != -1 {
		t.Error("contact rumble reused the emulated constant's effect")
	}
	if err := ff.SetGain(1); !errors.Is(err, ErrNoForceFeedback) {
		t.Errorf("gain on a device without FF_GAIN: %v; want ErrNoForceFeedback", err)
	}
	none := newFFCore(sys, false, false, false)
	if err := none.Rumble(1, 1, time.Second); !errors.Is(err, ErrNoForceFeedback) {
		t.Errorf("got %v; want ErrNoForceFeedback", err)
	}
	sys.fail = errors.New("EINVAL")
	if err := ff.Rumble(1, 1, time.Second); err == nil {
		t.Error("upload failure not reported")
	}
}

// recFF records ForceFeedback calls for the haptics tests.
type recFF struct{ calls []string }

func (r *recFF) Rumble(s, w float64, d time.Duration) error {
	r.calls = append(r.calls, "rumble "+d.String())
	return nil
}
func (r *recFF) Constant(level, dir float64) error {
	r.calls = append(r.calls, fmt.Sprintf("constant %.2f", level))
	return nil
}
func (r *recFF) SetGain(float64) error { return nil }
func (r *recFF) Stop() error           { return nil }

func TestHapticsContactAndHelp(t *testing.T) {
	rec := &recFF{}
	h := NewHaptics(rec, 10)
	steps := []struct {
		fx, fy float64
		help   bool
		want   []string
	}{
		{0, 0, false, nil},
		{0.1, 0, false, nil}, // below the 2% threshold
		{3, 4, false, []string{"rumble 80ms", "constant 0.50"}}, // contact starts: rumble + force 0.5
		{3, 4.01, false, nil},                    // change below 1/64: no upload
		{6, 8, false, []string{"constant 1.00"}}, // saturates at 1
		{6, 8, true, []string{"rumble 400ms"}},   // help request
		{6, 8, true, nil},                        // still asking: no repeat
		{0, 0, false, []string{"constant 0.00"}}, // release stops the force
		{math.NaN(), 1, false, nil},              // non-finite: no contact
	}
	for i, s := range steps {
		rec.calls = nil
		if err := h.Update(s.fx, s.fy, s.help); err != nil {
			t.Fatal(err)
		}
		if len(rec.calls) != len(s.want) {
			t.Errorf("step %d: calls %v; want %v", i, rec.calls, s.want)
			continue
		}
		for j := range s.want {
			if rec.calls[j] != s.want[j] {
				t.Errorf("step %d: calls %v; want %v", i, rec.calls, s.want)
			}
		}
	}
}

func TestHapticsGainAndHardCap(t *testing.T) {
	rec := &recFF{}
	h := NewHaptics(rec, 10)
	h.Gain, h.Cap = 2, 0.7
	for _, s := range []struct {
		fx, fy float64
		want   []string
	}{
		{1.5, 2, []string{"rumble 80ms", "constant 0.50"}}, // 0.25 of full scale, doubled
		{3, 4, []string{"constant 0.70"}},                  // 1.0 doubled, held at the cap
		{300, 400, nil},                                    // far beyond full scale: still the cap, nothing new
	} {
		rec.calls = nil
		if err := h.Update(s.fx, s.fy, false); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(rec.calls) != fmt.Sprint(s.want) {
			t.Errorf("force (%g, %g): calls %v; want %v", s.fx, s.fy, rec.calls, s.want)
		}
	}
}
