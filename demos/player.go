package demos

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"tandem/sim"
)

// A replay's speed factor is in [MinSpeed, MaxSpeed]. Below MinSpeed a
// tick's period (the recorded period divided by the speed) grows past
// anything a person waits for, and at 1e-300 it overflows time.Duration
// and spins a core (issue 15); above MaxSpeed the loop catches up rather
// than plays.
const (
	MinSpeed = 0.05
	MaxSpeed = 20
)

// ReplayConfig configures a live replay. Zero values mean defaults.
type ReplayConfig struct {
	ID    string    // session id (default "replay-<episode id>")
	Clock sim.Clock // base clock (default sim.WallClock{})
	Speed float64   // initial speed factor (default 1)
	// Paused starts the replay paused on its first frame.
	Paused bool
}

// Replay is a live session that plays back a recorded episode for viewers:
// the episode is re-simulated from its seed with its recorded actions, so
// viewers see the real bodies move; each step's Decision (source, operator,
// policy version, intervention marks) is the recorded one.
//
// Speed scales the session's clock (a ScaledClock): at 2× the loop ticks
// twice as often in wall time; the simulation itself is unchanged, so the
// replay stays exact at any speed. Pause and Play use the session's pause;
// Step advances one control step and pauses again. At the end of the
// recorded actions the session pauses and holds the last frame.
type Replay struct {
	Session *sim.Session
	Episode Episode
	clock   *ScaledClock
	player  *player
}

// NewReplay builds (but does not run) a replay session of episode id. The
// caller runs Session.Run in its own goroutine and subscribes viewers.
func NewReplay(ctx context.Context, s *Store, id int64, lookup TaskLookup, cfg ReplayConfig) (*Replay, error) {
	ep, err := s.Episode(ctx, id)
	if err != nil {
		return nil, err
	}
	steps, err := stepsOf(ctx, s.db, &ep)
	if err != nil {
		return nil, err
	}
	if err := s.checkSteps(ctx, &ep, steps); err != nil {
		return nil, err
	}
	task, err := replayTask(&ep, lookup)
	if err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = sim.WallClock{}
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if cfg.ID == "" {
		cfg.ID = fmt.Sprintf("replay-%d", ep.ID)
	}
	clock := NewScaledClock(cfg.Clock, 1)
	if err := clock.SetSpeed(cfg.Speed); err != nil {
		return nil, err
	}
	spec := task.Spec()
	p := &player{task: task, steps: steps, n: spec.ActionSize()}
	// Sub-ticked steps replay at the rate they were recorded at.
	teleop := ep.ControlHz
	for i := range steps {
		if k := len(steps[i].Subticks) / max(p.n, 1); k > 1 {
			teleop = float64(k) * ep.ControlHz
			break
		}
	}
	sess, err := sim.NewSession(task, sim.SessionConfig{
		ID: cfg.ID, Controller: p, Clock: clock, Seed: ep.Seed, ControlHz: ep.ControlHz, TeleopHz: teleop,
		ManualReset: true, Paused: cfg.Paused,
	})
	if err != nil {
		return nil, err
	}
	p.sess = sess
	return &Replay{Session: sess, Episode: ep, clock: clock, player: p}, nil
}

// Play resumes playback.
func (r *Replay) Play() error { return r.Session.Resume() }

// Pause pauses playback.
func (r *Replay) Pause() error { return r.Session.Pause() }

// Step plays one control step and pauses. If the loop is behind it may
// catch up by a few more steps (the session's MaxCatchUp).
func (r *Replay) Step() error {
	r.player.stepOnce.Store(true)
	return r.Session.Resume()
}

// SetSpeed sets the playback speed factor in [MinSpeed, MaxSpeed].
func (r *Replay) SetSpeed(x float64) error { return r.clock.SetSpeed(x) }

// Speed returns the playback speed factor.
func (r *Replay) Speed() float64 { return r.clock.Speed() }

// Restart starts the episode again from its first step.
func (r *Replay) Restart() error { return r.Session.ResetTo(r.Episode.Seed) }

// Position returns the next step to play and the number of recorded steps.
func (r *Replay) Position() (next, total int) {
	return int(r.player.next.Load()), len(r.player.steps)
}

// player is the Controller that plays recorded actions. Decide and Reset
// run on the session's loop goroutine.
type player struct {
	task     sim.Task
	steps    []Step
	n        int // action size
	sub      int // sub-tick of the current step (loop goroutine)
	sess     *sim.Session
	next     atomic.Int64
	stepOnce atomic.Bool
}

func (p *player) Reset(uint64) { p.next.Store(0); p.sub = 0 }

// CurrentMode implements sim.Moded: a replay shows recorded steps.
func (p *player) CurrentMode() sim.Mode { return "" }

// Sub implements sim.SubController: the recorded sub-tick commands of the
// step being played.
func (p *player) Sub(dst []float64) sim.Decision {
	p.sub++
	i := int(p.next.Load()) - 1
	if i >= 0 && i < len(p.steps) {
		if st := &p.steps[i]; (p.sub+1)*p.n <= len(st.Subticks) {
			copy(dst, st.Subticks[p.sub*p.n:])
		}
	}
	return sim.Decision{Holder: "replay"}
}

func (p *player) Decide(_, dst []float64) sim.Decision {
	i := int(p.next.Load())
	if i >= len(p.steps) {
		// Past the recording (an episode cut before its end): hold still
		// and stop.
		sim.HoldAction(p.task, dst)
		p.sess.Pause()
		return sim.Decision{Source: sim.Demo, Operator: "replay", Holder: "replay"}
	}
	st := &p.steps[i]
	p.sub = 0
	copy(dst, st.Action)
	d := sim.Decision{
		Source: st.Source, PolicyVersion: st.PolicyVersion, Operator: st.Operator,
		InterventionStart: st.InterventionStart, InterventionEnd: st.InterventionEnd,
		Holder: "replay", Help: st.Help,
	}
	if len(st.Subticks) > 0 {
		copy(dst, st.Subticks[:p.n])
		d.SubTicks = true
	}
	if len(st.PolicyAction) > 0 {
		d.PolicyAction.Set(st.PolicyAction)
	}
	p.next.Store(int64(i + 1))
	if p.stepOnce.Swap(false) || i+1 == len(p.steps) {
		p.sess.Pause() // applied before the next tick
	}
	return d
}

// ScaledClock runs a base clock at an adjustable speed: its time advances
// speed seconds per base second, continuously across speed changes. Safe
// for concurrent use.
type ScaledClock struct {
	base sim.Clock

	mu     sync.Mutex
	speed  float64
	baseAt time.Time
	virtAt time.Time
}

// NewScaledClock returns a clock reading base's time now and running at
// speed (values outside [MinSpeed, MaxSpeed] mean 1).
func NewScaledClock(base sim.Clock, speed float64) *ScaledClock {
	if !(speed >= MinSpeed && speed <= MaxSpeed) {
		speed = 1
	}
	now := base.Now()
	return &ScaledClock{base: base, speed: speed, baseAt: now, virtAt: now}
}

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *ScaledClock) nowLocked() time.Time {
	el := c.base.Now().Sub(c.baseAt)
	return c.virtAt.Add(time.Duration(float64(el) * c.speed))
}

// After fires once d of scaled time has passed at the current speed.
func (c *ScaledClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	s := c.speed
	c.mu.Unlock()
	return c.base.After(time.Duration(float64(d) / s))
}

// Speed returns the speed factor.
func (c *ScaledClock) Speed() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.speed
}

// SetSpeed changes the speed factor, keeping Now continuous. A factor
// outside [MinSpeed, MaxSpeed] is refused and changes nothing.
func (c *ScaledClock) SetSpeed(x float64) error {
	if !(x >= MinSpeed && x <= MaxSpeed) {
		return fmt.Errorf("demos: replay speed %g: must be in [%g, %g]", x, MinSpeed, float64(MaxSpeed))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.virtAt = c.nowLocked()
	c.baseAt = c.base.Now()
	c.speed = x
	return nil
}
