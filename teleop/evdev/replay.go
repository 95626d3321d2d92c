package evdev

import (
	"errors"
	"sync"
	"time"

	"tandem/sim"
	"tandem/teleop"
)

// ReplayOptions controls a replay's timing.
type ReplayOptions struct {
	// Fast plays without waiting (command times still follow the
	// recording's schedule); it cannot be combined with Loop.
	Fast bool
	// Loop restarts at the end (after LoopGap) instead of disconnecting.
	Loop bool
	// Clock paces the replay (sim.WallClock when nil); tests pass a fake
	// whose After fires at once.
	Clock sim.Clock
	// OnFrame, when set, sees every frame on the replay goroutine.
	OnFrame func(*Frame)
	// Log, when set, logs the first skip of each kind (unknown events,
	// SYN_DROPPED, non-finite mappings, backwards times, capped gaps).
	Log *SkipLog
}

// LoopGap separates passes of a looping replay, so that held relative
// values decay and a one-frame recording does not spin.
const LoopGap = DefaultRelHold

// MaxReplayGap caps one wait between consecutive frames of a replay: a
// recording with a long silence (or a corrupt timestamp hours ahead) plays
// the silence as one second, so a replay never stalls. Capped gaps are
// counted (Stats.CappedGaps). One second is tandem's own choice: longer
// than any hold or decay the mapping uses (DefaultRelHold is 100 ms).
const MaxReplayGap = time.Second

// ErrFastLoop rejects a replay that would loop without waiting.
var ErrFastLoop = errors.New("evdev: a fast replay cannot loop")

// Replay plays recorded events at their recorded timing as a teleop.Source:
// a recording stands in for a live device anywhere. Times are relative to
// the first event: the first frame plays at once. A frame timed before the
// previous one plays with no delay (the Player counts the events that went
// backwards, Stats.Backwards) and a gap longer than
// MaxReplayGap waits MaxReplayGap (Stats.CappedGaps); each command's At is
// its place on that schedule. One goroutine owns the player; Latest, Stats
// and Frames are safe for concurrent use.
type Replay struct {
	*teleop.Latch
	opts   ReplayOptions
	events []Event
	mapper *Mapper
	q      StateQuerier
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	timing Stats // CappedGaps; run goroutine only

	mu     sync.Mutex
	frames int
	passes int
	stats  Stats // snapshot for Stats
}

// StartReplay starts playing events through m.
func StartReplay(events []Event, m *Mapper, q StateQuerier, opts ReplayOptions) (*Replay, error) {
	if opts.Fast && opts.Loop {
		return nil, ErrFastLoop
	}
	if opts.Clock == nil {
		opts.Clock = sim.WallClock{}
	}
	r := &Replay{Latch: teleop.NewLatch(m.Operator), opts: opts, events: events, mapper: m, q: q,
		stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r, nil
}

func (r *Replay) run() {
	defer close(r.done)
	defer r.Disconnect()
	start := r.opts.Clock.Now()
	var sched time.Duration // the current frame's place on the schedule, from start
	var done Stats          // counts of finished passes
	for {
		p := NewPlayer(r.events, r.mapper, r.q)
		p.SetLog(r.opts.Log)
		r.mapper.Epoch = start.Add(sched - p.Start())
		first := true
		var prev time.Duration
		for f := p.Next(); f != nil; f = p.Next() {
			if !first {
				sched += r.gap(f.T, prev)
			}
			first, prev = false, f.T
			at := start.Add(sched)
			if !r.wait(at) {
				return
			}
			f.Cmd.At = at
			if f.OK {
				r.Set(f.Cmd)
			}
			r.snapshot(done, p, false)
			if r.opts.OnFrame != nil {
				r.opts.OnFrame(f)
			}
		}
		r.snapshot(done, p, true)
		done = done.Add(p.Stats())
		if !r.opts.Loop {
			return
		}
		sched += LoopGap
	}
}

// gap returns how long to wait between a frame at t and the previous one
// at prev: their difference, 0 when time went backwards, at most
// MaxReplayGap.
func (r *Replay) gap(t, prev time.Duration) time.Duration {
	d := t - prev
	switch {
	case d < 0:
		return 0 // the player counted the backwards event
	case d > MaxReplayGap:
		r.timing.CappedGaps++
		r.opts.Log.NoteFrame(SkipGapCapped, t, "gap", d.String(), "played", MaxReplayGap.String())
		return MaxReplayGap
	}
	return d
}

// snapshot publishes the counts so far (finished passes, the current
// player, the timing adjustments); passEnd also counts a finished pass.
func (r *Replay) snapshot(done Stats, p *Player, passEnd bool) {
	st := done.Add(p.Stats()).Add(r.timing)
	r.mu.Lock()
	r.stats = st
	r.frames = st.Frames + st.Decays
	if passEnd {
		r.passes++
	}
	r.mu.Unlock()
}

// wait sleeps until the wall time at (unless Fast); false means stopped.
func (r *Replay) wait(at time.Time) bool {
	if r.opts.Fast {
		select {
		case <-r.stop:
			return false
		default:
			return true
		}
	}
	if d := at.Sub(r.opts.Clock.Now()); d > 0 {
		select {
		case <-r.stop:
			return false
		case <-r.opts.Clock.After(d):
		}
	}
	select {
	case <-r.stop:
		return false
	default:
		return true
	}
}

// Done is closed when the replay has ended (end of a non-looping recording
// or Close); the source then reports disconnected.
func (r *Replay) Done() <-chan struct{} { return r.done }

// Stats returns the replay's counts so far: frames played, input skipped
// and timing adjusted. Final once Done is closed.
func (r *Replay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Frames returns how many frames (decays included) have been played, and
// how many full passes.
func (r *Replay) Frames() (frames, passes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames, r.passes
}

// Close stops the replay and waits for its goroutine.
func (r *Replay) Close() error {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	return nil
}
