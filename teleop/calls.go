package teleop

import (
	"errors"
	"fmt"
	"time"

	"tandem/sim"
)

// AddSource attaches an operator input under id. Safe for concurrent use.
func (a *Arbiter) AddSource(id string, src Source) error {
	if id == "" || src == nil {
		return errors.New("teleop: a source needs an id and a value")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.sources {
		if s.id == id {
			return fmt.Errorf("teleop: source %q already attached", id)
		}
	}
	s := &slot{id: id, src: src, needsReset: true}
	if ts, ok := src.(TaskSpacer); ok {
		s.taskSpace = ts.TaskSpace()
	}
	if cr, ok := src.(ControlRater); ok {
		s.controlRate = cr.ControlRate()
	}
	s.observer, _ = src.(Observer)
	s.labeler, _ = src.(Labeler)
	a.sources = append(a.sources, s)
	return nil
}

// RemoveSource detaches id; if it held authority it is treated as a
// disconnect at the next tick. Safe for concurrent use.
func (a *Arbiter) RemoveSource(id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, s := range a.sources {
		if s.id == id {
			a.sources = append(a.sources[:i], a.sources[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("%w %q", ErrUnknownSource, id)
}

// TakeOver gives id authority at the next tick, sticky until it hands back
// (the browser's "take over" button). If another operator holds authority,
// id joins the request queue instead. Safe for concurrent use.
func (a *Arbiter) TakeOver(id string) error { return a.queue(opTakeOver, id) }

// HandBack returns authority from id to the policy at the next tick (or to
// the first requester), or withdraws id's request. An empty id ends any
// human control, including holding after a disconnect. Safe for concurrent
// use.
func (a *Arbiter) HandBack(id string) error { return a.queue(opHandBack, id) }

// Request puts id in the queue for authority; it gets control when the
// holder hands back (or at once when the policy holds it). Safe for
// concurrent use.
func (a *Arbiter) Request(id string) error { return a.queue(opRequest, id) }

// Press presses the buttons b on id's behalf at the next tick (the
// console's reset, success, failure and help buttons): they raise the same
// asks as a device's buttons. Only Reset, MarkSuccess, MarkFailure and
// Help act; others are refused. Safe for concurrent use.
func (a *Arbiter) Press(id string, b Buttons) error {
	if b == 0 || b&^(Reset|MarkSuccess|MarkFailure|Help) != 0 {
		return fmt.Errorf("teleop: only reset, success, failure and help can be pressed from a console")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.find(id) == nil {
		return fmt.Errorf("%w %q", ErrUnknownSource, id)
	}
	a.ops = append(a.ops, op{kind: opPress, id: id, buttons: b})
	return nil
}

func (a *Arbiter) queue(k opKind, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !(k == opHandBack && id == "") && a.find(id) == nil {
		return fmt.Errorf("%w %q", ErrUnknownSource, id)
	}
	a.ops = append(a.ops, op{kind: k, id: id})
	return nil
}

func (a *Arbiter) find(id string) *slot {
	for _, s := range a.sources {
		if s.id == id {
			return s
		}
	}
	return nil
}

// SetMode switches mode at the next tick. Safe for concurrent use.
func (a *Arbiter) SetMode(m sim.Mode) error {
	if _, err := sim.ParseMode(string(m)); err != nil {
		return err
	}
	a.mu.Lock()
	a.nextMode = m
	a.mu.Unlock()
	return nil
}

// SetPolicy hot-swaps the policy; it acts from the next tick and every step
// is labelled with version. A policy that is a sim.Resetter is reset with
// the current episode's seed when it arrives. Safe for concurrent use.
func (a *Arbiter) SetPolicy(p sim.Policy, version string) {
	a.mu.Lock()
	a.nextPolicy, a.nextVersion, a.policyPending = p, version, true
	a.epPolicy, a.epPending = nil, false
	a.mu.Unlock()
}

// SetPolicyAtReset swaps the policy at the next episode start instead of
// the next tick (an online learner's new version: no episode mixes two
// versions). A later call replaces an earlier pending one; SetPolicy
// cancels it. Safe for concurrent use.
func (a *Arbiter) SetPolicyAtReset(p sim.Policy, version string) {
	a.mu.Lock()
	a.epPolicy, a.epVersion, a.epPending = p, version, true
	a.mu.Unlock()
}

// State returns a snapshot as of the last tick. Safe for concurrent use.
func (a *Arbiter) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.snap
	st.Requests = append([]string{}, a.snap.Requests...)
	st.Sources = append([]SourceState{}, a.snap.Sources...)
	if a.nextMode != "" {
		st.Mode = a.nextMode
	}
	return st
}

// Latencies appends the recent input-to-apply latencies (up to the last
// 1024 applied commands with a time stamp, oldest first) to dst. Empty
// without Config.Clock. Safe for concurrent use.
func (a *Arbiter) Latencies(dst []time.Duration) []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := min(a.latN, latencyRing)
	for i := a.latN - n; i < a.latN; i++ {
		dst = append(dst, a.lat[i%latencyRing])
	}
	return dst
}

func (a *Arbiter) holderName() string {
	switch {
	case a.holder != nil:
		return a.holder.id
	case a.mode == sim.ModeAuto, a.mode == sim.ModeShared && !a.holding:
		return "robot"
	}
	return ""
}
