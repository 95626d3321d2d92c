package policies_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"tandem/demos"
	"tandem/policies"
	"tandem/sim"
)

// The learners' classes are the store's labels, window and all.
func TestSiriusClassesMatchTheStoreLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	srcs := []sim.Source{sim.Demo, sim.Robot, sim.Human}
	for trial := range 200 {
		n := 1 + rng.IntN(60)
		e := policies.Episode{Source: make([]sim.Source, n), InterventionStart: make([]bool, n)}
		steps := make([]demos.Step, n)
		for i := range n {
			s := srcs[rng.IntN(3)]
			if rng.IntN(4) > 0 && i > 0 { // runs, so that windows fill
				s = e.Source[i-1]
			}
			e.Source[i] = s
			// Some controllers set the flag, some do not.
			e.InterventionStart[i] = s == sim.Human && i > 0 && e.Source[i-1] != sim.Human && rng.IntN(2) == 0
			steps[i] = demos.Step{Source: s, InterventionStart: e.InterventionStart[i]}
		}
		for _, window := range []int{0, 3, 15} {
			want := demos.LabelSteps(steps, window)
			got := policies.SiriusClasses(&e, window)
			for i := range want {
				if got[i] != want[i].Class {
					t.Fatalf("trial %d window %d: sources %v: classes %v; the store labels step %d %d", trial, window, e.Source, got, i, want[i].Class)
				}
			}
		}
	}
	// Sirius's own example: the window stops at the previous intervention.
	e := toyEpisode("x", 1, "rrrrhhrrrh")
	got := policies.SiriusClasses(&e, 2)
	want := []sim.Class{0, 0, -10, -10, 1, 1, 0, -10, -10, 1}
	if !slices.Equal(got, want) {
		t.Errorf("classes %v; want %v", got, want)
	}
	got = policies.SiriusClasses(&e, 15)
	want = []sim.Class{-10, -10, -10, -10, 1, 1, -10, -10, -10, 1}
	if !slices.Equal(got, want) {
		t.Errorf("window 15: classes %v; want %v", got, want)
	}
}

func classes(demo, robot, intv, pre int) []sim.Class {
	var c []sim.Class
	for _, x := range []struct {
		n int
		c sim.Class
	}{{demo, sim.ClassDemo}, {robot, sim.ClassRobot}, {intv, sim.ClassIntervention}, {pre, sim.ClassPreIntervention}} {
		for range x.n {
			c = append(c, x.c)
		}
	}
	return c
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestSiriusWeightsAreTheReferenceOnes(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		demo, robot, intv, pr int
		want                  policies.ClassWeights
	}{
		// ρ = 0.2 demo, 0.5 robot, 0.2 intervention, 0.1 pre-intervention:
		// w_int = 0.5/0.2, w_pre = 0.002/0.1, w_demo = 1,
		// w_robot = (1 − 0.5 − 0.2 − 0.002)/0.5.
		{"reference", 4, 10, 4, 2, policies.ClassWeights{Demo: 1, Robot: 0.596, Intervention: 2.5, PreIntervention: 0.02}},
		// ρ_demo = 0.6 > 0.498: robot would be negative; guarded.
		{"guard", 12, 4, 3, 1, policies.ClassWeights{Demo: 0.498 / 0.6, Robot: 0, Intervention: 0.5 / 0.15, PreIntervention: 0.002 / 0.05, Guarded: true}},
		// No demos: the robot takes the rest, 1 − 0.5 − 0.002.
		{"no demos", 0, 6, 3, 1, policies.ClassWeights{Robot: 0.498 / 0.6, Intervention: 0.5 / 0.3, PreIntervention: 0.002 / 0.1}},
		// No pre-intervention step: its share goes to the robot.
		{"no pre", 2, 5, 3, 0, policies.ClassWeights{Demo: 1, Robot: 0.3 / 0.5, Intervention: 0.5 / 0.3}},
		// No robot step: demonstrations take the non-intervention half.
		{"no robot", 3, 0, 1, 0, policies.ClassWeights{Demo: 0.5 / 0.75, Intervention: 0.5 / 0.25, Guarded: true}},
		// Interventions only: weight 1.
		{"interventions only", 0, 0, 5, 0, policies.ClassWeights{Intervention: 1}},
		// No interventions: plain BC.
		{"no interventions", 5, 5, 0, 0, policies.ClassWeights{Demo: 1, Robot: 1}},
	} {
		c := classes(tc.demo, tc.robot, tc.intv, tc.pr)
		got := policies.SiriusWeights(c)
		if !near(got.Demo, tc.want.Demo) || !near(got.Robot, tc.want.Robot) || !near(got.Intervention, tc.want.Intervention) ||
			!near(got.PreIntervention, tc.want.PreIntervention) || got.Guarded != tc.want.Guarded {
			t.Errorf("%s: weights %+v; want %+v", tc.name, got, tc.want)
		}
		// Loss mass: interventions half (when there are other samples), mean weight 1.
		var sum, intv float64
		for _, k := range c {
			sum += got.Of(k)
			if k == sim.ClassIntervention {
				intv += got.Of(k)
			}
		}
		if !near(sum/float64(len(c)), 1) {
			t.Errorf("%s: mean weight %g; want 1", tc.name, sum/float64(len(c)))
		}
		if tc.intv > 0 && tc.intv < len(c) && !near(intv/sum, 0.5) {
			t.Errorf("%s: interventions carry %.4f of the loss; want 0.5", tc.name, intv/sum)
		}
	}
}

// The sirius learner applies the weights to the steps of a hand-built
// episode set and records them on the card.
func TestSiriusTrainsWithClassWeights(t *testing.T) {
	eps := []policies.Episode{
		toyEpisode("demo", 0, "dddddddddddd"), // 12 demo steps
		toyEpisode("r1", 1, "rrrrhhh"),        // 2 robot, 2 pre (window 2), 3 intervention
	}
	out := train(t, "sirius", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 1,
		Params: map[string]string{"steps": "20", "batch": "16", "preintv": "2"}})
	w := out.Card.Hyperparameters["class_weights"].(policies.ClassWeights)
	// 19 steps: ρ_demo 12/19 > 0.498 → guarded.
	want := policies.SiriusWeights(classes(12, 2, 3, 2))
	if !reflect.DeepEqual(w, want) || !w.Guarded || w.Robot != 0 {
		t.Errorf("card weights %+v; want %+v, guarded", w, want)
	}
	if c := out.Stats["class_counts"].(map[string]int); c["demo"] != 12 || c["robot"] != 2 || c["pre_intervention"] != 2 || c["intervention"] != 3 {
		t.Errorf("class counts %v", c)
	}
	// The weights reach the rows: each class's share of the loss mass is
	// its count times its weight over the total, and interventions hold
	// half of it (Sirius's rule).
	share := out.Stats["class_loss_share"].(map[string]float64)
	n := map[string]float64{"demo": 12, "robot": 2, "pre_intervention": 2, "intervention": 3}
	wt := map[string]float64{"demo": w.Demo, "robot": w.Robot, "pre_intervention": w.PreIntervention, "intervention": w.Intervention}
	total := 0.0
	for k := range n {
		total += n[k] * wt[k]
	}
	for k := range n {
		if want := n[k] * wt[k] / total; math.Abs(share[k]-want) > 1e-6 {
			t.Errorf("%s holds %.4f of the loss mass; want %.4f", k, share[k], want)
		}
	}
	if math.Abs(share["intervention"]-0.5) > 1e-6 || math.Abs(share["pre_intervention"]-0.002) > 1e-6 {
		t.Errorf("interventions hold %.4f and pre-intervention steps %.4f of the loss mass; want 0.5 and 0.002", share["intervention"], share["pre_intervention"])
	}
	if out.Card.Hyperparameters["preintv"] != 2 || out.Card.Algorithm != "sirius" {
		t.Errorf("card %+v", out.Card.Hyperparameters)
	}
}

func TestIWRDrawsHalfInterventions(t *testing.T) {
	// 4 intervention steps among 40.
	eps := []policies.Episode{toyEpisode("demo", 0, "dddddddddddddddddddd"), toyEpisode("r1", 1, "rrrrrrrrrrrrrrrrhhhh")}
	out := train(t, "iwr", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 3,
		Params: map[string]string{"steps": "200", "batch": "64", "hidden": "8"}})
	f := out.Stats["drawn_intervention"].(float64)
	// 12,800 draws at p = 0.5: σ ≈ 0.0044.
	if math.Abs(f-0.5) > 0.02 {
		t.Errorf("interventions are %.3f of the rows drawn; want ≈ 0.5 (they are 0.1 of the data)", f)
	}
	if w := out.Card.Hyperparameters["intervention_weight"]; w != 9.0 {
		t.Errorf("intervention sampling weight %v; want (N − N_int)/N_int = 9", w)
	}
}

func TestHGDAggerDropsRobotSteps(t *testing.T) {
	eps := []policies.Episode{toyEpisode("demo", 0, "dddd"), toyEpisode("r1", 1, "rrrhhrr"), toyEpisode("r2", 1, "rrrr")}
	out := train(t, "hg-dagger", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 1, Params: map[string]string{"steps": "5"}})
	if out.Stats["rows"] != 6 || out.Stats["robot_rows_dropped"] != 9 || !slices.Equal(out.Card.Episodes, []string{"demo", "r1"}) {
		t.Errorf("rows %v, dropped %v, episodes %v; want the 4 demo and 2 human steps of demo and r1", out.Stats["rows"], out.Stats["robot_rows_dropped"], out.Card.Episodes)
	}
}
