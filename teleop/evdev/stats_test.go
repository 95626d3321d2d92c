package evdev

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer is a slog text logger into a buffer safe for the replay
// goroutine and the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// Unknown types and codes are skipped, counted by kind and logged once per
// kind; they never change the state. Known types tandem ignores (EV_MSC)
// are not skips.
func TestStateCountsUnknownEvents(t *testing.T) {
	var logs logBuffer
	s := NewState(nil)
	s.Log = &SkipLog{Logger: logs.logger(), Source: "test"}
	for _, e := range []Event{
		ev(0, 0x1e, 0, 1),         // unknown type
		ev(0, 0x07, 3, 1),         // unknown type (gap in the table)
		ev(0, EvAbs, 0x50, 9),     // above ABS_MAX
		ev(0, EvKey, KeyMax+1, 1), // above KEY_MAX
		ev(0, EvRel, RelMax+1, 3), // above REL_MAX
		ev(0, EvSyn, 7, 0),        // not a SYN_ code
		ev(0, EvMsc, 4, 0x90001),  // MSC_SCAN: known, ignored
		ev(0, EvAbs, AbsX, 100),   // good
		ev(0, 0x1e, 0, 2),         // second unknown type: counted, not logged
		syn(0),
	} {
		s.Apply(e)
	}
	if s.UnknownType != 3 || s.UnknownCode != 4 {
		t.Errorf("unknown type %d code %d; want 3 4", s.UnknownType, s.UnknownCode)
	}
	if s.Abs(AbsX) != 100 || s.Key(KeyMax) || s.Time != 0 {
		t.Errorf("state X %d; want 100 and nothing else", s.Abs(AbsX))
	}
	out := logs.String()
	if n := strings.Count(out, "unknown type"); n != 1 {
		t.Errorf("unknown type logged %d times; want once:\n%s", n, out)
	}
	if n := strings.Count(out, "above their type's maximum"); n != 1 {
		t.Errorf("unknown code logged %d times; want once:\n%s", n, out)
	}
	if !strings.Contains(out, "type=EV_0x1e") || !strings.Contains(out, "code=ABS_0x50") {
		t.Errorf("log does not name the first offending events:\n%s", out)
	}
}

// Skips after the first of their kind do not allocate.
func TestStateSkipDoesNotAllocate(t *testing.T) {
	var logs logBuffer
	s := NewState(nil)
	s.Log = &SkipLog{Logger: logs.logger()}
	bad := []Event{ev(0, 0x1e, 0, 1), ev(0, EvAbs, 0x50, 1), dropped(0), syn(0)}
	for _, e := range bad {
		s.Apply(e)
	}
	allocs := testing.AllocsPerRun(200, func() {
		for _, e := range bad {
			s.Apply(e)
		}
	})
	if allocs != 0 {
		t.Errorf("skips allocate %v times; want 0", allocs)
	}
}

// A player's Stats add up the state's and the mapping's skips.
func TestPlayerStats(t *testing.T) {
	d := loadDesc(t, "microsoft-xbox360-pad.desc")
	d.Abs[AbsX] = AbsInfo{Min: 0, Max: 0} // broken range: NaN
	mp, err := Resolve(d, Options{ActionNames: []string{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	p := NewPlayer([]Event{
		ev(0, EvAbs, AbsX, 0), syn(0),
		ev(ms(8), 0x1e, 0, 0), ev(ms(8), EvAbs, 0x50, 0), syn(ms(8)),
		dropped(ms(16)), ev(ms(16), EvAbs, AbsY, 5), syn(ms(24)),
	}, mp, nil)
	p.SetLog(&SkipLog{Logger: logs.logger()})
	for f := p.Next(); f != nil; f = p.Next() {
	}
	want := Stats{Frames: 3, UnknownType: 1, UnknownCode: 1, Dropped: 1, Resyncs: 1, NaNSkips: 3}
	if got := p.Stats(); got != want {
		t.Errorf("got %+v; want %+v", got, want)
	}
	out := logs.String()
	for _, msg := range []string{"unknown type", "above their type's maximum", "buffer overflowed", "not finite"} {
		if strings.Count(out, msg) != 1 {
			t.Errorf("%q logged %d times; want once:\n%s", msg, strings.Count(out, msg), out)
		}
	}
}

// writeEvemu writes the Xbox 360 pad's description followed by the given
// E: lines.
func writeEvemu(t *testing.T, lines ...string) string {
	t.Helper()
	desc, err := os.ReadFile("testdata/microsoft-xbox360-pad.desc")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pad.events")
	body := strings.TrimRight(string(desc), "\n") + "\n" + strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// replayTimes replays path on a jump clock and returns each frame's time,
// its command's At relative to the start, the virtual time the replay
// took, and the device's final stats.
func replayTimes(t *testing.T, path string, logs *logBuffer) (ts, ats []time.Duration, took time.Duration, st Stats) {
	t.Helper()
	clk := newJumpClock()
	start := clk.Now()
	var mu sync.Mutex
	dev, err := Open(path, Options{Clock: clk, Logger: logs.logger(), OnFrame: func(f *Frame) {
		mu.Lock()
		defer mu.Unlock()
		if !f.Decay {
			ts = append(ts, f.T)
			ats = append(ats, f.Cmd.At.Sub(start))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	waitDone(t, dev)
	mu.Lock()
	defer mu.Unlock()
	return ts, ats, clk.Now().Sub(start), dev.Stats()
}

func TestReplayTiming(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name  string
		lines []string
		ats   []time.Duration // schedule of the SYN_REPORT frames
		took  time.Duration
		back  int
		gaps  int
		log   string
	}{
		{"relative to the first event", []string{
			"E: 1000.000000 0003 0000 1000", "E: 1000.000000 0000 0000 0000",
			"E: 1000.050000 0003 0000 2000", "E: 1000.050000 0000 0000 0000",
		}, []time.Duration{0, ms(50)}, ms(50), 0, 0, ""},
		{"backwards plays at once", []string{
			"E: 0.100000 0003 0000 1000", "E: 0.100000 0000 0000 0000",
			"E: 0.050000 0003 0000 2000", "E: 0.050000 0000 0000 0000",
			"E: 0.080000 0003 0000 3000", "E: 0.080000 0000 0000 0000",
		}, []time.Duration{0, 0, ms(30)}, ms(30), 1, 0, "goes backwards"},
		{"long gap capped", []string{
			"E: 0.000000 0003 0000 1000", "E: 0.000000 0000 0000 0000",
			"E: 3600.000000 0003 0000 2000", "E: 3600.000000 0000 0000 0000",
			"E: 3600.010000 0003 0000 3000", "E: 3600.010000 0000 0000 0000",
			"E: 7200.000000 0003 0000 4000", "E: 7200.000000 0000 0000 0000",
		}, []time.Duration{0, s, s + ms(10), 2*s + ms(10)}, 2*s + ms(10), 0, 2, "long gap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			ts, ats, took, st := replayTimes(t, writeEvemu(t, tc.lines...), &logs)
			if len(ats) != len(tc.ats) {
				t.Fatalf("%d frames (t %v); want %d", len(ats), ts, len(tc.ats))
			}
			for i := range ats {
				if ats[i] != tc.ats[i] {
					t.Errorf("frame %d (t %v) applied at start+%v; want start+%v", i, ts[i], ats[i], tc.ats[i])
				}
			}
			if ts[0] != 0 {
				t.Errorf("first frame t %v; want 0 (relative to the first event)", ts[0])
			}
			if took != tc.took {
				t.Errorf("replay took %v of virtual time; want %v", took, tc.took)
			}
			if st.Backwards != tc.back || st.CappedGaps != tc.gaps || st.Frames != len(tc.ats) {
				t.Errorf("stats %+v; want backwards %d capped %d frames %d", st, tc.back, tc.gaps, len(tc.ats))
			}
			out := logs.String()
			if tc.log != "" && strings.Count(out, tc.log) != 1 {
				t.Errorf("%q logged %d times; want once:\n%s", tc.log, strings.Count(out, tc.log), out)
			}
			if tc.log == "" && out != "" {
				t.Errorf("clean recording logged:\n%s", out)
			}
		})
	}
}

// Stats add up across the passes of a looping replay.
func TestReplayLoopStatsAccumulate(t *testing.T) {
	path := writeEvemu(t, "E: 0.000000 001e 0000 1", "E: 0.000000 0000 0000 0000", "E: 0.010000 0000 0000 0000")
	var logs logBuffer
	dev, err := Open(path, Options{Clock: newJumpClock(), Loop: true, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	r := dev.(*fileDevice).Replay
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, passes := r.Frames(); passes >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("loop did not complete three passes")
		}
		time.Sleep(time.Millisecond)
	}
	dev.Close()
	st := dev.Stats()
	if st.UnknownType < 3 || st.Frames < 6 {
		t.Errorf("stats %+v; want at least 3 unknown types and 6 frames over 3 passes", st)
	}
	if n := strings.Count(logs.String(), "unknown type"); n != 1 {
		t.Errorf("unknown type logged %d times over the passes; want once", n)
	}
}
