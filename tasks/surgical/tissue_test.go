package surgical

import (
	"testing"

	"github.com/ByteArena/box2d"

	"tandem/sim"
)

func TestTissueSprings(t *testing.T) {
	task := newTissueRetract().(*tissueRetract)
	n := 0
	for j := task.world.GetJointList(); j != nil; j = j.GetNext() {
		d, ok := j.(*box2d.B2DistanceJoint)
		if !ok {
			continue
		}
		n++
		if hz, z := d.GetFrequency(), d.GetDampingRatio(); hz < 4 || hz > 10 || z < 0.5 || z > 0.7 {
			t.Fatalf("spring at %g Hz, damping %g; want 4–10 Hz, 0.5–0.7", hz, z)
		}
	}
	// 8 bays × (2 rows + 2 diagonals) + 7 inner columns (the base is
	// pinned, the free edge is one rigid tab).
	if want := (flapCols-1)*4 + flapCols - 2; n != want {
		t.Fatalf("got %d springs; want %d", n, want)
	}
	if r := task.flap.stretch(); r > 1.001 {
		t.Fatalf("flap at rest stretched %.3f×; want 1", r)
	}
	if f := task.flap.uncovered(task.target.X-targetHalf, task.target.X+targetHalf); f != 0 {
		t.Fatalf("target at reset %.0f%% uncovered; want fully covered", 100*f)
	}
}

// TestTissueTears grasps the flap's edge and drags it away from the base:
// a spring passes 1.5× its rest length, the episode ends as a failure.
func TestTissueTears(t *testing.T) {
	task := newTissueRetract().(*tissueRetract)
	env, _ := sim.NewEnv(task, sim.EnvConfig{})
	env.Reset(1)
	in := task.tools[0]
	in.place(task.flap.edge().Add(vec{0, -0.1}), 0, jawOpen)
	s, _ := env.Step(closeJaw)
	if in.grip.held != task.flap.grip() {
		t.Fatal("closing on the lip: not holding the flap")
	}
	for range 6 {
		if s, _ = env.Step([]float64{1, 0, 0, -1}); s.Terminal {
			break
		}
	}
	if !s.Terminal || s.Success || s.Reward != -1 || !task.torn {
		t.Fatalf("dragging the edge 6 cm away: got terminal=%v success=%v reward=%v torn=%v (max stretch %.2f); want a torn, failed, terminal episode",
			s.Terminal, s.Success, s.Reward, task.torn, task.maxRatio)
	}
	if task.maxRatio <= tearRatio {
		t.Fatalf("torn with max stretch %.2f; want above %.1f", task.maxRatio, tearRatio)
	}
	if _, err := env.Step(openJaw); err != sim.ErrEpisodeOver {
		t.Fatalf("step after the tear: got %v; want ErrEpisodeOver", err)
	}
}

// TestTissueHoldNeedsTenSteps: success needs the target uncovered for 2 s
// in a row; the expert's episode shows the counter filling step by step.
func TestTissueHoldNeedsTenSteps(t *testing.T) {
	task := newTissueRetract().(*tissueRetract)
	env, _ := sim.NewEnv(task, sim.EnvConfig{})
	p := task.Expert(1, 0)
	obs := env.Reset(21)
	act := make([]float64, 4)
	free := 0
	for !env.Done() {
		p.Act(obs.Slice(), act)
		s, err := env.Step(act)
		if err != nil {
			t.Fatal(err)
		}
		obs = s.Next
		if task.free >= uncoverGoal {
			free++
		} else {
			free = 0
		}
		if s.Success {
			if free < 10 {
				t.Fatalf("success after %d uncovered steps; want at least 10", free)
			}
			return
		}
	}
	t.Fatal("expert never held the flap back long enough")
}
