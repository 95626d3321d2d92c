package demos

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"tandem/sim"
)

// Outcome says how an episode ended.
type Outcome string

// Episode outcomes.
const (
	Running   Outcome = "running" // still being recorded
	Succeeded Outcome = "success" // ended (terminal or horizon) after the success test held
	Failed    Outcome = "failure" // the task ended it (terminal) without success
	Timeout   Outcome = "timeout" // the horizon was reached without success
	Cut       Outcome = "cut"     // reset or session end before the episode was done
	Crashed   Outcome = "crashed" // the recording process died; marked at the next open
)

// An episode's mode is a sim.Mode: the session mode it ran in, read at its
// first step (docs/storage.md, "What the labels mean"). Replays are not
// recorded; an imported episode keeps the mode it had in its file.

func checkMode(mode sim.Mode) error {
	if _, err := sim.ParseMode(string(mode)); err != nil {
		return fmt.Errorf("demos: %w", err)
	}
	return nil
}

// newUID returns a fresh episode identity: 16 random bytes in hex.
func newUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// Episode is one stored episode's summary.
type Episode struct {
	ID int64 `json:"id"`
	// UID identifies the episode across stores: assigned when it is first
	// recorded, carried by MCAP exports and kept by import.
	UID           string    `json:"uid"`
	SessionID     int64     `json:"session_id"`
	Task          string    `json:"task"`
	TaskVersion   int       `json:"task_version"`
	Seed          uint64    `json:"seed"`
	Mode          sim.Mode  `json:"mode"`
	Operators     []string  `json:"operators"`
	PolicyVersion []string  `json:"policy_versions"`
	ControlHz     float64   `json:"control_hz"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end,omitzero"`
	Outcome       Outcome   `json:"outcome"`
	Length        int       `json:"length"`
	Return        float64   `json:"return"`
	Success       bool      `json:"success"`
	Interventions int       `json:"interventions"`
	// TeleopHz is the sub-tick rate of a live session's episode (0 when it
	// had none: rollouts, imports of older stores).
	TeleopHz float64 `json:"teleop_hz,omitempty"`
	// Label is an operator's verdict (success or failure) and LabelBy who
	// gave it; empty when nobody labelled the episode.
	Label   string   `json:"label,omitempty"`
	LabelBy string   `json:"label_by,omitempty"`
	Tags    []string `json:"tags"`
	Note    string   `json:"note"`
	// Complete reports an episode that ended cleanly (terminal or horizon)
	// with every step on disk.
	Complete bool `json:"complete"`
	// Dropped counts steps that never reached the disk.
	Dropped int `json:"dropped"`
	// Spec is the task's spec when recorded (names for each vector entry).
	Spec       sim.Spec  `json:"-"`
	InitialObs []float64 `json:"-"`
	FinalObs   []float64 `json:"-"`
}

// Duration is the episode's length in control periods.
func (e *Episode) Duration() time.Duration {
	if e.ControlHz <= 0 {
		return 0
	}
	return time.Duration(float64(e.Length) / e.ControlHz * float64(time.Second))
}

// Step is one stored control step.
type Step struct {
	T int `json:"t"`
	// Obs is the observation the action was chosen from; Next the one after
	// the step (nil for the last step of an episode cut by a crash).
	Obs               []float64  `json:"obs"`
	Next              []float64  `json:"next,omitempty"`
	Action            []float64  `json:"action"`
	PolicyAction      []float64  `json:"policy_action,omitempty"`
	Source            sim.Source `json:"source"`
	Reward            float64    `json:"reward"`
	Terminal          bool       `json:"terminal"`
	Truncated         bool       `json:"truncated"`
	Success           bool       `json:"success"`
	Wall              time.Time  `json:"wall"`
	Operator          string     `json:"operator,omitempty"`
	PolicyVersion     string     `json:"policy_version,omitempty"`
	InterventionStart bool       `json:"intervention_start,omitempty"`
	InterventionEnd   bool       `json:"intervention_end,omitempty"`
	// Subticks holds the commands a live period applied at its sub-ticks
	// (k·len(Action) values, sub-tick after sub-tick) when a human's input
	// was applied at each; replay re-executes them. Nil otherwise.
	Subticks []float64 `json:"subticks,omitempty"`
	// Help reports that a help request was raised at this step.
	Help bool `json:"help,omitempty"`
	// ExpertAction is a simulated expert's label for this step (what it
	// would have done), when one watched; nil otherwise.
	ExpertAction []float64 `json:"expert_action,omitempty"`
}

// Info describes an episode that is not coming from a live session's
// stream: a rollout, an import.
type Info struct {
	Spec      sim.Spec
	Seed      uint64
	Mode      sim.Mode // "" derives it from the steps' sources
	ControlHz float64  // 0 = Spec.ControlHz
	Start     time.Time
	Tags      []string
	Note      string
	// Session names the session row (default "rollout").
	Session string
	// Operator is used for steps that do not name one.
	Operator string
}

// joinList joins tags for the comma-separated tags column (Annotate
// refuses tags with commas).
func joinList(v []string) string { return strings.Join(v, ",") }

// splitList parses the comma-separated tags column.
func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// addUnique appends name to list if it is non-empty and not yet there.
func addUnique(list []string, name string) []string {
	if name == "" {
		return list
	}
	for _, x := range list {
		if x == name {
			return list
		}
	}
	return append(list, name)
}

// deriveMode names the mode from the sources seen when the caller gave none.
// It cannot tell a shared episode in which nobody intervened from an auto
// one; callers that know the session's mode pass it instead.
func deriveMode(robot, human, demo bool) sim.Mode {
	switch {
	case robot && human:
		return sim.ModeShared
	case robot:
		return sim.ModeAuto
	case human && !demo:
		return sim.ModeShared
	}
	return sim.ModeTeleop
}

// outcomeOf names the outcome of an episode whose last step is last.
func outcomeOf(success, terminal, truncated bool) Outcome {
	switch {
	case success && (terminal || truncated):
		return Succeeded
	case terminal:
		return Failed
	case truncated:
		return Timeout
	}
	return Cut
}
