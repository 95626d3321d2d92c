package live

import (
	"context"
	"errors"
	"time"

	"tandem/policies"
)

// Current is the policy name that means "the task's promoted version": a
// session created with it acts with that version (the scripted expert
// until a version is promoted) and follows promotions and rollbacks at its
// episode boundaries.
const Current = "current"

// DefaultFollowEvery is how often the hub looks for promotions.
const DefaultFollowEvery = 2 * time.Second

// current resolves Current for task: its promoted version, registered
// with the hub's registry, or the expert.
func (h *Hub) current(task string) (string, error) {
	st := h.cfg.Store
	if st == nil {
		return policies.Expert, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, ok, err := st.Current(ctx, task)
	if err != nil || !ok {
		return policies.Expert, err
	}
	if err := RegisterStored(h.cfg.Policies, st.Dir(), v); err != nil {
		return "", err
	}
	return v.Version, nil
}

// Follow reports whether the session follows its task's current version.
func (s *Session) Follow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.follow
}

// Unfollow stops following promotions (an operator chose a policy).
func (s *Session) setFollow(f bool) {
	s.mu.Lock()
	s.follow = f
	s.mu.Unlock()
}

// follow runs until stop closes: every period it resolves each following
// session's current version and switches sessions whose policy differs,
// at their next episode boundary. Errors are logged once per version.
func (h *Hub) followLoop(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	failed := map[string]bool{}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		h.FollowPromotions(failed)
	}
}

// FollowPromotions switches every following session whose task's current
// version changed (at its next episode boundary). failed, when not nil,
// remembers versions that failed to load so each is logged once.
func (h *Hub) FollowPromotions(failed map[string]bool) {
	cache := map[string]string{}
	for _, s := range h.List() {
		if !s.Live() || !s.Follow() {
			continue
		}
		want, ok := cache[s.spec.Name]
		if !ok {
			var err error
			if want, err = h.current(s.spec.Name); err != nil {
				if failed != nil && !failed[s.spec.Name] {
					failed[s.spec.Name] = true
					h.log.Warn("cannot resolve the current policy", "task", s.spec.Name, "err", err)
				}
				continue
			}
			cache[s.spec.Name] = want
		}
		if s.policyName() == want {
			continue
		}
		if err := s.SwitchAtEpisode(want); err != nil {
			if failed != nil && !failed[want] {
				failed[want] = true
				h.log.Warn("cannot switch to the current policy", "session", s.id, "version", want, "err", err)
			}
			continue
		}
		h.log.Info("session follows a new current policy", "session", s.id, "version", want)
	}
}

// Learning reports whether the session takes part in online learning.
func (s *Session) Learning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.learn
}

// SetLearning turns the session's part in online learning on or off. On,
// it follows its task's current version (switching at the next episode
// boundary); off, it keeps the version it runs.
func (s *Session) SetLearning(on bool) error {
	if !s.Live() {
		return ErrReplay
	}
	if on && s.hub.Learning() == "" {
		return errors.New("learning needs the online trainer (tandem serve --learn ALGO)")
	}
	s.mu.Lock()
	s.learn = on
	if on {
		s.follow = true
	}
	s.mu.Unlock()
	if on {
		s.hub.FollowPromotions(nil)
	}
	return nil
}
