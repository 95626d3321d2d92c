package web

import (
	"time"
)

// The idle rule (issue 10: sessions created from the console ran and
// recorded forever after every browser had left).
//
// A session is attended while it has a session WebSocket client (operator
// or viewer), a Foxglove subscription or an attached device. A live
// session unattended for its idle delay (Config.IdlePause, or the
// session's own idle_pause_s) is paused: it stops ticking and recording,
// and keeps its episode open. Sessions made through the API get the rule;
// the default session only with Config.IdleDefault (serve
// --idle-pause-default); sessions with delay 0 never pause.
//
// Decision: an operator connecting (a session WebSocket with the token,
// not role=viewer) resumes a session the idle rule paused; a viewer does
// not, so a fleet page of tiles watching every session cannot restart
// them all, and a session an operator paused by hand stays paused. REST
// resume works as for any pause. SessionInfo says why a session is paused
// ("paused_reason": "idle").
//
// A replay unattended for Config.ReplayIdle is deleted: replays are made
// for someone to watch, and one left at its end holds a session slot.
//
// Time is the session clock (Config.Clock), so tests run the rule on a
// sim.ManualClock: the sweep runs on a real ticker and reads the clock.

const pausedIdle = "idle"

// idleSweepEvery is how often the rule is checked against the clock:
// a twentieth of the shortest delay, between 50 ms and 5 s.
func idleSweepEvery(cfg *Config) time.Duration {
	d := 5 * time.Second
	for _, x := range []time.Duration{cfg.IdlePause, cfg.ReplayIdle} {
		if x > 0 {
			d = min(d, x/20)
		}
	}
	return max(d, 50*time.Millisecond)
}

// runIdle sweeps until stop is closed.
func (s *Server) runIdle(stop <-chan struct{}) {
	t := time.NewTicker(idleSweepEvery(&s.cfg))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.sweepIdle()
		}
	}
}

// sweepIdle applies the idle rule to every session once, at the session
// clock's now.
func (s *Server) sweepIdle() {
	now := s.cfg.Clock.Now()
	devices := map[string]bool{}
	for _, d := range s.hub.Devices() {
		devices[d.Session] = true
	}
	for _, v := range s.viewList() {
		switch v.sweep(now, devices[v.id]) {
		case idlePause:
			if err := v.sess.Pause(); err == nil {
				s.log.Info("session paused: nobody connected", "session", v.id, "idle", v.idleDelay().String())
			}
		case idleDelete:
			if err := s.DeleteSession(v.id); err == nil {
				s.log.Info("replay deleted: nobody watching", "session", v.id, "idle", v.idleDelay().String())
			}
		}
	}
}

type idleAction int

const (
	idleNone idleAction = iota
	idlePause
	idleDelete
)

// sweep decides what the idle rule does to v at now.
func (v *view) sweep(now time.Time, device bool) idleAction {
	paused := v.sess.Info().Paused // before v.mu: no lock is held calling into live
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closing {
		return idleNone
	}
	if len(v.clients) > 0 || v.foxSubs > 0 || device {
		v.idleSince = time.Time{}
		return idleNone
	}
	if v.idleSince.IsZero() {
		v.idleSince = now
	}
	if v.idleAfter <= 0 {
		return idleNone
	}
	if v.idlePaused && !paused {
		// Resumed through REST with nobody connected: a fresh delay.
		v.idlePaused, v.idleSince = false, now
		return idleNone
	}
	if now.Sub(v.idleSince) < v.idleAfter {
		return idleNone
	}
	if v.replay {
		return idleDelete
	}
	if paused {
		return idleNone // paused by hand: nothing to do
	}
	v.idlePaused = true
	return idlePause
}

// setIdle sets the session's idle delay (negative: never).
func (v *view) setIdle(d time.Duration) {
	v.mu.Lock()
	v.idleAfter = max(d, 0)
	v.mu.Unlock()
}

func (v *view) idleDelay() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.idleAfter
}

// foxAttach counts a Foxglove pump starting (+1) or ending (-1) on v.
func (v *view) foxAttach(n int) {
	v.mu.Lock()
	v.foxSubs += n
	if v.foxSubs == 0 && len(v.clients) == 0 {
		v.idleSince = v.srv.cfg.Clock.Now()
	}
	v.mu.Unlock()
}
