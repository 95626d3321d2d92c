package demos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"tandem/sim"
)

// AddEpisode stores a whole episode (a headless rollout) in one transaction
// and returns its id. steps are sim.Records of Kind StepRecord in order, as
// sim.Rollout keeps them with KeepSteps; they carry no wall time, so step t
// is stamped info.Start + t control periods. The episode is complete when
// its last step is terminal or truncated.
func (s *Store) AddEpisode(ctx context.Context, info Info, steps []sim.Record) (int64, error) {
	hz := info.ControlHz
	if hz <= 0 {
		hz = info.Spec.ControlHz
	}
	if !(hz > 0) {
		return 0, fmt.Errorf("demos: episode of task %q has no control rate", info.Spec.Name)
	}
	start := info.Start
	if start.IsZero() {
		start = time.Now()
	}
	period := time.Duration(float64(time.Second) / hz)
	out := make([]Step, 0, len(steps))
	for i := range steps {
		r := &steps[i]
		if r.Kind != sim.StepRecord && r.Kind != "" {
			continue
		}
		if r.T != len(out) {
			return 0, fmt.Errorf("demos: rollout step %d has t = %d; want %d", i, r.T, len(out))
		}
		wall := r.Wall
		if wall.IsZero() {
			wall = start.Add(time.Duration(r.T) * period)
		}
		st := Step{
			T: r.T, Obs: r.Obs.Append(nil), Next: r.Next.Append(nil), Action: r.Action.Append(nil),
			Source: r.Source, Reward: r.Reward, Terminal: r.Terminal, Truncated: r.Truncated,
			Success: r.Success, Wall: wall, Operator: r.Operator, PolicyVersion: r.PolicyVersion,
			InterventionStart: r.InterventionStart, InterventionEnd: r.InterventionEnd,
			Subticks: r.Subticks, Help: r.Help,
		}
		if r.ExpertAction.Len() > 0 {
			st.ExpertAction = r.ExpertAction.Append(nil)
		}
		if r.PolicyAction.Len() > 0 {
			st.PolicyAction = r.PolicyAction.Append(nil)
		}
		if st.Source == "" {
			st.Source = sim.Robot
		}
		if st.Operator == "" && st.Source != sim.Robot {
			st.Operator = info.Operator
		}
		out = append(out, st)
	}
	ep := Summarize(info, out)
	session := info.Session
	if session == "" {
		session = "rollout"
	}
	return s.Insert(ctx, session, ep, out)
}

// Summarize builds the summary of an episode from its steps.
func Summarize(info Info, steps []Step) Episode {
	hz := info.ControlHz
	if hz <= 0 {
		hz = info.Spec.ControlHz
	}
	ep := Episode{
		Task: info.Spec.Name, TaskVersion: info.Spec.Version, Seed: info.Seed, Mode: info.Mode,
		ControlHz: hz, Start: info.Start, Tags: info.Tags, Note: info.Note, Spec: info.Spec,
		Operators: []string{}, PolicyVersion: []string{}, Outcome: Cut,
	}
	var robot, human, demo bool
	for i := range steps {
		st := &steps[i]
		ep.Length++
		ep.Return += st.Reward
		ep.Success = ep.Success || st.Success
		if st.InterventionStart {
			ep.Interventions++
		}
		ep.Operators = addUnique(ep.Operators, st.Operator)
		ep.PolicyVersion = addUnique(ep.PolicyVersion, st.PolicyVersion)
		switch st.Source {
		case sim.Robot:
			robot = true
		case sim.Human:
			human = true
		default:
			demo = true
		}
	}
	if ep.Mode == "" {
		ep.Mode = deriveMode(robot, human, demo)
	}
	if n := len(steps); n > 0 {
		first, last := &steps[0], &steps[n-1]
		ep.InitialObs = first.Obs
		ep.FinalObs = last.Next
		ep.End = last.Wall
		if ep.Start.IsZero() {
			ep.Start = first.Wall
		}
		ep.Outcome = outcomeOf(ep.Success, last.Terminal, last.Truncated)
		ep.Complete = ep.Outcome != Cut
	}
	return ep
}

// Insert stores ep and its steps in one transaction under a new session row
// named session, keeping ep's outcome, flags and times as given (import
// uses it to restore exported episodes). ep.ID and ep.SessionID are ignored;
// ep.UID is kept (a new one is made when empty; a UID the store already
// holds is refused). The new id is returned.
func (s *Store) Insert(ctx context.Context, session string, ep Episode, steps []Step) (int64, error) {
	if err := s.writable(); err != nil {
		return 0, err
	}
	if ep.Task == "" {
		return 0, errors.New("demos: episode has no task")
	}
	if err := checkMode(ep.Mode); err != nil {
		return 0, err
	}
	if err := checkTags(ep.Tags); err != nil {
		return 0, err
	}
	uid := ep.UID
	if uid == "" {
		uid = newUID()
	}
	for i := range steps {
		if steps[i].T != i {
			return 0, fmt.Errorf("demos: step %d has t = %d; want %d", i, steps[i].T, i)
		}
	}
	if ep.Start.IsZero() {
		ep.Start = time.Now()
	}
	sid, err := s.newSession(ctx, session, ep.Task, ep.Start, map[string]any{"mode": ep.Mode})
	if err != nil {
		return 0, err
	}
	spec, err := json.Marshal(ep.Spec)
	if err != nil {
		return 0, err
	}
	ops := make([]op, 0, len(steps)+2)
	ops = append(ops, op{kind: opBegin, key: 1, begin: &beginRow{
		uid: uid, sessionID: sid, task: ep.Task, taskVersion: ep.TaskVersion, seed: ep.Seed, mode: string(ep.Mode),
		controlHz: ep.ControlHz, teleopHz: ep.TeleopHz, spec: string(spec), start: ep.Start.UnixNano(), initialObs: blob(ep.InitialObs),
		tags: joinList(ep.Tags), note: ep.Note,
	}})
	for i := range steps {
		row := rowOfStep(&steps[i])
		row.count = i + 1
		ops = append(ops, op{kind: opStep, key: 1, step: row})
	}
	end := ep.End
	if end.IsZero() {
		end = ep.Start
	}
	outcome := ep.Outcome
	if outcome == "" || outcome == Running {
		outcome = Cut
	}
	if ep.Label != "" {
		ops = append(ops, op{kind: opLabel, key: 1, label: &sim.Label{Outcome: ep.Label, By: ep.LabelBy}})
	}
	ops = append(ops, op{kind: opEnd, key: 1, end: &endRow{
		end: end.UnixNano(), outcome: outcome, length: len(steps), ret: ep.Return, success: ep.Success,
		interv: ep.Interventions, operators: ep.Operators, versions: ep.PolicyVersion,
		complete: ep.Complete, dropped: ep.Dropped, finalObs: blob(ep.FinalObs),
	}})
	var id int64
	if err := s.commit(ctx, [][]op{ops}, map[int64]int64{}, func(_, v int64) { id = v }); err != nil {
		return 0, err
	}
	return id, nil
}

func rowOfStep(st *Step) stepRow {
	src := st.Source
	if src == "" {
		src = sim.Robot
	}
	return stepRow{
		t: st.T, obs: blob(st.Obs), act: blob(st.Action), pol: blob(st.PolicyAction),
		source: string(src), reward: st.Reward, terminal: st.Terminal, truncated: st.Truncated,
		success: st.Success, wall: st.Wall.UnixNano(), operator: st.Operator, version: st.PolicyVersion,
		ivStart: st.InterventionStart, ivEnd: st.InterventionEnd,
		subticks: blob(st.Subticks), help: st.Help, expert: blob(st.ExpertAction),
	}
}
