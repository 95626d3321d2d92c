package demos

import (
	"encoding/json"
	"strconv"
	"time"

	"tandem/sim"
)

// RowKind names what a Row carries.
type RowKind string

// Row kinds, in the order an episode produces them (labels anywhere
// between its begin and its end).
const (
	RowBegin RowKind = "begin" // an episode starts: Begin
	RowStep  RowKind = "step"  // one control step: Step
	RowLabel RowKind = "label" // an operator labelled the episode: Label
	RowEnd   RowKind = "end"   // the episode ended: End
)

// Row is one thing a recorder stores about an episode, as it queues it: what
// another process needs to store the same episode (package bus carries rows
// between processes; Store.Ingest stores them, idempotently). Rows of one
// episode share its UID, the episode's identity in every store.
type Row struct {
	Kind  RowKind       `json:"kind"`
	UID   string        `json:"uid"`
	Begin *EpisodeBegin `json:"begin,omitempty"`
	Step  *Step         `json:"step,omitempty"`
	Label *sim.Label    `json:"label,omitempty"`
	End   *EpisodeEnd   `json:"end,omitempty"`
}

// ID is the row's identity within its episode's rows: "begin", "label",
// "end", or the step's t. Two rows with the same UID and ID carry the same
// data, so a transport may deduplicate on UID-ID.
func (r *Row) ID() string {
	if r.Kind == RowStep && r.Step != nil {
		return strconv.Itoa(r.Step.T)
	}
	return string(r.Kind)
}

// EpisodeBegin is an episode's identity and settings, fixed at its start.
type EpisodeBegin struct {
	// Session is the name of the session row in the store of origin
	// (a live session's id@instance, or a rollout's name).
	Session     string          `json:"session"`
	Task        string          `json:"task"`
	TaskVersion int             `json:"task_version"`
	Seed        uint64          `json:"seed"`
	Mode        sim.Mode        `json:"mode,omitempty"` // "" until the first step tells
	ControlHz   float64         `json:"control_hz"`
	TeleopHz    float64         `json:"teleop_hz,omitempty"`
	Spec        json.RawMessage `json:"spec"`
	Start       time.Time       `json:"start"`
	InitialObs  []float64       `json:"initial_obs,omitempty"`
	Tags        []string        `json:"tags,omitempty"`
	Note        string          `json:"note,omitempty"`
}

// EpisodeEnd is an episode's summary when it ended.
type EpisodeEnd struct {
	End            time.Time `json:"end"`
	Outcome        Outcome   `json:"outcome"`
	Length         int       `json:"length"` // steps stored
	Return         float64   `json:"return"`
	Success        bool      `json:"success"`
	Interventions  int       `json:"interventions"`
	Operators      []string  `json:"operators,omitempty"`
	PolicyVersions []string  `json:"policy_versions,omitempty"`
	Mode           sim.Mode  `json:"mode,omitempty"` // replaces the begin's mode when set
	Complete       bool      `json:"complete"`
	Dropped        int       `json:"dropped"`
	FinalObs       []float64 `json:"final_obs,omitempty"`
}

// tap hands a queued op to RecorderConfig.Tap as a Row. uid is its
// episode's; session the session row's name (used by a begin).
func (r *Recorder) tap(o *op, uid, session string) {
	if r.cfg.Tap == nil {
		return
	}
	r.cfg.Tap(rowOf(o, uid, session))
}

// rowOf converts a queued op into a Row. Vectors are decoded from the
// op's blobs, so the row holds exactly what the store writes.
func rowOf(o *op, uid, session string) Row {
	row := Row{UID: uid}
	switch o.kind {
	case opBegin:
		b := o.begin
		init, _ := decodeVec(b.initialObs) // blobs made by encodeVec: always whole
		row.Kind, row.UID = RowBegin, b.uid
		row.Begin = &EpisodeBegin{
			Session: session, Task: b.task, TaskVersion: b.taskVersion, Seed: b.seed, Mode: sim.Mode(b.mode),
			ControlHz: b.controlHz, TeleopHz: b.teleopHz, Spec: json.RawMessage(b.spec), Start: time.Unix(0, b.start).UTC(),
			InitialObs: init, Tags: nonEmptyList(b.tags), Note: b.note,
		}
	case opStep:
		row.Kind = RowStep
		row.Step = stepOfRow(&o.step)
	case opLabel:
		row.Kind = RowLabel
		l := *o.label
		row.Label = &l
	case opEnd:
		e := o.end
		final, _ := decodeVec(e.finalObs)
		row.Kind = RowEnd
		row.End = &EpisodeEnd{
			End: time.Unix(0, e.end).UTC(), Outcome: e.outcome, Length: e.length, Return: e.ret, Success: e.success,
			Interventions: e.interv, Operators: e.operators, PolicyVersions: e.versions, Mode: sim.Mode(e.mode),
			Complete: e.complete, Dropped: e.dropped, FinalObs: final,
		}
	}
	return row
}

func nonEmptyList(s string) []string {
	if s == "" {
		return nil
	}
	return splitList(s)
}

// stepOfRow decodes a queued step row.
func stepOfRow(r *stepRow) *Step {
	obs, _ := decodeVec(r.obs)
	act, _ := decodeVec(r.act)
	pol, _ := decodeVec(r.pol)
	sub, _ := decodeVec(r.subticks)
	expert, _ := decodeVec(r.expert)
	return &Step{
		T: r.t, Obs: obs, Action: act, PolicyAction: pol, Source: sim.Source(r.source), Reward: r.reward,
		Terminal: r.terminal, Truncated: r.truncated, Success: r.success, Wall: time.Unix(0, r.wall).UTC(),
		Operator: r.operator, PolicyVersion: r.version, InterventionStart: r.ivStart, InterventionEnd: r.ivEnd,
		Subticks: sub, Help: r.help, ExpertAction: expert,
	}
}
