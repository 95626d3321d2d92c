package demos

import (
	"context"
	"fmt"

	"tandem/sim"
)

// TaskLookup builds a fresh task by name (cmd wires tasks.New).
type TaskLookup func(name string) (sim.Task, error)

// DivergenceError reports the first place a replay differs from the record.
type DivergenceError struct {
	Episode int64
	// T is the step whose observation differs (len(steps) for the final
	// observation after the last step).
	T        int
	Field    string // observation name from the Spec, or reward/terminal/...
	Recorded float64
	Replayed float64
}

func (e *DivergenceError) Error() string {
	return fmt.Sprintf("episode %d diverges at step %d, %s: recorded %v, replayed %v",
		e.Episode, e.T, e.Field, e.Recorded, e.Replayed)
}

// StepsError reports stored steps that do not match the episode's recorded
// length and step numbers: a step missing, stored out of order, or beyond
// the recorded length.
type StepsError struct {
	Episode int64
	T       int    // the step concerned
	Problem string // "missing", "stored out of order (after step 8)", ...
}

func (e *StepsError) Error() string {
	return fmt.Sprintf("episode %d: step %d %s", e.Episode, e.T, e.Problem)
}

// Verify re-simulates episode id from its seed and recorded actions and
// checks every recorded observation bit for bit (and rewards and end
// flags). It returns the number of steps verified, a *StepsError when the
// stored steps are not exactly 0..length-1 in order, or a *DivergenceError.
func Verify(ctx context.Context, s *Store, id int64, lookup TaskLookup) (int, error) {
	ep, err := s.Episode(ctx, id)
	if err != nil {
		return 0, err
	}
	steps, err := stepsOf(ctx, s.db, &ep)
	if err != nil {
		return 0, err
	}
	if err := s.checkSteps(ctx, &ep, steps); err != nil {
		return 0, err
	}
	task, err := replayTask(&ep, lookup)
	if err != nil {
		return 0, err
	}
	return resimulate(ctx, task, &ep, steps, nil)
}

// checkSteps checks steps (read in t order) against the episode's length,
// and the order in which they were stored. An episode that lost steps while
// recording is reported as such.
func (s *Store) checkSteps(ctx context.Context, ep *Episode, steps []Step) error {
	if ep.Dropped > 0 {
		return fmt.Errorf("demos: episode %d lost %d steps while recording; it cannot be replayed", ep.ID, ep.Dropped)
	}
	for i := range steps {
		switch t := steps[i].T; {
		case t < 0:
			return &StepsError{Episode: ep.ID, T: t, Problem: "has a negative step number"}
		case t != i:
			return &StepsError{Episode: ep.ID, T: i, Problem: "missing"}
		case t >= ep.Length:
			return &StepsError{Episode: ep.ID, T: t, Problem: fmt.Sprintf("is beyond the recorded length %d", ep.Length)}
		}
	}
	if n := len(steps); n < ep.Length {
		problem := "missing"
		if n == 0 {
			problem = fmt.Sprintf("missing: no steps stored, recorded length %d", ep.Length)
		}
		return &StepsError{Episode: ep.ID, T: n, Problem: problem}
	}
	// Steps are inserted in t order; the rowid keeps that order.
	rows, err := s.db.QueryContext(ctx, "SELECT t FROM steps WHERE episode_id = ? ORDER BY rowid", ep.ID)
	if err != nil {
		return fmt.Errorf("demos: steps of episode %d: %w", ep.ID, err)
	}
	defer rows.Close()
	prev := -1
	for rows.Next() {
		var t int
		if err := rows.Scan(&t); err != nil {
			return err
		}
		if t < prev {
			return &StepsError{Episode: ep.ID, T: t, Problem: fmt.Sprintf("stored out of order (after step %d)", prev)}
		}
		prev = t
	}
	return rows.Err()
}

// replayTask builds the episode's task and checks that it is the version
// that recorded it.
func replayTask(ep *Episode, lookup TaskLookup) (sim.Task, error) {
	if lookup == nil {
		return nil, fmt.Errorf("demos: no task lookup to replay task %q", ep.Task)
	}
	task, err := lookup(ep.Task)
	if err != nil {
		return nil, err
	}
	if v := task.Spec().Version; v != ep.TaskVersion {
		return nil, fmt.Errorf("demos: episode %d was recorded with %s version %d; this binary has version %d", ep.ID, ep.Task, ep.TaskVersion, v)
	}
	return task, nil
}

// resimulate replays steps on task. visit, if not nil, is called after the
// reset (i = -1) and after each step i with the Env, before the checks of
// that step. It returns the number of steps verified.
func resimulate(ctx context.Context, task sim.Task, ep *Episode, steps []Step, visit func(i int, env *sim.Env)) (int, error) {
	if ep.Dropped > 0 {
		return 0, fmt.Errorf("demos: episode %d lost %d steps while recording; it cannot be replayed", ep.ID, ep.Dropped)
	}
	for i := range steps {
		if steps[i].T != i {
			return 0, &StepsError{Episode: ep.ID, T: i, Problem: "missing"}
		}
	}
	env, err := sim.NewEnv(task, sim.EnvConfig{ControlHz: ep.ControlHz})
	if err != nil {
		return 0, err
	}
	names := task.Spec().ObsNames
	check := func(t int, recorded []float64, got sim.Vec) error {
		if recorded == nil {
			return nil // unknown (the observation after a crash-cut last step)
		}
		g := got.Slice()
		if len(recorded) != len(g) {
			return &DivergenceError{Episode: ep.ID, T: t, Field: fmt.Sprintf("observation size (%d recorded, %d replayed)", len(recorded), len(g)),
				Recorded: float64(len(recorded)), Replayed: float64(len(g))}
		}
		for j := range g {
			if !sameBits(recorded[j], g[j]) {
				field := fmt.Sprintf("observation[%d]", j)
				if j < len(names) {
					field = names[j]
				}
				return &DivergenceError{Episode: ep.ID, T: t, Field: field, Recorded: recorded[j], Replayed: g[j]}
			}
		}
		return nil
	}
	obs := env.Reset(ep.Seed)
	if visit != nil {
		visit(-1, env)
	}
	initial := ep.InitialObs
	if len(steps) > 0 {
		initial = steps[0].Obs
	}
	if err := check(0, initial, obs); err != nil {
		return 0, err
	}
	for i := range steps {
		if i%1024 == 0 && ctx.Err() != nil {
			return i, ctx.Err()
		}
		st := &steps[i]
		s, err := StepRecorded(env, st)
		if err != nil {
			return i, fmt.Errorf("demos: episode %d step %d: %w", ep.ID, i, err)
		}
		if visit != nil {
			visit(i, env)
		}
		if err := check(i+1, st.Next, s.Next); err != nil {
			return i, err
		}
		if !sameBits(s.Reward, st.Reward) {
			return i, &DivergenceError{Episode: ep.ID, T: i, Field: "reward", Recorded: st.Reward, Replayed: s.Reward}
		}
		if s.Terminal != st.Terminal || s.Truncated != st.Truncated || s.Success != st.Success {
			field, rec, rep := "terminal", st.Terminal, s.Terminal
			switch {
			case s.Truncated != st.Truncated:
				field, rec, rep = "truncated", st.Truncated, s.Truncated
			case s.Success != st.Success:
				field, rec, rep = "success", st.Success, s.Success
			}
			return i, &DivergenceError{Episode: ep.ID, T: i, Field: field, Recorded: b2f(rec), Replayed: b2f(rep)}
		}
	}
	return len(steps), nil
}

// StepRecorded executes one recorded step on env exactly as it was
// recorded: a period whose human input was applied at sub-ticks replays
// its sub-tick commands (Subticks), every other step is one Env.Step of its
// action.
func StepRecorded(env *sim.Env, st *Step) (sim.Step, error) {
	n := len(st.Action)
	if len(st.Subticks) == 0 {
		return env.Step(st.Action)
	}
	k := len(st.Subticks) / max(n, 1)
	if n == 0 || k*n != len(st.Subticks) || env.Substeps()%k != 0 {
		return sim.Step{}, fmt.Errorf("demos: step %d has %d sub-tick values for %d actions and %d physics substeps", st.T, len(st.Subticks), n, env.Substeps())
	}
	if err := env.Begin(); err != nil {
		return sim.Step{}, err
	}
	for j := range k {
		if err := env.Apply(st.Subticks[j*n:(j+1)*n], k); err != nil {
			return sim.Step{}, err
		}
		env.Advance(env.Substeps() / k)
	}
	return env.End(st.Action), nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
