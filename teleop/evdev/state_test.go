package evdev

import (
	"errors"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func ev(t time.Duration, typ, code uint16, v int32) Event {
	return Event{Time: t, Type: typ, Code: code, Value: v}
}

func syn(t time.Duration) Event { return Event{Time: t, Type: EvSyn, Code: SynReport} }

func dropped(t time.Duration) Event { return Event{Time: t, Type: EvSyn, Code: SynDropped} }

// fakeQuerier returns recorded state, as EVIOCGKEY/EVIOCGABS would.
type fakeQuerier struct {
	keys  []uint16
	abs   map[uint16]int32
	err   error
	calls int
}

func (q *fakeQuerier) QueryKeys(bits []byte) error {
	q.calls++
	if q.err != nil {
		return q.err
	}
	for _, k := range q.keys {
		bits[k/8] |= 1 << (k % 8)
	}
	return nil
}

func (q *fakeQuerier) QueryAbs(code uint16) (AbsInfo, error) {
	if q.err != nil {
		return AbsInfo{}, q.err
	}
	return AbsInfo{Value: q.abs[code], Min: -32768, Max: 32767}, nil
}

func TestStateFramesAreAtomic(t *testing.T) {
	s := NewState(nil)
	if s.Apply(ev(ms(1), EvAbs, AbsX, 500)) {
		t.Fatal("a value event completed a frame")
	}
	if s.Abs(AbsX) != 0 {
		t.Errorf("ABS_X %d before SYN_REPORT; want 0 (frames apply whole)", s.Abs(AbsX))
	}
	if !s.Apply(syn(ms(1))) {
		t.Fatal("SYN_REPORT did not complete a frame")
	}
	if s.Abs(AbsX) != 500 || s.Time != ms(1) {
		t.Errorf("ABS_X %d at %v; want 500 at 1ms", s.Abs(AbsX), s.Time)
	}
	for _, e := range []Event{ev(ms(2), EvKey, BtnSouth, 1), ev(ms(2), EvKey, BtnEast, 2), syn(ms(2))} {
		s.Apply(e)
	}
	if !s.Key(BtnSouth) || !s.Key(BtnEast) {
		t.Error("press (1) and autorepeat (2) must both read as held")
	}
	s.Apply(ev(ms(3), EvKey, BtnSouth, 0))
	s.Apply(syn(ms(3)))
	if s.Key(BtnSouth) {
		t.Error("released button still held")
	}
	if got := s.Keys(nil); len(got) != 1 || got[0] != BtnEast {
		t.Errorf("held %v; want [BTN_EAST]", got)
	}
}

func TestStateSynDroppedResync(t *testing.T) {
	q := &fakeQuerier{keys: []uint16{BtnWest}, abs: map[uint16]int32{AbsX: -20000, AbsY: 3000}}
	s := NewState(q)
	s.SetAbs(AbsX, 0)
	s.SetAbs(AbsY, 0)
	stream := []Event{
		ev(ms(1), EvKey, BtnSouth, 1), syn(ms(1)),
		ev(ms(2), EvAbs, AbsX, 100), // part of the frame cut by the overflow
		dropped(ms(3)),
		ev(ms(4), EvAbs, AbsX, 7777), // ignored: up to and including the next SYN_REPORT
		ev(ms(4), EvKey, BtnNorth, 1),
		syn(ms(4)),
		ev(ms(5), EvAbs, AbsY, 42), syn(ms(5)),
	}
	var frames []time.Duration
	for i, e := range stream {
		if s.Apply(e) {
			frames = append(frames, e.Time)
			if i == 6 {
				// Right after the resync: the querier's state, nothing
				// from the dropped span.
				if s.Abs(AbsX) != -20000 || s.Abs(AbsY) != 3000 {
					t.Errorf("after resync X %d Y %d; want -20000 3000", s.Abs(AbsX), s.Abs(AbsY))
				}
				if s.Key(BtnSouth) || s.Key(BtnNorth) || !s.Key(BtnWest) {
					t.Errorf("after resync held %v; want only BTN_WEST", s.Keys(nil))
				}
			}
		}
	}
	if want := []time.Duration{ms(1), ms(4), ms(5)}; len(frames) != 3 || frames[1] != want[1] || frames[2] != want[2] {
		t.Errorf("frames at %v; want %v", frames, want)
	}
	if s.Dropped != 1 || s.Resyncs != 1 || s.Failed != 0 {
		t.Errorf("dropped %d resyncs %d failed %d; want 1 1 0", s.Dropped, s.Resyncs, s.Failed)
	}
	if s.Abs(AbsY) != 42 {
		t.Errorf("frame after resync: ABS_Y %d; want 42", s.Abs(AbsY))
	}
}

func TestStateResyncWithoutQuerierKeepsState(t *testing.T) {
	s := NewState(nil)
	for _, e := range []Event{ev(0, EvAbs, AbsX, 9), ev(0, EvRel, RelX, 50), syn(0), dropped(ms(1)), ev(ms(1), EvAbs, AbsX, 1), syn(ms(2))} {
		s.Apply(e)
	}
	if s.Abs(AbsX) != 9 || s.Rel(RelX, ms(2)) != 0 {
		t.Errorf("X %d rel %d; want 9 kept and relative cleared", s.Abs(AbsX), s.Rel(RelX, ms(2)))
	}
}

func TestStateResyncQueryFailure(t *testing.T) {
	q := &fakeQuerier{err: errors.New("ENODEV")}
	s := NewState(q)
	s.SetAbs(AbsX, 5)
	for _, e := range []Event{dropped(0), syn(ms(1))} {
		s.Apply(e)
	}
	if s.Failed != 2 || s.Abs(AbsX) != 5 {
		t.Errorf("failed %d X %d; want 2 failures and X kept at 5", s.Failed, s.Abs(AbsX))
	}
}

func TestStateRelativeDecay(t *testing.T) {
	s := NewState(nil)
	s.Apply(ev(ms(10), EvRel, RelX, 200))
	s.Apply(ev(ms(10), EvRel, RelRZ, -50))
	s.Apply(syn(ms(10)))
	s.Apply(ev(ms(18), EvRel, RelX, 210)) // RZ silent from here on
	s.Apply(syn(ms(18)))
	tests := []struct {
		now    time.Duration
		x, rz  int32
		reason string
	}{
		{ms(18), 210, -50, "both held"},
		{ms(109), 210, -50, "RZ 99 ms old"},
		{ms(110), 210, 0, "RZ hold of 100 ms over"},
		{ms(117), 210, 0, "X 99 ms old"},
		{ms(118), 0, 0, "X hold over"},
	}
	for _, tt := range tests {
		if x, rz := s.Rel(RelX, tt.now), s.Rel(RelRZ, tt.now); x != tt.x || rz != tt.rz {
			t.Errorf("%s at %v: got x %d rz %d; want %d %d", tt.reason, tt.now, x, rz, tt.x, tt.rz)
		}
	}
	d, ok := s.NextDecay(-1)
	if !ok || d != ms(110) {
		t.Errorf("next decay %v %v; want 110ms", d, ok)
	}
	if d, ok = s.NextDecay(ms(110)); !ok || d != ms(118) {
		t.Errorf("decay after 110ms: %v %v; want 118ms", d, ok)
	}
	if _, ok = s.NextDecay(ms(118)); ok {
		t.Error("a decay after every axis decayed")
	}
}

func TestStateUnterminatedStreamIsBounded(t *testing.T) {
	s := NewState(nil)
	for i := 0; i < 5*maxPending; i++ {
		s.Apply(ev(0, EvAbs, AbsX, int32(i)))
	}
	if len(s.pending) > maxPending {
		t.Errorf("pending grew to %d; want at most %d", len(s.pending), maxPending)
	}
}

func TestStateApplyDoesNotAllocate(t *testing.T) {
	s := NewState(nil)
	frame := []Event{ev(0, EvAbs, AbsX, 1), ev(0, EvAbs, AbsY, 2), ev(0, EvKey, BtnSouth, 1), ev(0, EvRel, RelX, 4), syn(0)}
	allocs := testing.AllocsPerRun(200, func() {
		for _, e := range frame {
			s.Apply(e)
		}
	})
	if allocs != 0 {
		t.Errorf("Apply allocates %v times per frame; want 0", allocs)
	}
}
