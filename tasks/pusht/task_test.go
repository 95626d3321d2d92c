package pusht

import (
	"errors"
	"math"
	"testing"

	"tandem/sim"
)

func newTask(t testing.TB) *Task {
	t.Helper()
	task, ok := New().(*Task)
	if !ok {
		t.Fatalf("New returned %T; want *Task", New())
	}
	return task
}

func newEnv(t testing.TB) (*sim.Env, *Task) {
	t.Helper()
	task := newTask(t)
	env, err := sim.NewEnv(task, sim.EnvConfig{})
	if err != nil {
		t.Fatalf("NewEnv: %v", err)
	}
	return env, task
}

func TestSpec(t *testing.T) {
	makers := Makers()
	if len(makers) != 1 {
		t.Fatalf("got %d makers; want 1", len(makers))
	}
	s := makers[0]().Spec()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"name", s.Name, "push-t"},
		{"kind", s.Kind, sim.Manipulation},
		{"units", s.Units, "px"},
		{"obs size", s.ObsSize(), 5},
		{"action size", s.ActionSize(), 2},
		{"substeps", s.Substeps(0), 10},
		{"horizon", s.Horizon, 300},
		{"continuous", s.Continuous, false},
		{"version", s.Version, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v; want %v", c.name, c.got, c.want)
		}
	}
}

func TestResetReproducible(t *testing.T) {
	a, b := newTask(t), newTask(t)
	obsA, obsB := make([]float64, obsSize), make([]float64, obsSize)
	for seed := uint64(0); seed < 200; seed++ {
		a.Reset(seed)
		// b runs other episodes first: nothing may leak across resets.
		b.Reset(seed + 1000)
		b.Act([]float64{0.3, -0.2}, 0.1)
		for range 10 {
			b.Substep(0.01)
		}
		b.Reset(seed)
		a.Observe(obsA)
		b.Observe(obsB)
		for i := range obsA {
			if math.Float64bits(obsA[i]) != math.Float64bits(obsB[i]) {
				t.Fatalf("seed %d obs[%d]: got %v; want %v", seed, i, obsB[i], obsA[i])
			}
		}
		// The agent is kinematic: reset leaves it on its integer draw.
		for _, v := range obsA[:2] {
			if v != math.Trunc(v) || v < 50 || v >= 450 {
				t.Fatalf("seed %d: agent coordinate %v not an integer in [50, 450)", seed, v)
			}
		}
		if obsA[obsBlockAngle] < 0 || obsA[obsBlockAngle] >= 2*math.Pi {
			t.Fatalf("seed %d: angle %v not in [0, 2π)", seed, obsA[obsBlockAngle])
		}
	}
	a.Reset(1)
	a.Observe(obsA)
	a.Reset(2)
	a.Observe(obsB)
	if obsA == nil || obsA[0] == obsB[0] && obsA[2] == obsB[2] && obsA[4] == obsB[4] {
		t.Errorf("seeds 1 and 2 gave the same state %v", obsA)
	}
}

func TestResetSeparatesOverlap(t *testing.T) {
	task := newTask(t)
	// The agent starts with its centre inside the bar; the settling
	// substep starts pushing the T off it (as in the reference, one step
	// corrects only part of a deep overlap).
	task.resetTo(vec{256, 310}, vec{256, 300}, 0)
	if d := shapeDist(task.w.agentPos(), task.w.agentPos(), blockRects(task.w.blockPose())); d <= 0 {
		t.Errorf("after reset the agent's centre is %.2f px from the T; want outside it", d)
	}
	if p := task.w.blockPose().p; p == (vec{256, 300}) {
		t.Errorf("block did not move off the agent: %v", p)
	}
}

func blockRects(bp pose) *[2][4]vec {
	var r [2][4]vec
	for k, rect := range tRects {
		for i, v := range rect {
			r[k][i] = bp.apply(v)
		}
	}
	return &r
}

func TestActionMapping(t *testing.T) {
	for _, c := range []struct{ norm, px float64 }{{-1, 0}, {0, 256}, {1, 512}, {0.5, 384}} {
		if got := fromNorm(c.norm); got != c.px {
			t.Errorf("fromNorm(%v): got %v; want %v", c.norm, got, c.px)
		}
		if got := toNorm(c.px); got != c.norm {
			t.Errorf("toNorm(%v): got %v; want %v", c.px, got, c.norm)
		}
	}
}

func TestHoldKeepsAgentStill(t *testing.T) {
	env, task := newEnv(t)
	env.Reset(7)
	start := task.w.agentPos()
	act := make([]float64, 2)
	for range 20 {
		sim.HoldAction(task, act)
		if _, err := env.Step(act); err != nil {
			t.Fatalf("Step: %v", err)
		}
	}
	if d := task.w.agentPos().sub(start).norm(); d > 1e-9 {
		t.Errorf("agent drifted %g px under Hold; want 0", d)
	}
}

func TestEnvRejectsBadActions(t *testing.T) {
	env, _ := newEnv(t)
	env.Reset(3)
	if _, err := env.Step([]float64{0.1, 0.1}); err != nil {
		t.Fatalf("Step: %v", err)
	}
	before := make([]float64, obsSize)
	env.Observe(before)
	for _, c := range []struct {
		name string
		a    []float64
	}{
		{"NaN", []float64{math.NaN(), 0}},
		{"Inf", []float64{0, math.Inf(1)}},
		{"short", []float64{0}},
		{"long", []float64{0, 0, 0}},
	} {
		_, err := env.Step(c.a)
		var ae *sim.ActionError
		if !errors.As(err, &ae) {
			t.Errorf("%s: got error %v; want *sim.ActionError", c.name, err)
		}
		after := make([]float64, obsSize)
		env.Observe(after)
		for i := range before {
			if before[i] != after[i] {
				t.Errorf("%s: obs[%d] changed from %v to %v", c.name, i, before[i], after[i])
			}
		}
		if env.T() != 1 || env.Done() {
			t.Errorf("%s: episode at t=%d done=%v; want t=1, not done", c.name, env.T(), env.Done())
		}
	}
	if _, err := env.Step([]float64{0.2, 0.2}); err != nil {
		t.Errorf("valid step after refused ones: %v", err)
	}
}

func TestEnvStepDoesNotAllocate(t *testing.T) {
	env, _ := newEnv(t)
	env.Reset(11)
	// Sweep the agent through the field so contacts come and go.
	act := []float64{-0.8, -0.8}
	i := 0
	allocs := testing.AllocsPerRun(500, func() {
		i++
		act[0], act[1] = math.Sin(float64(i)*0.05), math.Cos(float64(i)*0.031)
		if env.Done() {
			env.Reset(uint64(i))
		}
		if _, err := env.Step(act); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Env.Step allocates %v times per call; want 0", allocs)
	}
}

func TestSceneAndPoses(t *testing.T) {
	task := newTask(t)
	sc := task.Scene()
	want := []string{"agent", "block", "goal"}
	if len(sc.Bodies) != len(want) {
		t.Fatalf("bodies %v; want %v", sc.Bodies, want)
	}
	for i := range want {
		if sc.Bodies[i] != want[i] {
			t.Errorf("body %d: got %q; want %q", i, sc.Bodies[i], want[i])
		}
	}
	if sc.Bounds != [4]float64{0, 0, 512, 512} {
		t.Errorf("bounds %v; want [0 0 512 512]", sc.Bounds)
	}
	count := map[int]int{}
	for _, s := range sc.Shapes {
		count[s.Body]++
		if s.Body == bodyGoal && (s.Fill || s.Layer != layerGoal) {
			t.Errorf("goal shape filled=%v layer=%d; want outline on layer %d", s.Fill, s.Layer, layerGoal)
		}
	}
	if count[-1] != 1 || count[bodyBlock] != 2 || count[bodyGoal] != 2 || count[bodyAgent] != 1 {
		t.Errorf("shapes per body %v; want walls 1, block 2, goal 2, agent 1", count)
	}
	task.resetTo(vec{100, 120}, vec{300, 310}, 0.5)
	poses := task.Poses(make([]sim.Pose, 3))
	if poses[bodyAgent].X != 100 || poses[bodyAgent].Y != 120 {
		t.Errorf("agent pose %+v; want (100, 120)", poses[bodyAgent])
	}
	if b := poses[bodyBlock]; math.Abs(b.X-300) > 1e-9 || math.Abs(b.Y-310) > 1e-9 || math.Abs(b.Angle-0.5) > 1e-12 {
		t.Errorf("block pose %+v; want (300, 310, 0.5)", b)
	}
	if g := poses[bodyGoal]; g.X != 256 || g.Y != 256 || g.Angle != math.Pi/4 {
		t.Errorf("goal pose %+v; want (256, 256, π/4)", g)
	}
}

func TestSuccessIsTerminal(t *testing.T) {
	task := newTask(t)
	task.resetTo(vec{60, 60}, goalPose.p, goalPose.angle)
	if got := task.Coverage(); math.Abs(got-1) > 1e-9 {
		t.Fatalf("coverage at the goal: got %v; want 1", got)
	}
	if task.Reward() != 1 || !task.Success() || !task.Terminal() {
		t.Errorf("at the goal: reward %v success %v terminal %v; want 1 true true", task.Reward(), task.Success(), task.Terminal())
	}
	task.resetTo(vec{60, 60}, vec{256, 150}, 0)
	if task.Success() || task.Terminal() {
		t.Errorf("far from the goal: success %v terminal %v; want false false", task.Success(), task.Terminal())
	}
}
