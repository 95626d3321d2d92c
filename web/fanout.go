package web

import (
	"encoding/json"
	"strings"

	"tandem/sim"
)

func (s *session) pokeState() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// fanout turns records into frames for every client until the session's
// subscription closes.
func (s *session) fanout(sub *sim.Subscription) {
	defer close(s.done)
	for {
		select {
		case r, ok := <-sub.C:
			if !ok {
				return
			}
			s.publish(r)
		case <-s.poke:
			s.checkState()
		}
	}
}

func (s *session) publish(r *sim.Record) {
	a := s.authority()
	s.checkStateWith(a)
	var ev events
	if r.Kind == sim.ResetRecord {
		ev |= evReset
		s.lastHelp, s.lastSucc = false, false
	} else {
		if r.InterventionStart {
			ev |= evInterventionStart
			s.srv.metrics.interventions.WithLabelValues(s.id).Inc()
		}
		if r.InterventionEnd {
			ev |= evInterventionEnd
		}
		if r.Help && !s.lastHelp {
			ev |= evHelp
		}
		if r.Success && !s.lastSucc {
			ev |= evSuccess
		}
		if r.Terminal {
			ev |= evTerminal
		}
		if r.Truncated {
			ev |= evTruncated
		}
		s.lastHelp, s.lastSucc = r.Help, r.Success
	}
	s.seq++
	body := appendFrame(make([]byte, 0, len(s.buf)+64), s.seq, r, ev, hudState{holder: a.Holder, mode: a.Mode, paused: s.sim.State().Paused})
	s.buf = body[:0:len(body)]
	f := &frame{seq: s.seq, episode: r.Episode, step: r.Kind == sim.StepRecord, wall: r.Wall, body: body}
	if f.step {
		f.t = r.T + 1
	}
	s.last.Store(f)
	for _, c := range *s.all.Load() {
		c.pushFrame(f)
	}
}

// authority returns the arbiter's state (a fixed "replay" holder for
// replays).
func (s *session) authority() ArbiterState {
	if s.arb == nil {
		return ArbiterState{Mode: "replay", Holder: "replay"}
	}
	return s.arb.Authority()
}

// stateKey is what a state message reports; a change sends one.
type stateKey struct {
	mode, holder, requests string
	help, paused           bool
	version                string
	ops, views             int
}

// checkState broadcasts a state message when the session's mode,
// authority, pause, policy or client counts changed.
func (s *session) checkState() { s.checkStateWith(s.authority()) }

func (s *session) checkStateWith(a ArbiterState) {
	st := s.sim.State()
	s.mu.Lock()
	ops, views := s.counts()
	s.mu.Unlock()
	// Compared every tick: a plain struct, so an unchanged state costs no
	// allocation (Join of zero or one request returns without copying).
	key := stateKey{a.Mode, a.Holder, strings.Join(a.Requests, "\x00"), a.Help, st.Paused, a.PolicyVersion, ops, views}
	old := s.stateKey.Load()
	if old != nil && *old == key {
		return
	}
	s.stateKey.Store(&key)
	if old == nil {
		return // the first state goes out in hellos
	}
	b, _ := json.Marshal(stateMsg{Type: msgState, Session: s.infoWith(a, st)})
	for _, c := range *s.all.Load() {
		c.pushMsg(b)
	}
}

// counts reports connected operators and viewers; s.mu held.
func (s *session) counts() (ops, views int) {
	for c := range s.clients {
		if c.role == RoleOperator {
			ops++
		} else {
			views++
		}
	}
	return ops, views
}
