package teleop

import (
	"math"
	"time"

	"tandem/sim"
)

// Decide implements sim.Controller: it picks who acts for this control
// period and writes the period's (first sub-tick's) action into dst. Loop
// goroutine only; it does not allocate once the request queue, input list
// and state snapshot have grown to their working size.
//
// Order within Decide: queued calls are taken (policy swap and mode first,
// then take-over, hand-back, request and press calls in the order they
// were made, applied after sampling); the policy acts (not in teleop
// mode); sources that reset since the last tick are reset and observers
// watch; every source is sampled once (press edges become asks); the
// queued calls are applied; authority is settled; the action is built. A
// command set on a source before Decide is therefore applied by this
// Decide.
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
			a.help = true
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
	for _, s := range a.live {
		if s.labeler != nil && s.labeler.ExpertAction(a.tmp) {
			d.ExpertAction.Set(a.tmp)
			break
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
		a.help = false // a human answered
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
			a.help = true
		}
		d.Operator = a.lastID
		a.holdTarget(dst)
	}
	a.subTicks = a.holder != nil && !a.holder.controlRate
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
	a.lastSrc, a.lastOp = d.Source, d.Operator
	a.fill(&d)
	d.SubTicks = a.subTicks
	a.endTick(lat)
	return d
}

// Sub implements sim.SubController: at a sub-tick inside a period it
// samples every source again (their presses become asks, their sequence
// numbers are reported) and, when the period's holder is a device or
// browser operator, writes the holder's current action into dst.
// Authority, mode and policy change only at Decide. Loop goroutine only;
// it does not allocate in steady state.
func (a *Arbiter) Sub(dst []float64) sim.Decision {
	a.takePresses()
	a.sample()
	var lat latencySample
	if a.subTicks && a.holder != nil {
		lat = a.humanAction(dst)
	}
	var d sim.Decision
	a.fill(&d)
	a.endTick(lat)
	return d
}

// CurrentMode implements sim.Moded: the mode the next Decide starts from
// (a queued switch applies there). Loop goroutine only.
func (a *Arbiter) CurrentMode() sim.Mode {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nextMode != "" {
		return a.nextMode
	}
	return a.mode
}

// fill completes d with what every tick reports: mode, holder, requests,
// inputs, asks and the help request.
func (a *Arbiter) fill(d *sim.Decision) {
	if a.asks.Has(sim.AskHelpAck) {
		a.help = false
	}
	d.Mode, d.Holder, d.Help = a.mode, a.holderName(), a.help
	a.reqIDs = a.reqIDs[:0]
	for _, s := range a.requests {
		a.reqIDs = append(a.reqIDs, s.id)
	}
	d.Requests = a.reqIDs
	a.inputs = a.inputs[:0]
	for _, s := range a.live {
		if s.connected {
			a.inputs = append(a.inputs, sim.Input{Operator: s.id, Seq: s.cmd.Seq})
		}
	}
	d.Inputs = a.inputs
	d.Asks, d.AskBy = a.asks, a.askBy
	a.asks, a.askBy = 0, ""
}

// ask records asks made by operator id this tick (the first asker names
// them).
func (a *Arbiter) ask(ask sim.Ask, id string) {
	if ask == 0 {
		return
	}
	if a.asks == 0 {
		a.askBy = id
	}
	a.asks |= ask
}

// Reset implements sim.Resetter: a new episode starts from seed. The
// policy and every source that is a sim.Resetter are reset; in shared mode
// the policy holds authority again; a raised help request is dropped.
// Loop goroutine only.
func (a *Arbiter) Reset(seed uint64) {
	a.seed = seed
	a.mu.Lock()
	if a.epPending {
		a.policy, a.version = a.epPolicy, a.epVersion
		a.epPolicy, a.epPending = nil, false
	}
	a.mu.Unlock()
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
	a.lastHuman, a.interv, a.targetOK, a.help, a.subTicks = false, 0, false, false, false
	a.lastSrc, a.lastOp = "", ""
	a.asks, a.askBy = 0, ""
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
	for _, o := range a.opsSpare {
		if o.kind == opPress {
			a.ask(AsksOf(o.buttons), o.id)
		}
	}
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

// takePresses takes the console presses queued since the last tick (a
// sub-tick leaves every other queued call for the next Decide).
func (a *Arbiter) takePresses() {
	a.mu.Lock()
	keep := a.ops[:0]
	for _, o := range a.ops {
		if o.kind == opPress {
			a.ask(AsksOf(o.buttons), o.id)
			continue
		}
		keep = append(keep, o)
	}
	a.ops = keep
	a.mu.Unlock()
}

// sample reads every source once; a button that went down since the last
// sample raises its ask.
func (a *Arbiter) sample() {
	for _, s := range a.live {
		s.cmd, s.connected = s.src.Latest()
		if s.connected {
			a.ask(AsksOf(s.cmd.Buttons&^s.lastBtn), s.id)
			s.lastBtn = s.cmd.Buttons
		}
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
	if c.Buttons.Has(Grip) {
		for _, i := range a.grips {
			dst[i] = a.spec.ActionLow[i] // closed while held
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
