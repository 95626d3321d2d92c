package policies_test

import (
	"slices"
	"testing"

	"tandem/policies"
	"tandem/sim"
)

// DAgger trains on the demonstration and human steps and on the chosen
// share of the robot steps a simulated expert labelled, with the expert's
// action as the target; the choice repeats for a seed; the episodes it was
// given keep their executed actions and sources.
func TestDAggerRelabelsTheChosenRobotSteps(t *testing.T) {
	// Robot steps executed −0.5 where the expert says +0.5; the last two
	// robot steps of r1 have no label.
	robot := toyEpisode("r1", 1, "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrhhrr")
	robot.ExpertAction = make([][]float64, robot.Len())
	for t, s := range robot.Source {
		robot.Action[t] = []float64{-0.5}
		if s == sim.Robot && t < robot.Len()-2 {
			robot.ExpertAction[t] = []float64{0.5}
		}
	}
	eps := []policies.Episode{toyEpisode("demo", 0, "dddd"), robot}
	sources := slices.Clone(robot.Source)
	const labelled, unlabelled, other = 50, 2, 6 // other: 4 demo + 2 human rows
	for _, c := range []struct {
		relabel      string
		lo, hi       int // relabelled rows
		wantPositive bool
	}{
		{"0", 0, 0, false},
		{"1", labelled, labelled, true},
		{"0.5", 15, 35, false},
	} {
		steps := "5"
		if c.wantPositive {
			steps = "300"
		}
		in := policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 3,
			Params: map[string]string{"relabel": c.relabel, "steps": steps, "head": "deterministic"}}
		out := train(t, "dagger", in)
		n, _ := out.Stats["relabelled_rows"].(int)
		if n < c.lo || n > c.hi || out.Stats["rows"] != other+n || out.Stats["robot_rows_without_label"] != unlabelled {
			t.Errorf("relabel=%s: %v relabelled of %v rows, %v unlabelled; want %d..%d of %d + them, %d",
				c.relabel, out.Stats["relabelled_rows"], out.Stats["rows"], out.Stats["robot_rows_without_label"], c.lo, c.hi, other, unlabelled)
		}
		if again := train(t, "dagger", in); again.Stats["relabelled_rows"] != out.Stats["relabelled_rows"] {
			t.Errorf("relabel=%s: %v rows relabelled, then %v with the same seed", c.relabel, out.Stats["relabelled_rows"], again.Stats["relabelled_rows"])
		}
		if c.wantPositive {
			// Trained on expert labels alone among robot states (demo and
			// human steps act 0.5·x ≥ 0 too), it acts like the expert.
			act := make([]float64, 1)
			out.Model.NewPolicy().Act([]float64{2, 1}, act)
			if act[0] <= 0 {
				t.Errorf("relabel=1: acts %g at a robot state; want the expert's sign (+)", act[0])
			}
		}
	}
	for i, a := range robot.Action {
		if a[0] != -0.5 || robot.Source[i] != sources[i] {
			t.Fatalf("step %d: the input episode changed: action %v, source %s", i, a, robot.Source[i])
		}
	}
}
