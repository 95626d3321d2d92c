package live

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
)

// RoundTag is the episode tag prefix that names the hitl round (or online
// generation) an episode was collected in: "round:3".
const RoundTag = "round:"

// Episodes reads the episodes f selects from st as learners see them, in
// id order. Episodes that lost steps while recording, or with no steps, are
// left out (their step sequence has gaps a learner must not bridge);
// running ones too (f.Ended is forced). Each episode's Round comes from its
// round tag; without one it is 0 for episodes no learned version acted in,
// and otherwise the 1-based position of that version among the task's
// versions (its generation).
func Episodes(ctx context.Context, st *demos.Store, f demos.Filter) ([]policies.Episode, error) {
	f.Ended = true
	eps, err := st.ListEpisodes(ctx, f)
	if err != nil {
		return nil, err
	}
	gen := map[string]int{}
	tasks := map[string]bool{}
	for _, e := range eps {
		if !tasks[e.Task] {
			tasks[e.Task] = true
			vs, err := st.Policies(ctx, e.Task)
			if err != nil {
				return nil, err
			}
			for i, v := range vs {
				gen[v.Version] = i + 1
			}
		}
	}
	out := make([]policies.Episode, 0, len(eps))
	for i := range eps {
		e := &eps[i]
		if !trainable(e) {
			continue
		}
		steps, err := st.StepsOf(ctx, e)
		if err != nil {
			return nil, err
		}
		if len(steps) != e.Length {
			continue
		}
		pe := policies.Episode{
			ID: e.ID, UID: e.UID, Round: roundOf(e, gen), Next: e.FinalObs, Success: e.Success, Mode: e.Mode,
			Obs: make([][]float64, len(steps)), Action: make([][]float64, len(steps)),
			PolicyAction: make([][]float64, len(steps)), ExpertAction: make([][]float64, len(steps)), Source: make([]sim.Source, len(steps)),
			InterventionStart: make([]bool, len(steps)), Reward: make([]float64, len(steps)), SuccessAt: make([]bool, len(steps)),
		}
		if len(e.PolicyVersion) > 0 {
			pe.PolicyVersion = e.PolicyVersion[0]
		}
		for t, s := range steps {
			pe.Obs[t], pe.Action[t], pe.PolicyAction[t], pe.ExpertAction[t] = s.Obs, s.Action, s.PolicyAction, s.ExpertAction
			pe.Source[t], pe.InterventionStart[t], pe.Reward[t], pe.SuccessAt[t] = s.Source, s.InterventionStart, s.Reward, s.Success
		}
		last := steps[len(steps)-1]
		pe.Terminal, pe.Truncated = last.Terminal, last.Truncated
		out = append(out, pe)
	}
	return out, nil
}

// trainable reports whether an episode's summary lets a learner have it:
// no step lost while recording, and at least one step. (Episodes also
// leaves out one whose stored steps fall short of its length.)
func trainable(e *demos.Episode) bool { return e.Dropped == 0 && e.Length > 0 }

func roundOf(e *demos.Episode, gen map[string]int) int {
	for _, tag := range e.Tags {
		if v, ok := strings.CutPrefix(tag, RoundTag); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return n
			}
		}
	}
	r := 0
	for _, v := range e.PolicyVersion {
		r = max(r, gen[v])
	}
	return r
}

// RoundTagOf is the tag that marks round n.
func RoundTagOf(n int) string { return fmt.Sprintf("%s%d", RoundTag, n) }
