package evdev

import "time"

// StateQuerier re-reads a device's state after SYN_DROPPED. A live device
// answers with EVIOCGKEY and EVIOCGABS; tests pass a fake holding recorded
// state.
type StateQuerier interface {
	// QueryKeys fills bits (at least 96 bytes, code c at byte c/8, bit c%8)
	// with the keys held now.
	QueryKeys(bits []byte) error
	// QueryAbs returns the axis's absinfo; only Value is used.
	QueryAbs(code uint16) (AbsInfo, error)
}

// keyBytes is the size of a key bitmap: KEY_MAX+1 bits.
const keyBytes = (int(KeyMax) + 1) / 8

// maxPending bounds one frame's buffered events; a stream that never sends
// SYN_REPORT (corrupt input) has its events applied in batches of this size.
const maxPending = 1024

// DefaultRelHold is how long a relative axis keeps its last value without a
// new event. The kernel passes EV_REL only when non-zero, so a released
// SpaceMouse puck goes silent; the SpaceNavigator reports about every 8 ms
// (input-reference.md), alternating translation and rotation frames, so
// 100 ms spans many reports while stopping promptly.
const DefaultRelHold = 100 * time.Millisecond

// State is the raw state of one device assembled from whole SYN_REPORT
// frames: key bitmap, absolute axis values, relative axis values with the
// time each was last reported. It is owned by one goroutine (the reader);
// Apply does not allocate once the pending buffer has grown to a frame.
type State struct {
	// Time is the event time of the last committed frame.
	Time time.Duration
	// RelHold is how long a relative value survives without a new event
	// (DefaultRelHold when zero).
	RelHold time.Duration
	// Dropped counts SYN_DROPPED events; Resyncs counts state re-reads
	// (Failed counts queries that returned an error).
	Dropped, Resyncs, Failed int
	// UnknownType and UnknownCode count events skipped because their type
	// is not a Linux event type or their code is above the type's maximum.
	UnknownType, UnknownCode int
	// Log, when set, logs the first skip of each kind.
	Log *SkipLog

	keys    [keyBytes]byte
	abs     [AbsMax + 1]int32
	absMask uint64
	rel     [RelMax + 1]int32
	relAt   [RelMax + 1]time.Duration

	pending  []Event
	dropping bool
	querier  StateQuerier
}

// NewState returns an empty state that resyncs through q (nil: keep the
// last committed state after SYN_DROPPED).
func NewState(q StateQuerier) *State {
	return &State{pending: make([]Event, 0, 64), querier: q}
}

// SetAbs sets an absolute axis's value and marks it present so resyncs
// re-read it.
func (s *State) SetAbs(code uint16, v int32) {
	if code <= AbsMax {
		s.abs[code] = v
		s.absMask |= 1 << code
	}
}

// Abs returns an absolute axis's raw value.
func (s *State) Abs(code uint16) int32 {
	if code > AbsMax {
		return 0
	}
	return s.abs[code]
}

// Key reports whether a key or button is held.
func (s *State) Key(code uint16) bool {
	if code > KeyMax {
		return false
	}
	return s.keys[code/8]&(1<<(code%8)) != 0
}

// Keys appends the codes of the held keys to dst.
func (s *State) Keys(dst []uint16) []uint16 {
	for i, b := range s.keys {
		for b != 0 {
			j := uint16(0)
			for b&(1<<j) == 0 {
				j++
			}
			dst = append(dst, uint16(i)*8+j)
			b &^= 1 << j
		}
	}
	return dst
}

func (s *State) hold() time.Duration {
	if s.RelHold > 0 {
		return s.RelHold
	}
	return DefaultRelHold
}

// Rel returns a relative axis's value at event time now: the last reported
// value while fewer than RelHold have passed since it, else 0.
func (s *State) Rel(code uint16, now time.Duration) int32 {
	if code > RelMax || s.rel[code] == 0 || now-s.relAt[code] >= s.hold() {
		return 0
	}
	return s.rel[code]
}

// NextDecay returns the earliest event time after both the last frame and
// after at which a held relative value decays to 0, and whether there is one.
func (s *State) NextDecay(after time.Duration) (time.Duration, bool) {
	if s.Time > after {
		after = s.Time
	}
	var at time.Duration
	found := false
	for c, v := range s.rel {
		if v == 0 {
			continue
		}
		e := s.relAt[c] + s.hold()
		if e > after && (!found || e < at) {
			at, found = e, true
		}
	}
	return at, found
}

// Apply feeds one event and reports whether it completed a frame (a
// SYN_REPORT, or the end of a SYN_DROPPED resync). Events of unknown type
// or with an out-of-range code are skipped and counted (UnknownType,
// UnknownCode); the first of each kind is logged through Log.
func (s *State) Apply(e Event) bool {
	if !knownType(e.Type) {
		s.UnknownType++
		s.Log.Note(SkipUnknownType, e)
		return false
	}
	if !knownCode(e.Type, e.Code) {
		s.UnknownCode++
		s.Log.Note(SkipUnknownCode, e)
		return false
	}
	if s.dropping {
		// Ignore everything up to and including the next SYN_REPORT,
		// then re-read the state (kernel docs, libevdev).
		if e.Type == EvSyn && e.Code == SynReport {
			s.dropping = false
			s.resync()
			s.Time = e.Time
			return true
		}
		return false
	}
	if e.Type == EvSyn {
		switch e.Code {
		case SynReport:
			s.commit(e.Time)
			s.Time = e.Time
			return true
		case SynDropped:
			s.pending = s.pending[:0]
			s.dropping = true
			s.Dropped++
			s.Log.Note(SkipDropped, e)
		}
		return false
	}
	if len(s.pending) == maxPending {
		s.commit(e.Time)
	}
	s.pending = append(s.pending, e)
	return false
}

func (s *State) commit(t time.Duration) {
	for _, e := range s.pending {
		switch e.Type {
		case EvKey:
			if e.Code <= KeyMax {
				if e.Value != 0 {
					s.keys[e.Code/8] |= 1 << (e.Code % 8)
				} else {
					s.keys[e.Code/8] &^= 1 << (e.Code % 8)
				}
			}
		case EvAbs:
			s.SetAbs(e.Code, e.Value)
		case EvRel:
			if e.Code <= RelMax {
				s.rel[e.Code] = e.Value
				s.relAt[e.Code] = t
			}
		}
	}
	s.pending = s.pending[:0]
}

// resync re-reads keys and axes; relative axes restart at 0 because the
// kernel keeps no state for them.
func (s *State) resync() {
	s.Resyncs++
	s.rel = [RelMax + 1]int32{}
	if s.querier == nil {
		return
	}
	var keys [keyBytes]byte
	if err := s.querier.QueryKeys(keys[:]); err != nil {
		s.Failed++
	} else {
		s.keys = keys
	}
	for c := uint16(0); c <= AbsMax; c++ {
		if s.absMask&(1<<c) == 0 {
			continue
		}
		a, err := s.querier.QueryAbs(c)
		if err != nil {
			s.Failed++
			continue
		}
		s.abs[c] = a.Value
	}
}

// Reset clears the state to nothing held and its counters to 0 (used
// when a replay loops).
func (s *State) Reset() {
	q, p, h, l := s.querier, s.pending[:0], s.RelHold, s.Log
	*s = State{querier: q, pending: p, RelHold: h, Log: l}
}
