package evdev

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// jumpClock is a virtual clock whose After fires at once after moving time
// forward by d: replays run at recorded timing without sleeping.
type jumpClock struct {
	mu    sync.Mutex
	now   time.Time
	waits int
}

func newJumpClock() *jumpClock { return &jumpClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits++
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func waitDone(t *testing.T, d Device) {
	t.Helper()
	select {
	case <-d.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("replay did not finish")
	}
}

func TestReplayRecordedTiming(t *testing.T) {
	clk := newJumpClock()
	start := clk.Now()
	var mu sync.Mutex
	var ats []time.Time
	var ts []time.Duration
	dev, err := Open("testdata/madcatz-xbox360.events", Options{Clock: clk, ActionNames: []string{"x", "y"}, OnFrame: func(f *Frame) {
		mu.Lock()
		defer mu.Unlock()
		ats = append(ats, f.Cmd.At)
		ts = append(ts, f.T)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	waitDone(t, dev)
	if _, connected := dev.Latest(); connected {
		t.Error("source still connected after the recording ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ts) < 200 {
		t.Fatalf("%d frames; want the whole recording", len(ts))
	}
	for i := range ts {
		if want := start.Add(ts[i]); !ats[i].Equal(want) {
			t.Fatalf("frame %d at %v; want start + %v", i, ats[i], ts[i])
		}
	}
	// The virtual clock advanced exactly to the last frame.
	if got, want := clk.Now().Sub(start), ts[len(ts)-1]; got != want {
		t.Errorf("replay took %v of virtual time; want %v (the recording)", got, want)
	}
	if dev.Info().Profile != "xbox" || dev.Name() != "Mad Catz Wired Xbox 360 Controller" {
		t.Errorf("info %+v", dev.Info())
	}
	if _, ok := dev.ForceFeedback(); ok {
		t.Error("a recording offers force feedback")
	}
	if last, _ := dev.Latest(); !last.At.Equal(start.Add(ts[len(ts)-1])) {
		t.Errorf("latest command at %v; want the last frame's time", last.At)
	}
}

func TestReplayFastDoesNotWait(t *testing.T) {
	clk := newJumpClock()
	dev, err := Open("testdata/madcatz-xbox360.events", Options{Clock: clk, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, dev)
	if clk.waits != 0 {
		t.Errorf("fast replay waited %d times; want 0", clk.waits)
	}
}

func TestReplayLoops(t *testing.T) {
	clk := newJumpClock()
	dev, err := Open("testdata/madcatz-xbox360.events", Options{Clock: clk, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	r := dev.(*fileDevice).Replay
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, passes := r.Frames(); passes >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("loop did not complete two passes")
		}
		time.Sleep(time.Millisecond)
	}
	if _, connected := dev.Latest(); !connected {
		t.Error("a looping replay disconnected")
	}
	dev.Close()
	if _, connected := dev.Latest(); connected {
		t.Error("still connected after Close")
	}
	if _, err := Open("testdata/madcatz-xbox360.events", Options{Fast: true, Loop: true}); !errors.Is(err, ErrFastLoop) {
		t.Errorf("fast loop: got %v; want ErrFastLoop", err)
	}
}

// spaceMouseStream is a hand-made SpaceNavigator stream: translation and
// rotation reports alternate every 8 ms (each its own frame, zeros
// dropped by the kernel), then the puck is released and goes silent.
func spaceMouseStream(base time.Duration) []Event {
	var evs []Event
	for i := 0; i < 25; i++ {
		t := base + ms(8*i)
		if i%2 == 0 {
			evs = append(evs, ev(t, EvRel, RelX, 175), ev(t, EvRel, RelY, -350), syn(t))
		} else {
			evs = append(evs, ev(t, EvRel, RelRZ, 70), syn(t))
		}
	}
	t := base + ms(8*24+400)
	return append(evs, ev(t, EvKey, Btn0, 1), syn(t))
}

func TestSpaceMouseDecaysAfterSilence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spacemouse.raw")
	base := 1700000000 * time.Second // raw files keep the kernel's clock
	if err := os.WriteFile(path, rawEvents(spaceMouseStream(base)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "pass a profile") {
		t.Errorf("raw file without a profile: got %v; want a hint to pass a profile", err)
	}
	var mu sync.Mutex
	var frames []Frame
	dev, err := Open(path, Options{Profile: "spacemouse", Fast: true, ActionNames: []string{"dx", "dy", "dphi", "jaw"}, OnFrame: func(f *Frame) {
		mu.Lock()
		frames = append(frames, Frame{T: f.T, Cmd: f.Cmd, Decay: f.Decay, OK: f.OK})
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, dev)
	mu.Lock()
	defer mu.Unlock()
	for _, f := range frames {
		a := f.Cmd.Action.Slice()
		ms := f.T.Milliseconds()
		switch {
		case !f.Decay && ms <= 192 && ms >= 8:
			// Translation held across rotation frames and vice versa.
			if a[0] != 0.5 || a[1] != 1 || math.Abs(a[2]+0.2) > 1e-12 || a[3] != 0 || !f.Cmd.Engaged {
				t.Errorf("t=%dms moving: action %v engaged %v; want [0.5 1 -0.2 0] engaged", ms, a, f.Cmd.Engaged)
			}
		case f.Decay:
			// Decays land exactly one hold after each axis's last report.
			if ms != 192+100 && ms != 184+100 {
				t.Errorf("decay at %dms; want 284ms (rotation) and 292ms (translation)", ms)
			}
		}
	}
	var decays []int64
	for _, f := range frames {
		if f.Decay {
			decays = append(decays, f.T.Milliseconds())
		}
	}
	if len(decays) != 2 || decays[0] != 284 || decays[1] != 292 {
		t.Fatalf("decays at %v ms; want [284 292]", decays)
	}
	last := frames[len(frames)-1]
	if a := last.Cmd.Action.Slice(); a[0] != 0 || a[1] != 0 || a[2] != 0 || last.Cmd.Engaged {
		t.Errorf("after release: action %v engaged %v; want zeros, not engaged", a, last.Cmd.Engaged)
	}
	if !last.Cmd.Buttons.Has(1<<2) || last.T != ms(592) {
		t.Errorf("last frame at %v buttons %b; want the left button (grip) at 592ms", last.T, last.Cmd.Buttons)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	desc := filepath.Join(dir, "pad.desc")
	b, _ := os.ReadFile("testdata/microsoft-xbox360-pad.desc")
	os.WriteFile(desc, b, 0o600)
	bad := filepath.Join(dir, "bad.events")
	os.WriteFile(bad, []byte("# EVEMU 1.3\nN: x\nE: zz\n"), 0o600)
	trunc := filepath.Join(dir, "trunc.raw")
	os.WriteFile(trunc, rawEvents(Event{Type: EvAbs})[:20], 0o600)
	tests := []struct {
		name, path string
		opts       Options
		want       string
	}{
		{"missing", filepath.Join(dir, "nope"), Options{}, "no such file"},
		{"directory", dir, Options{}, "is a directory"},
		{"description only", desc, Options{}, "no events"},
		{"syntax error names line", bad, Options{}, "line 3"},
		{"truncated raw", trunc, Options{Profile: "xbox"}, "truncated input_event at byte 0"},
		{"unknown profile", "testdata/madcatz-xbox360.events", Options{Profile: "theremin"}, "valid: xbox"},
		{"bad rule", "testdata/madcatz-xbox360.events", Options{Rule: "psychic"}, "unknown takeover rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev, err := Open(tt.path, tt.opts)
			if err == nil {
				dev.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want it to contain %q", err, tt.want)
			}
		})
	}
}
