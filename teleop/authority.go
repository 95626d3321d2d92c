package teleop

import "tandem/sim"

// Authority: who holds control. Everything here runs on the loop goroutine
// inside Decide, after the sources were sampled.

func (a *Arbiter) liveSlot(id string) *slot {
	for _, s := range a.live {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (a *Arbiter) isLive(p *slot) bool {
	for _, s := range a.live {
		if s == p {
			return true
		}
	}
	return false
}

func (a *Arbiter) applyOps() {
	for _, o := range a.opsSpare {
		s := a.liveSlot(o.id)
		switch o.kind {
		case opTakeOver, opRequest:
			if s == nil || !s.connected || a.mode == sim.ModeAuto {
				continue
			}
			if o.kind == opTakeOver && (a.holder == nil || a.holder == s) {
				a.grant(s, true)
			} else if a.holder != s {
				a.enqueue(s, true)
			}
		case opPress: // taken at the start of the tick
		case opHandBack:
			switch {
			case o.id == "":
				if a.holder != nil {
					a.drop(true)
				}
				a.holding = false
			case s == nil:
			case a.holder == s:
				a.drop(true)
			default:
				a.dequeue(s)
			}
		}
	}
}

// arbitrate settles authority for this tick.
func (a *Arbiter) arbitrate() {
	if h := a.holder; h != nil {
		switch {
		case !a.isLive(h) || !h.connected:
			a.drop(false)
			a.holding = a.mode == sim.ModeShared && a.cfg.OnDisconnect == HoldOnDisconnect
		case h.cmd.Buttons.Has(HandBack):
			a.drop(true)
		case a.mode == sim.ModeShared && !a.sticky:
			if h.cmd.Engaged {
				a.released = 0
			} else if a.released++; a.released > a.release {
				a.drop(false)
			}
		}
	}
	if a.mode == sim.ModeAuto {
		for _, s := range a.requests {
			s.requesting, s.explicit = false, false
		}
		a.requests = a.requests[:0]
		a.holder, a.holding = nil, false
		return
	}
	keep := a.requests[:0]
	for _, s := range a.requests {
		if s == a.holder || !a.isLive(s) || !s.connected || !s.explicit && !s.engaged {
			s.requesting, s.explicit = false, false
			continue
		}
		keep = append(keep, s)
	}
	a.requests = keep
	if a.holder == nil {
		var c *slot
		explicit := false
		if len(a.requests) > 0 {
			c, explicit = a.requests[0], a.requests[0].explicit
		}
		for _, s := range a.live {
			if c == nil && s.engaged {
				c = s
			}
		}
		for _, s := range a.live {
			if c == nil && a.mode == sim.ModeTeleop && s.connected {
				c = s
			}
		}
		if c != nil {
			a.grant(c, explicit)
		}
	}
	if a.holder != nil {
		for _, s := range a.live {
			if s != a.holder && s.engaged && !s.requesting {
				a.enqueue(s, false)
			}
		}
	}
}

// grant gives s authority. A new holder starts from the robot's current
// state (bumpless): the integrated absolute target is re-anchored.
func (a *Arbiter) grant(s *slot, explicit bool) {
	if a.holder != s {
		a.targetOK = false
	}
	a.dequeue(s)
	a.holder, a.sticky, a.released, a.holding = s, explicit || a.cfg.Toggle, 0, false
}

// drop takes authority from the holder; suppress ignores its Engaged until
// it is released once, so a hand-back is not undone by a still-held stick.
func (a *Arbiter) drop(suppress bool) {
	a.lastID = a.holder.id
	if suppress {
		a.holder.suppressed, a.holder.engaged = true, false
	}
	a.holder, a.sticky, a.released = nil, false, 0
}

func (a *Arbiter) enqueue(s *slot, explicit bool) {
	if s.requesting {
		s.explicit = s.explicit || explicit
		return
	}
	s.requesting, s.explicit = true, explicit
	a.requests = append(a.requests, s)
}

func (a *Arbiter) dequeue(s *slot) {
	if !s.requesting {
		return
	}
	s.requesting, s.explicit = false, false
	for i, r := range a.requests {
		if r == s {
			a.requests = append(a.requests[:i], a.requests[i+1:]...)
			return
		}
	}
}
