package teleop

import (
	"math"
	"time"

	"tandem/sim"
)

// Decide implements sim.Controller: it picks who acts this tick and writes
// the executed action into dst. Loop goroutine only; it does not allocate
// once the request queue and state snapshot have grown to their working
// size.
//
// Order within a tick: queued calls (policy swap, mode, take over, hand
// back, request) are applied; the policy acts (not in teleop mode);
// observers watch; every source is sampled once; authority is settled; the
// action is built. A command set on a source before Decide is therefore
// applied by this Decide.
func (a *Arbiter) Decide(obs, dst []float64) sim.Decision {
	a.beginTick()
	var d sim.Decision
	var proposed []float64
	if a.mode != sim.ModeTeleop && a.policy != nil {
		a.policy.Act(obs, a.pa)
		if finite(a.pa) {
			proposed = a.pa
			d.PolicyAction.Set(a.pa)
			d.PolicyVersion = a.version
		} else {
			a.badPolicy++
		}
		if h, ok := a.policy.(HelpRequester); ok && h.NeedsHelp() {
			d.Help = true
		}
	}
	for _, s := range a.live {
		if s.needsReset {
			s.needsReset = false
			if r, ok := s.src.(sim.Resetter); ok {
				r.Reset(a.seed)
			}
		}
		if s.observer != nil {
			s.observer.Observe(obs, proposed)
		}
	}
	a.sample()
	a.applyOps()
	a.arbitrate()

	var lat latencySample
	switch {
	case a.holder != nil:
		d.Source = sim.Demo
		if a.mode == sim.ModeShared {
			d.Source = sim.Human
		}
		d.Operator = a.holder.id
		lat = a.humanAction(dst)
	case a.mode == sim.ModeAuto || a.mode == sim.ModeShared && !a.holding:
		d.Source = sim.Robot
		if proposed != nil {
			copy(dst, proposed)
		} else {
			a.hold(dst)
		}
		a.targetOK = false
	default: // teleop without an operator, or holding after a disconnect
		d.Source = sim.Demo
		if a.mode == sim.ModeShared {
			d.Source = sim.Human
			d.Help = true
		}
		d.Operator = a.lastID
		a.holdTarget(dst)
	}
	human := d.Source == sim.Human
	if human && !a.lastHuman {
		d.InterventionStart = true
		a.interv++
		a.total++
	}
	if !human && a.lastHuman {
		d.InterventionEnd = true
	}
	a.lastHuman = human
	a.ticks++
	a.lastSrc, a.lastOp, a.help = d.Source, d.Operator, d.Help
	a.endTick(lat)
	return d
}

// Reset implements sim.Resetter: a new episode starts from seed. The
// policy and every source that is a sim.Resetter are reset; in shared mode
// the policy holds authority again. Loop goroutine only.
func (a *Arbiter) Reset(seed uint64) {
	a.seed = seed
	if r, ok := a.policy.(sim.Resetter); ok {
		r.Reset(seed)
	}
	a.mu.Lock()
	a.live = append(a.live[:0], a.sources...)
	a.mu.Unlock()
	for _, s := range a.live {
		s.needsReset = false
		if r, ok := s.src.(sim.Resetter); ok {
			r.Reset(seed)
		}
	}
	a.lastHuman, a.interv, a.targetOK, a.help = false, 0, false, false
	a.lastSrc, a.lastOp = "", ""
	if a.mode == sim.ModeShared {
		if a.holder != nil {
			a.drop(false)
		}
		a.holding = false
	}
	a.endTick(latencySample{})
}

// beginTick takes what concurrent callers queued since the last tick.
func (a *Arbiter) beginTick() {
	a.mu.Lock()
	var swapped sim.Policy
	if a.policyPending {
		a.policy, a.version = a.nextPolicy, a.nextVersion
		a.nextPolicy, a.policyPending = nil, false
		swapped = a.policy
	}
	if a.nextMode != "" {
		a.setMode(a.nextMode)
		a.nextMode = ""
	}
	a.opsSpare, a.ops = a.ops, a.opsSpare[:0]
	a.live = append(a.live[:0], a.sources...)
	a.mu.Unlock()
	if r, ok := swapped.(sim.Resetter); ok {
		r.Reset(a.seed)
	}
}

// setMode switches mode. Operators keep authority only from shared to
// teleop (the intervening human goes on as the demonstrator); every other
// switch starts with the policy (or, in teleop, the first operator).
func (a *Arbiter) setMode(m sim.Mode) {
	if m == a.mode {
		return
	}
	if !(a.mode == sim.ModeShared && m == sim.ModeTeleop) && a.holder != nil {
		a.drop(false)
	}
	a.holding = false
	a.mode = m
}

func (a *Arbiter) sample() {
	for _, s := range a.live {
		s.cmd, s.connected = s.src.Latest()
		if !s.cmd.Engaged {
			s.suppressed = false
		}
		s.engaged = s.connected && s.cmd.Engaged && !s.cmd.Buttons.Has(HandBack) && !s.suppressed
	}
}

type latencySample struct {
	ok bool
	d  time.Duration
}

// humanAction builds the holder's action: bad commands and the clutch hold
// still; task-space commands pass as they are; device commands are mapped
// from the camera frame and scaled, then integrated from the hold action
// for absolute-position tasks.
func (a *Arbiter) humanAction(dst []float64) latencySample {
	h := a.holder
	c := &h.cmd
	if c.Action.Len() != len(dst) || !finite(c.Action.Slice()) {
		a.rejected++
		a.holdTarget(dst)
		return latencySample{}
	}
	var lat latencySample
	if a.cfg.Clock != nil && !c.At.IsZero() && !c.At.Equal(h.lastAt) {
		h.lastAt = c.At
		lat = latencySample{ok: true, d: a.cfg.Clock.Now().Sub(c.At)}
	}
	switch {
	case c.Clutch:
		a.holdTarget(a.tmp)
		Clutched(dst, c.Action.Slice(), a.tmp, a.axes)
	case h.taskSpace:
		copy(dst, c.Action.Slice())
		a.targetOK = false
	default:
		var cam sim.Pose
		if a.viewer != nil {
			cam = a.viewer.CameraPose()
		}
		MapMotion(dst, c.Action.Slice(), a.axes, cam, a.cfg.MotionScale)
		if len(a.absIdx) == 0 {
			break
		}
		if !a.targetOK {
			a.hold(a.target)
			a.targetOK = true
		}
		for _, i := range a.absIdx {
			v := a.target[i] + a.gain*dst[i]
			a.target[i] = min(max(v, a.spec.ActionLow[i]), a.spec.ActionHigh[i])
			dst[i] = a.target[i]
		}
	}
	return lat
}

// holdTarget writes the hold action and re-anchors the integrated target
// of absolute channels there, so that motion resumes from the tool.
func (a *Arbiter) holdTarget(dst []float64) {
	a.hold(dst)
	if len(a.absIdx) > 0 {
		copy(a.target, dst)
		a.targetOK = true
	}
}

// endTick publishes the state snapshot.
func (a *Arbiter) endTick(lat latencySample) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &a.snap
	st.Mode, st.Holder, st.Sticky, st.Holding = a.mode, a.holderName(), a.sticky, a.holding
	st.Requests = st.Requests[:0]
	for _, s := range a.requests {
		st.Requests = append(st.Requests, s.id)
	}
	st.Sources = st.Sources[:0]
	for _, s := range a.live {
		st.Sources = append(st.Sources, SourceState{ID: s.id, Connected: s.connected, Engaged: s.engaged, Requesting: s.requesting, TaskSpace: s.taskSpace})
	}
	st.Help, st.Interventions, st.TotalInterventions = a.help, a.interv, a.total
	st.Source, st.Operator, st.PolicyVersion = a.lastSrc, a.lastOp, a.version
	st.Ticks, st.Rejected, st.PolicyRejected = a.ticks, a.rejected, a.badPolicy
	if lat.ok {
		a.lat[a.latN%latencyRing] = lat.d
		a.latN++
	}
}

func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
