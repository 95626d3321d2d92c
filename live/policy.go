package live

import (
	"errors"
	"time"

	"tandem/policies"
	"tandem/sim"
)

// SetPolicy swaps the session's policy for the registered policy name. The
// policy is built on the loop goroutine (an expert binds to its task
// instance), reset to the running episode and acts from the next period.
// The expert keeps the session's skill.
// A session that followed its task's current version stops following.
func (s *Session) SetPolicy(name string) error {
	if err := s.swap(name, false); err != nil {
		return err
	}
	s.setFollow(name == Current)
	return nil
}

// SwitchAtEpisode is SetPolicy at the next episode boundary: the running
// episode finishes with the policy it started with, so every episode is
// one version's (how an online learner's promotions reach sessions).
func (s *Session) SwitchAtEpisode(name string) error { return s.swap(name, true) }

func (s *Session) swap(name string, atReset bool) error {
	if s.arb == nil {
		return errors.New("a replay session has no policy")
	}
	if name == Current {
		var err error
		if name, err = s.hub.current(s.spec.Name); err != nil {
			return err
		}
	}
	reg := s.hub.cfg.Policies
	// A learning session collects data with the algorithm's exploring actor.
	o := policies.Options{Seed: s.opts.Seed, Explore: s.Learning()}
	if name == policies.Expert {
		o.Skill = s.opts.Skill
	}
	if err := reg.Check(name, o); err != nil {
		return err
	}
	errc := make(chan error, 1)
	err := s.sim.Do(func() {
		p, err := reg.New(name, s.task, o)
		if err != nil {
			errc <- err
			return
		}
		if atReset {
			s.arb.SetPolicyAtReset(p, reg.Version(name))
			errc <- nil
			return
		}
		if r, ok := p.(sim.Resetter); ok {
			r.Reset(s.sim.State().Seed)
		}
		s.arb.SetPolicy(p, reg.Version(name))
		errc <- nil
	})
	if err != nil {
		return err
	}
	select {
	case err = <-errc:
	case <-s.loopEnd:
		return sim.ErrSessionClosed
	case <-time.After(10 * time.Second):
		return errors.New("the session loop did not take the new policy within 10 s")
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.policy != name {
		s.prev, s.policy = s.policy, name
	}
	s.mu.Unlock()
	return nil
}

// PreviousPolicy is the policy before the last swap ("" if none).
func (s *Session) PreviousPolicy() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prev
}

// Rollback returns the session to the policy it ran before the last swap.
func (s *Session) Rollback() error {
	prev := s.PreviousPolicy()
	if prev == "" {
		return errors.New("session " + s.id + " has no earlier policy to roll back to")
	}
	return s.SetPolicy(prev)
}
