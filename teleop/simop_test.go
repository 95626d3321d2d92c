package teleop

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"tandem/sim"
)

func TestParseOperator(t *testing.T) {
	def := DefaultOperatorConfig
	with := func(c OperatorConfig, f func(*OperatorConfig)) OperatorConfig { f(&c); return c }
	for _, tc := range []struct {
		name, spec string
		want       OperatorConfig // compared whole
		err        string
	}{
		{"defaults", "", def(DistanceRule), ""},
		{"issue example", "skill=0.9,rule=distance,threshold=0.5", with(def(DistanceRule), func(c *OperatorConfig) { c.Skill = 0.9 }), ""},
		{"value gets RLIF's 4 steps", "rule=value", with(def(ValueRule), func(c *OperatorConfig) { c.Steps = 4 }), ""},
		{"rule after other keys", "steps=2,rule=value", with(def(ValueRule), func(c *OperatorConfig) { c.Steps = 2 }), ""},
		{"random draws every step", "rule=random,delay=2", with(def(RandomRule), func(c *OperatorConfig) { c.Steps, c.Delay = 1, 2 }), ""},
		{"explicit skill=0", "skill=0", with(def(DistanceRule), func(c *OperatorConfig) { c.Skill = 0 }), ""},
		{"explicit rate=0", "rule=random,rate=0", with(def(RandomRule), func(c *OperatorConfig) { c.Rate = 0 }), ""},
		{"explicit p=0 and q=0", "rule=value,p=0,q=0", with(def(ValueRule), func(c *OperatorConfig) { c.P, c.Q = 0, 0 }), ""},
		{"explicit threshold=0", "threshold=0", with(def(DistanceRule), func(c *OperatorConfig) { c.Threshold = 0 }), ""},
		{"explicit alpha=0", "rule=value,alpha=0", with(def(ValueRule), func(c *OperatorConfig) { c.Alpha = 0 }), ""},
		{"distance steps=0 means until agreement", "steps=0", def(DistanceRule), ""},
		{"id is named sim:ID", "id=ann", with(def(DistanceRule), func(c *OperatorConfig) { c.ID = "sim:ann" }), ""},
		{"id already sim:ID", "id=sim:ann", with(def(DistanceRule), func(c *OperatorConfig) { c.ID = "sim:ann" }), ""},
		{"unknown key", "skil=0.9", OperatorConfig{}, "valid: id, rule, skill"},
		{"key twice", "skill=0.9,skill=0.8", OperatorConfig{}, "given twice"},
		{"not key=value", "skill", OperatorConfig{}, "not KEY=VALUE"},
		{"bad number", "threshold=big", OperatorConfig{}, "not a number"},
		{"NaN", "alpha=NaN", OperatorConfig{}, "not a number"},
		{"skill above 1", "skill=1.5", OperatorConfig{}, "skill=1.5 out of range (valid: [0, 1])"},
		{"skill below 0", "skill=-0.1", OperatorConfig{}, "skill=-0.1 out of range (valid: [0, 1])"},
		{"rate above 1", "rule=random,rate=2", OperatorConfig{}, "rate=2 out of range (valid: [0, 1])"},
		{"p above 1", "rule=value,p=1.2", OperatorConfig{}, "p=1.2 out of range (valid: [0, 1])"},
		{"negative q", "rule=value,q=-1", OperatorConfig{}, "q=-1 out of range (valid: [0, 1])"},
		{"alpha above 1", "rule=value,alpha=3", OperatorConfig{}, "alpha=3 out of range (valid: [0, 1])"},
		{"negative threshold", "threshold=-1", OperatorConfig{}, "threshold=-1 out of range (valid: finite, ≥ 0)"},
		{"value steps=0", "rule=value,steps=0", OperatorConfig{}, "steps=0 out of range (valid: ≥ 1 with rule value)"},
		{"random steps=0", "rule=random,steps=0", OperatorConfig{}, "steps=0 out of range (valid: ≥ 1 with rule random)"},
		{"negative steps", "steps=-1", OperatorConfig{}, "steps=-1 out of range"},
		{"delay too long", "delay=1001", OperatorConfig{}, "delay=1001 out of range (valid: 0..1000 ticks)"},
		{"unknown rule", "rule=psychic", OperatorConfig{}, "valid: distance, value, random"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOperator(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v; want %+v", got, tc.want)
			}
			again, err := ParseOperator(got.String())
			if err != nil || again != got {
				t.Errorf("round trip through String: %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

// A zero OperatorConfig is rejected rather than silently defaulted.
func TestNewSimOperatorRejectsZeroConfig(t *testing.T) {
	task := &stubTask{}
	task.Reset(1)
	if _, err := NewSimOperator(task, OperatorConfig{Delay: 2}); err == nil || !strings.Contains(err.Error(), "DefaultOperatorConfig") {
		t.Errorf("error %v; want one pointing at DefaultOperatorConfig", err)
	}
}

// Explicit zeros reach the operator: rate=0 never intervenes, p=0,q=0
// never intervenes, skill=0 runs the expert at skill 0 (its actions differ
// from the perfect expert's).
func TestSimOperatorExplicitZeros(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4}
	for _, tc := range []struct {
		spec string
		none bool // no interventions expected
	}{
		{"rule=random,rate=0", true},
		{"rule=value,p=0,q=0", true},
		{"rule=random", false}, // the default rate 0.5 does intervene
	} {
		t.Run(tc.spec, func(t *testing.T) {
			n := 0
			for _, ep := range sharedRollout(t, tc.spec, random, seeds...) {
				n += ep.Interventions
			}
			if tc.none && n != 0 || !tc.none && n == 0 {
				t.Errorf("interventions %d; want none %v", n, tc.none)
			}
		})
	}
	t.Run("skill=0", func(t *testing.T) {
		task := &stubTask{}
		task.Reset(3)
		c, err := ParseOperator("skill=0,rule=random,rate=1")
		if err != nil {
			t.Fatal(err)
		}
		op, err := NewSimOperator(task, c)
		if err != nil {
			t.Fatal(err)
		}
		if op.Config().Skill != 0 {
			t.Fatalf("skill %v; want 0", op.Config().Skill)
		}
		perfect := task.Expert(1, 0)
		obs := make([]float64, 4)
		task.Observe(obs)
		want := make([]float64, 3)
		differs := false
		for range 20 {
			perfect.Act(obs, want)
			op.Observe(obs, []float64{0, 0, 0})
			c, _ := op.Latest()
			if !equal(c.Action.Slice(), want) {
				differs = true
			}
		}
		if !differs {
			t.Error("skill=0 operator acted exactly as the skill-1 expert for 20 ticks; want noise")
		}
	})
}

// randomPolicy acts uniformly in [-1, 1], seeded per episode.
type randomPolicy struct {
	seed uint64
	rng  *rand.Rand
}

func (p *randomPolicy) Reset(seed uint64) { p.rng = rand.New(rand.NewPCG(p.seed, seed)) }
func (p *randomPolicy) Act(_, dst []float64) {
	for i := range dst {
		dst[i] = p.rng.Float64()*2 - 1
	}
}

// sharedRollout runs episodes of the stub task with policy pol and a
// simulated operator described by spec.
func sharedRollout(t *testing.T, spec string, pol func(task sim.Task, seed uint64) sim.Policy, seeds ...uint64) []sim.Episode {
	t.Helper()
	op, err := ParseOperator(spec)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: func() sim.Task { return &stubTask{} },
		Seeds:   seeds,
		Workers: 2,
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			cfg := op
			cfg.Seed += seed
			a, _, err := NewShared(task, pol(task, seed), "test", cfg)
			return a, err
		},
		KeepSteps: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

func random(_ sim.Task, seed uint64) sim.Policy { return &randomPolicy{seed: seed} }
func expert(task sim.Task, seed uint64) sim.Policy {
	return task.Expert(1, seed)
}

func TestSimOperatorDeterministic(t *testing.T) {
	for _, spec := range []string{"rule=distance,skill=0.8", "rule=value,skill=0.9,delay=1", "rule=random"} {
		t.Run(spec, func(t *testing.T) {
			a := sharedRollout(t, spec, random, 1, 2, 3)
			b := sharedRollout(t, spec, random, 1, 2, 3)
			for i := range a {
				if len(a[i].Steps) != len(b[i].Steps) {
					t.Fatalf("episode %d: %d vs %d steps", i, len(a[i].Steps), len(b[i].Steps))
				}
				for k := range a[i].Steps {
					x, y := a[i].Steps[k], b[i].Steps[k]
					if !reflect.DeepEqual(x.Decision, y.Decision) || x.Step != y.Step {
						t.Fatalf("episode %d step %d differs:\n%+v\n%+v", i, k, x.Decision, y.Decision)
					}
				}
			}
		})
	}
}

func TestSimOperatorRulesIntervene(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		policy     func(sim.Task, uint64) sim.Policy
		min, max   int // interventions summed over 4 episodes
	}{
		{"distance on a random policy", "rule=distance", random, 4, 1000},
		{"distance leaves a perfect policy alone", "rule=distance", expert, 0, 0},
		{"value on a random policy", "rule=value", random, 20, 1000},
		{"value strays rarely on a perfect policy", "rule=value,skill=1", expert, 1, 20},
		{"value with q=0 leaves a perfect policy alone", "rule=value,q=0", expert, 0, 0},
		{"random at 0.5", "rule=random", random, 20, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			for _, ep := range sharedRollout(t, tc.spec, tc.policy, 10, 11, 12, 13) {
				n += ep.Interventions
			}
			if n < tc.min || n > tc.max {
				t.Errorf("interventions %d; want %d..%d", n, tc.min, tc.max)
			}
		})
	}
}

// segments returns the lengths of the runs of human steps.
func segments(steps []sim.Record) []int {
	var out []int
	run := 0
	for i, s := range steps {
		if s.Source == sim.Human {
			if s.InterventionStart != (run == 0) {
				return nil // markers disagree with the sources
			}
			run++
		}
		if (s.Source != sim.Human || i == len(steps)-1) && run > 0 {
			out = append(out, run)
			run = 0
		}
	}
	return out
}

func TestValueRuleLastsFourSteps(t *testing.T) {
	for _, ep := range sharedRollout(t, "rule=value", random, 5, 6) {
		segs := segments(ep.Steps)
		if len(segs) == 0 {
			t.Fatal("no interventions (or markers disagree with sources)")
		}
		for i, n := range segs {
			last := i == len(segs)-1 && ep.Steps[len(ep.Steps)-1].Source == sim.Human
			if n != RLIFSteps && !(last && n < RLIFSteps) {
				t.Errorf("episode %d: intervention %d lasted %d steps; want %d", ep.Index, i, n, RLIFSteps)
			}
		}
	}
}

func TestRandomRuleRate(t *testing.T) {
	human, total := 0, 0
	for _, ep := range sharedRollout(t, "rule=random,rate=0.3", random, 1, 2, 3, 4, 5, 6) {
		for _, s := range ep.Steps {
			total++
			if s.Source == sim.Human {
				human++
			}
		}
	}
	if f := float64(human) / float64(total); math.Abs(f-0.3) > 0.07 {
		t.Errorf("human fraction %.3f over %d steps; want 0.3 ± 0.07", f, total)
	}
}

// switchPolicy disagrees with the expert for its first `bad` ticks, then
// acts as the expert.
type switchPolicy struct {
	expert sim.Policy
	bad, t int
}

func (p *switchPolicy) Reset(uint64) { p.t = 0 }
func (p *switchPolicy) Act(obs, dst []float64) {
	p.expert.Act(obs, dst)
	if p.t < p.bad {
		dst[0], dst[1] = dst[0]+1, dst[1]+1 // ‖Δ‖ = √2, far above 0.5
	}
	p.t++
}

func TestDistanceRuleHandsBackOnAgreement(t *testing.T) {
	eps := sharedRollout(t, "rule=distance", func(task sim.Task, seed uint64) sim.Policy {
		return &switchPolicy{expert: task.Expert(1, seed), bad: 5}
	}, 3)
	steps := eps[0].Steps
	for k, s := range steps[:12] {
		want := sim.Robot
		if k < 5 {
			want = sim.Human
		}
		if s.Source != want {
			t.Errorf("step %d: source %q; want %q", k, s.Source, want)
		}
	}
	if !steps[5].InterventionEnd || eps[0].Interventions != 1 {
		t.Errorf("end marker %v interventions %d; want true 1", steps[5].InterventionEnd, eps[0].Interventions)
	}
}

func TestSimOperatorDelay(t *testing.T) {
	task := &stubTask{}
	task.Reset(4)
	cfg := DefaultOperatorConfig(DistanceRule)
	cfg.Delay = 2
	op, err := NewSimOperator(task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewArbiter(task, Config{Mode: sim.ModeTeleop})
	if err != nil {
		t.Fatal(err)
	}
	a.AddSource("sim", op)
	env, _ := sim.NewEnv(task, sim.EnvConfig{})
	obs := env.Reset(4)
	a.Reset(4)
	ref := task.Expert(1, 0)
	var want [][]float64
	act := make([]float64, 3)
	for k := range 8 {
		e := make([]float64, 3)
		ref.Act(obs.Slice(), e)
		want = append(want, e)
		d := a.Decide(obs.Slice(), act)
		if d.Source != sim.Demo || d.Operator != "sim" {
			t.Fatalf("tick %d: source %q operator %q; want demo sim", k, d.Source, d.Operator)
		}
		exp := []float64{0, 0, 0} // holds still until the delay has passed
		if k >= 2 {
			exp = want[k-2]
		}
		if !equal(act, exp) {
			t.Errorf("tick %d: action %v; want %v (expert from tick %d)", k, act, exp, k-2)
		}
		s, err := env.Step(act)
		if err != nil {
			t.Fatal(err)
		}
		obs = s.Next
	}
}

// valuedTask judges actions by how far they move the tool towards the
// target, a one-step lookahead.
type valuedTask struct{ stubTask }

func (v *valuedTask) ActionValue(obs, a []float64) float64 {
	d0 := math.Hypot(obs[2]-obs[0], obs[3]-obs[1])
	d1 := math.Hypot(obs[2]-obs[0]-a[0]*0.1, obs[3]-obs[1]-a[1]*0.1)
	return 10 + d0 - d1 // positive, higher is better
}

func TestValueRuleUsesTaskJudgement(t *testing.T) {
	task := &valuedTask{}
	task.Reset(1)
	cfg := DefaultOperatorConfig(ValueRule)
	cfg.P, cfg.Q = 1, 0
	op, err := NewSimOperator(task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]float64, 4)
	task.Observe(obs)
	away := []float64{-(obs[2] - obs[0]) * 5, -(obs[3] - obs[1]) * 5, 1}
	op.Observe(obs, away)
	if c, _ := op.Latest(); !c.Engaged {
		t.Errorf("policy moving away: engaged %v; want true", c.Engaged)
	}
	op.Reset(1)
	toward := []float64{min(max((obs[2]-obs[0])*5, -1), 1), min(max((obs[3]-obs[1])*5, -1), 1), 1}
	op.Observe(obs, toward)
	if c, _ := op.Latest(); c.Engaged {
		t.Errorf("policy as good as the expert: engaged %v; want false", c.Engaged)
	}
}

func TestAgreement(t *testing.T) {
	zero := []float64{0, 0}
	for _, tc := range []struct {
		name    string
		a, e, h []float64
		want    float64
	}{
		{"same direction", []float64{0.2, 0}, []float64{1, 0}, zero, 1},
		{"opposite", []float64{-1, 0}, []float64{1, 0}, zero, -1},
		{"perpendicular", []float64{0, 1}, []float64{1, 0}, zero, 0},
		{"both still", zero, zero, zero, 1},
		{"only the expert still", []float64{1, 0}, zero, zero, 0},
		{"relative to the hold (absolute targets)", []float64{0.6, 0.5}, []float64{0.9, 0.5}, []float64{0.5, 0.5}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := agreement(tc.a, tc.e, tc.h); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
}

// The same operator in a live Session, ticked in virtual time, makes the
// same decisions as in a headless rollout.
func TestSimOperatorInSessionMatchesRollout(t *testing.T) {
	const seed = 21
	spec := "rule=value,skill=0.9"
	want := sharedRollout(t, spec, random, seed)[0].Steps
	task := &stubTask{}
	cfg, _ := ParseOperator(spec)
	cfg.Seed += seed
	a, _, err := NewShared(task, random(task, seed), "test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := sim.NewManualClock(time.Unix(100, 0))
	s, err := sim.NewSession(task, sim.SessionConfig{ID: "s", Controller: a, Clock: clock, Seed: seed, ManualReset: true})
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(len(want) + 8)
	now := clock.Now()
	for range len(want) + 1 {
		now = s.Tick(now)
	}
	var got []*sim.Record
	for len(sub.C) > 0 {
		if r := <-sub.C; r.Kind == sim.StepRecord {
			got = append(got, r)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("session steps %d; want %d", len(got), len(want))
	}
	for k := range want {
		if !reflect.DeepEqual(got[k].Decision, want[k].Decision) || got[k].Step.Action != want[k].Step.Action {
			t.Fatalf("step %d: session %+v; rollout %+v", k, got[k].Decision, want[k].Decision)
		}
	}
	if st := a.State(); st.Interventions == 0 || s.State().Interventions != st.Interventions {
		t.Errorf("interventions arbiter %d session %d; want equal and > 0", st.Interventions, s.State().Interventions)
	}
}

// TestValueRuleJudgesAgainstTheReference: at skill below 1 the value rule
// compares the policy with the skill-1 script (RLIF's reference agent), so
// a policy acting exactly as that script is never judged worse, however
// noisy the operator's own expert.
func TestValueRuleJudgesAgainstTheReference(t *testing.T) {
	task := &stubTask{}
	task.Reset(1)
	cfg := DefaultOperatorConfig(ValueRule)
	cfg.Skill, cfg.P, cfg.Q = 0.3, 1, 0 // intervene exactly when judged worse
	op, err := NewSimOperator(task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	op.Reset(1)
	perfect := task.Expert(1, cfg.Seed^0x7ef0e7a75c1f1)
	obs, pa := make([]float64, 4), make([]float64, 3)
	for range 50 {
		task.Observe(obs)
		perfect.Act(obs, pa)
		op.Observe(obs, pa)
		if c, _ := op.Latest(); c.Engaged {
			t.Fatal("the operator intervened on a policy that acts as the reference script")
		}
		task.Act(pa, 0.1)
		task.Substep(0.1)
	}
}
