package main

import (
	"context"
	"strings"
	"tandem/live"
	"tandem/policies"
	"tandem/teleop"
	"testing"

	"tandem/sim"
)

// opTask is a stand-in task for the operator hook: a point with velocity
// actions chasing a fixed target.
type opTask struct{ x, y, vx, vy float64 }

func (p *opTask) Spec() sim.Spec {
	low, high := sim.Normalised(2)
	return sim.Spec{Name: "op-stub", Kind: sim.Manipulation, ObsNames: []string{"x", "y"}, ActionNames: []string{"dx", "dy"},
		ActionLow: low, ActionHigh: high, ControlHz: 10, PhysicsHz: 10, Horizon: 40, Units: "m"}
}
func (p *opTask) Reset(uint64)               { *p = opTask{} }
func (p *opTask) Act(a []float64, _ float64) { p.vx, p.vy = a[0], a[1] }
func (p *opTask) Substep(dt float64)         { p.x += p.vx * dt; p.y += p.vy * dt }
func (p *opTask) Observe(dst []float64)      { dst[0], dst[1] = p.x, p.y }
func (p *opTask) Reward() float64            { return 0 }
func (p *opTask) Success() bool              { return false }
func (p *opTask) Terminal() bool             { return false }
func (p *opTask) Scene() *sim.Scene          { return &sim.Scene{Bodies: []string{"p"}} }
func (p *opTask) Poses(dst []sim.Pose) []sim.Pose {
	return append(dst[:0], sim.Pose{X: p.x, Y: p.y})
}
func (p *opTask) Expert(skill float64, seed uint64) sim.Policy {
	return sim.Skilled(sim.PolicyFunc(func(obs, dst []float64) {
		dst[0], dst[1] = min(max((0.5-obs[0])*3, -1), 1), min(max((-0.5-obs[1])*3, -1), 1)
	}), skill, seed, nil)
}

// TestOperatorUsageErrors: a bad --operator description is one usage
// error (exit 2) naming what is wrong, before any episode runs.
func TestOperatorUsageErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"skil=0.9", "valid: id, rule, skill, threshold"},
		{"rule=telepathy", "valid: distance, value, random"},
		{"threshold=-1", "threshold=-1 out of range (valid: finite, ≥ 0)"},
		{"skill=1.5", "skill=1.5 out of range (valid: [0, 1])"},
		{"rule=value,steps=0", "steps=0 out of range (valid: ≥ 1 with rule value)"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			code, out, errOut := tandem(t, "rollout", "--task", "reach", "--policy", "random", "--operator", "sim:"+tc.spec, "--episodes", "1")
			if code != 2 || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout and an error containing %q", code, out, errOut, tc.want)
			}
		})
	}
}

// simOp parses an --operator argument as the commands do.
func simOp(t *testing.T, arg string) teleop.OperatorConfig {
	t.Helper()
	op, err := live.ParseOperator(arg)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestOperatorHookRunsSharedEpisodes(t *testing.T) {
	op := simOp(t, "sim:skill=0.9,rule=distance,threshold=0.5")
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: func() sim.Task { return &opTask{} },
		Seeds:   []uint64{1, 2, 3},
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			p := policies.NewRandom(task.Spec(), seed)
			return newSimOperator(op, task, p, "random", seed)
		},
		KeepSteps: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range eps {
		if ep.Interventions == 0 {
			t.Errorf("episode %d: no interventions by the simulated operator on a random policy", ep.Index)
		}
		for _, s := range ep.Steps {
			if s.Source == sim.Human && s.Operator != "sim" || s.Source == sim.Robot && s.PolicyVersion != "random" {
				t.Fatalf("episode %d step %d: source %q operator %q version %q", ep.Index, s.T, s.Source, s.Operator, s.PolicyVersion)
			}
			if s.PolicyAction.Len() != 2 {
				t.Fatalf("episode %d step %d: policy action not recorded", ep.Index, s.T)
			}
		}
	}
}

// Explicit zeros in the spec are kept: rate=0 never intervenes, whereas
// the default rate does (the defect was rate=0 falling back to 0.5).
func TestOperatorHookKeepsExplicitZeros(t *testing.T) {
	count := func(spec string) int {
		op := simOp(t, "sim:"+spec)
		eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
			NewTask: func() sim.Task { return &opTask{} },
			Seeds:   []uint64{1, 2, 3},
			Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
				return newSimOperator(op, task, policies.NewRandom(task.Spec(), seed), "random", seed)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ep := range eps {
			n += ep.Interventions
		}
		return n
	}
	if n := count("rule=random,rate=0"); n != 0 {
		t.Errorf("rule=random,rate=0: %d interventions; want 0", n)
	}
	if n := count("rule=random"); n == 0 {
		t.Error("rule=random (rate 0.5): no interventions; want some")
	}
}
