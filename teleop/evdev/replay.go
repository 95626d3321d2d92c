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
	// recording); it cannot be combined with Loop.
	Fast bool
	// Loop restarts at the end (after LoopGap) instead of disconnecting.
	Loop bool
	// Clock paces the replay (sim.WallClock when nil); tests pass a fake
	// whose After fires at once.
	Clock sim.Clock
	// Relative says event times are already relative to the recording's
	// start (evemu); otherwise the first event is time 0.
	Relative bool
	// OnFrame, when set, sees every frame on the replay goroutine.
	OnFrame func(*Frame)
}

// LoopGap separates passes of a looping replay, so that held relative
// values decay and a one-frame recording does not spin.
const LoopGap = DefaultRelHold

// ErrFastLoop rejects a replay that would loop without waiting.
var ErrFastLoop = errors.New("evdev: a fast replay cannot loop")

// Replay plays recorded events at their recorded timing as a teleop.Source:
// a recording stands in for a live device anywhere. One goroutine owns the
// player; Latest is safe for concurrent use.
type Replay struct {
	*teleop.Latch
	opts   ReplayOptions
	events []Event
	mapper *Mapper
	q      StateQuerier
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	frames int
	passes int
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
	clk := r.opts.Clock
	start := clk.Now()
	offset := time.Duration(0)
	for {
		p := NewPlayer(r.events, r.mapper, r.q)
		if r.opts.Relative {
			p.SetOrigin(0)
		}
		r.mapper.Epoch = start.Add(offset - p.Start())
		for f := p.Next(); f != nil; f = p.Next() {
			if !r.wait(start.Add(offset + f.T)) {
				return
			}
			if f.OK {
				r.Set(f.Cmd)
			}
			r.mu.Lock()
			r.frames++
			r.mu.Unlock()
			if r.opts.OnFrame != nil {
				r.opts.OnFrame(f)
			}
		}
		r.mu.Lock()
		r.passes++
		r.mu.Unlock()
		if !r.opts.Loop {
			return
		}
		offset += p.Duration() + LoopGap
	}
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

// Frames returns how many frames have been played, and Passes how many
// full passes.
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
