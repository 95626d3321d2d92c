package evdev

import (
	"time"

	"tandem/teleop"
)

// Frame is what one step of a device or recording yields: the normalised
// axes, the held buttons and the mapped command. Frames passed to an
// OnFrame callback are reused: copy what you keep.
type Frame struct {
	// T is the event time relative to the first event.
	T time.Duration
	// Axes holds the normalised value of each layout axis (Layout order).
	Axes []float64
	// Held lists the names of the held buttons.
	Held []string
	// Cmd is the mapped command; OK is false when the mapping produced a
	// non-finite action and the frame was skipped.
	Cmd teleop.Command
	OK  bool
	// Decay marks a step that is not a SYN_REPORT frame: the moment a
	// silent relative axis returned to 0.
	Decay bool
	// Resync marks a frame that ended a SYN_DROPPED resync.
	Resync bool
}

// Player steps through recorded events: each SYN_REPORT frame and each
// relative-axis decay between frames becomes a Frame, in time order. It
// never sleeps; Replay adds the timing. Not safe for concurrent use.
type Player struct {
	events    []Event
	i         int
	t0        time.Duration
	state     *State
	mapper    *Mapper
	layout    *Layout
	lastDecay time.Duration
	frame     Frame
	resyncs   int
	started   bool
	frames    int // SYN_REPORT frames and resync ends
	decays    int
	nan       int // frames whose mapped action was not finite
	lastEv    time.Duration
	backwards int // events timed before the previous event
}

// NewPlayer plays events (nil for a live device fed by Feed) through a
// mapper; q answers resyncs
// after SYN_DROPPED (nil: keep the last state).
func NewPlayer(events []Event, m *Mapper, q StateQuerier) *Player {
	p := &Player{events: events, mapper: m, layout: m.Layout, state: m.Layout.NewState(q)}
	if len(events) > 0 {
		p.started, p.t0, p.lastDecay = true, events[0].Time, events[0].Time-1
	}
	p.frame.Axes = make([]float64, m.Layout.NumAxes())
	return p
}

// SetOrigin makes event time origin the frames' time 0. By default the
// first event is time 0.
func (p *Player) SetOrigin(origin time.Duration) { p.t0 = origin }

// SetLog sets where the first skip of each kind is logged (nil: nowhere).
func (p *Player) SetLog(l *SkipLog) { p.state.Log = l }

// Stats returns the player's counts: frames, and the input its state and
// mapping skipped.
func (p *Player) Stats() Stats {
	s := p.state
	return Stats{Frames: p.frames, Decays: p.decays, UnknownType: s.UnknownType, UnknownCode: s.UnknownCode,
		Dropped: s.Dropped, Resyncs: s.Resyncs, QueryFailed: s.Failed, NaNSkips: p.nan, Backwards: p.backwards}
}

// State returns the player's device state.
func (p *Player) State() *State { return p.state }

// Duration returns the time from the first to the last event.
func (p *Player) Duration() time.Duration {
	if len(p.events) == 0 {
		return 0
	}
	return p.events[len(p.events)-1].Time - p.t0
}

// Start returns the first event's time.
func (p *Player) Start() time.Duration { return p.t0 }

// Next returns the next frame, or nil at the end.
func (p *Player) Next() *Frame {
	for p.i < len(p.events) {
		e := p.events[p.i]
		if f := p.DecayBefore(e.Time); f != nil {
			return f
		}
		p.i++
		if f := p.Feed(e); f != nil {
			return f
		}
	}
	if d, ok := p.state.NextDecay(p.lastDecay); ok {
		p.lastDecay = d
		return p.emit(d, true)
	}
	return nil
}

// Feed applies one event (live devices feed what they read) and returns
// the frame it completes, or nil.
func (p *Player) Feed(e Event) *Frame {
	if !p.started {
		p.started, p.t0, p.lastDecay, p.lastEv = true, e.Time, e.Time-1, e.Time
	}
	if e.Time < p.lastEv {
		p.backwards++
		p.state.Log.Note(SkipBackwards, e)
	}
	p.lastEv = e.Time
	if !p.state.Apply(e) {
		return nil
	}
	f := p.emit(e.Time, false)
	f.Resync = p.state.Resyncs != p.resyncs
	p.resyncs = p.state.Resyncs
	return f
}

// NextDecay returns when the next held relative value decays, if any.
func (p *Player) NextDecay() (time.Duration, bool) { return p.state.NextDecay(p.lastDecay) }

// DecayBefore returns the decay frame due strictly before event time t,
// or nil.
func (p *Player) DecayBefore(t time.Duration) *Frame {
	if d, ok := p.state.NextDecay(p.lastDecay); ok && d < t {
		p.lastDecay = d
		return p.emit(d, true)
	}
	return nil
}

func (p *Player) emit(now time.Duration, decay bool) *Frame {
	f := &p.frame
	f.T, f.Decay, f.Resync = now-p.t0, decay, false
	for i := range f.Axes {
		f.Axes[i] = p.layout.Value(i, p.state, now)
	}
	f.Held = p.layout.Held(p.state, f.Held[:0])
	f.Cmd, f.OK = p.mapper.Map(p.state, now)
	if decay {
		p.decays++
	} else {
		p.frames++
	}
	if !f.OK {
		p.nan++
		p.state.Log.NoteFrame(SkipNaN, f.T)
	}
	return f
}
