package rl

import (
	"math"
	"strings"
	"testing"

	"tandem/policies"
	"tandem/sim"
)

// episodeOf builds an episode from a source string: r robot, h human, d
// demo; capital H is a human step with the intervention-start flag set.
// Observation t is [t]; action t is [t/10]; reward t is t.
func episodeOf(srcs string, terminal bool) policies.Episode {
	var e policies.Episode
	for t, c := range srcs {
		e.Obs = append(e.Obs, []float64{float64(t)})
		e.Action = append(e.Action, []float64{float64(t) / 10})
		e.Reward = append(e.Reward, float64(t))
		var s sim.Source
		switch c {
		case 'r':
			s = sim.Robot
		case 'h', 'H':
			s = sim.Human
		default:
			s = sim.Demo
		}
		e.Source = append(e.Source, s)
		e.InterventionStart = append(e.InterventionStart, c == 'H')
	}
	e.Next = []float64{float64(len(srcs))}
	e.Terminal, e.Truncated = terminal, !terminal
	return e
}

var spec1 = sim.Spec{Name: "toy", ObsNames: []string{"x"}, ActionNames: []string{"a"}, ActionLow: []float64{-1}, ActionHigh: []float64{1}}

// RLIF's rewards: −1 on exactly the robot step before each intervention
// start (flagged or inferred), 0 everywhere else, no task reward, and
// interventions do not end the episode; which human steps are kept
// follows expert_steps.
func TestRLIFLabels(t *testing.T) {
	for _, c := range []struct {
		name, srcs string
		terminal   bool
		steps      ExpertSteps
		want       string // per kept transition: obs index, reward sign (- or 0), buffers (d, o, b: both), done (!)
	}{
		{"robot only", "rrrr", false, ExpertAll, "0o 1o 2o 3o"},
		{"one intervention, all steps", "rrHhhrr", false, ExpertAll, "0o 1-o 2b 3b 4b 5o 6o"},
		{"one intervention, last step", "rrHhhrr", false, ExpertLast, "0o 1-o 4b 5o 6o"},
		{"unflagged start is inferred", "rrhhr", false, ExpertAll, "0o 1-o 2b 3b 4o"},
		{"two interventions back to back", "rHhHhr", false, ExpertLast, "0-o 2b 4b 5o"},
		{"intervention at the start", "Hhrrr", false, ExpertAll, "0b 1b 2o 3o 4o"},
		{"intervention to the end", "rrHh", true, ExpertLast, "0o 1-o 3b!"},
		{"terminal robot step", "rrr", true, ExpertAll, "0o 1o 2o!"},
		{"demonstration", "ddd", true, ExpertLast, "0d 1d 2d!"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(RLIF)
			cfg.ExpertSteps = c.steps
			e := episodeOf(c.srcs, c.terminal)
			var got []string
			for _, l := range Label(nil, RLIF, &e, &spec1, &cfg) {
				s := string(rune('0' + int(l.Obs[0])))
				switch l.Reward {
				case -1:
					s += "-"
				case 0:
				default:
					t.Fatalf("reward %g", l.Reward)
				}
				switch {
				case l.InDemo() && l.InOnline():
					s += "b"
				case l.InDemo():
					s += "d"
				default:
					s += "o"
				}
				if l.Done {
					s += "!"
				}
				if l.Next[0] != l.Obs[0]+1 {
					t.Fatalf("step %g has next %g", l.Obs[0], l.Next[0])
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Fatalf("got %s; want %s", g, c.want)
			}
		})
	}
}

// RLPD keeps the task's reward, keeps every human step in both buffers,
// and subtracts the gripper penalty when the jaw changes state.
func TestRLPDLabels(t *testing.T) {
	spec := sim.Spec{Name: "grip", ObsNames: []string{"x"}, ActionNames: []string{"vx", "jaw"},
		ActionLow: []float64{-1, -1}, ActionHigh: []float64{1, 1}, ActionKinds: []sim.ActionKind{sim.ActionRate, sim.ActionLevel}}
	e := policies.Episode{Next: []float64{4}, Terminal: true}
	for t, jaw := range []float64{1, 1, -1, -0.5} {
		e.Obs = append(e.Obs, []float64{float64(t)})
		e.Action = append(e.Action, []float64{0.3, jaw})
		e.Source = append(e.Source, sim.Robot)
		e.Reward = append(e.Reward, map[bool]float64{true: 1, false: 0}[t == 3])
	}
	e.Source[1] = sim.Human
	cfg := DefaultConfig(RLPD)
	cfg.GripperPenalty = 0.02
	ls := Label(nil, RLPD, &e, &spec, &cfg)
	want := []float64{0, 0, -0.02, 1}
	if len(ls) != 4 {
		t.Fatalf("%d transitions; want 4", len(ls))
	}
	for i, l := range ls {
		if math.Abs(l.Reward-want[i]) > 1e-12 {
			t.Fatalf("step %d reward %g; want %g", i, l.Reward, want[i])
		}
	}
	if !ls[1].InDemo() || !ls[1].InOnline() || ls[0].InDemo() || !ls[3].Done || ls[2].Done {
		t.Fatalf("buffers or done flags wrong: %+v", ls)
	}
	if d := gripperDims(&spec); len(d) != 1 || d[0] != 1 {
		t.Fatalf("gripper dims %v; want [1]", d)
	}
}

// A cut episode without a final observation loses only its last step.
func TestLabelCutEpisode(t *testing.T) {
	e := episodeOf("rrr", false)
	e.Next, e.Truncated = nil, false
	cfg := DefaultConfig(RLIF)
	if n := len(Label(nil, RLIF, &e, &spec1, &cfg)); n != 2 {
		t.Fatalf("%d transitions; want 2", n)
	}
}
