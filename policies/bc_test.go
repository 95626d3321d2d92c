package policies_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
)

// BC with the default parameters fits the reach expert from 20
// demonstrations: the policy alone succeeds on held-out seeds.
func TestBCFitsReachExpertFrom20Demos(t *testing.T) {
	maker := reachMaker(t)
	spec := maker().Spec()
	eps := expertDemos(t, maker, 20, 1000, 1)
	out := train(t, "bc", policies.TrainInput{Spec: spec, NewTask: maker, Episodes: eps, Seed: 1})
	res := evaluate(t, maker, out, 50)
	if res.SuccessRate < 0.9 {
		t.Fatalf("success %.2f on 50 held-out seeds (mean length %.1f); want ≥ 0.9", res.SuccessRate, res.MeanLength)
	}
	t.Logf("success %.2f (95%% CI %.2f–%.2f) on 50 held-out seeds after %.2fs of training", res.SuccessRate, res.CI95[0], res.CI95[1], out.Stats["train_seconds"])
	c := out.Card
	if c.Algorithm != "bc" || c.Task.Name != "reach" || len(c.Episodes) != 20 || c.Episodes[0] != "seed-1000" {
		t.Errorf("card algorithm %q task %q episodes %d (%v); want bc, reach, the 20 demos", c.Algorithm, c.Task.Name, len(c.Episodes), c.Episodes)
	}
	if c.Hyperparameters["sources"] != "demo,human,robot" || c.Hyperparameters["steps"] != 1500 {
		t.Errorf("hyper-parameters %v; want the defaults recorded", c.Hyperparameters)
	}
	if l0, l1 := out.Stats["loss_first"].(float64), out.Stats["loss_final"].(float64); !(l1 < l0-3) {
		t.Errorf("loss %.3f → %.3f: the default Gaussian head's NLL should fall by several nats", l0, l1)
	}
	// The checkpoint round-trips and acts the same.
	path := filepath.Join(t.TempDir(), "bc.safetensors")
	if err := nn.Save(path, out.Model, c); err != nil {
		t.Fatal(err)
	}
	m, lc, err := nn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lc.Episodes, c.Episodes) || lc.Algorithm != "bc" {
		t.Errorf("loaded card %+v", lc)
	}
	p0, _ := policies.NewActor(out.Model, &c)
	p1, _ := policies.NewActor(m, lc)
	a0, a1 := make([]float64, 2), make([]float64, 2)
	p0.Act(eps[0].Obs[0], a0)
	p1.Act(eps[0].Obs[0], a1)
	if a0[0] != a1[0] || a0[1] != a1[1] {
		t.Errorf("loaded policy acts %v; trained one %v", a1, a0)
	}
}

// toySpec is a small task spec for hand-built episodes.
func toySpec() sim.Spec {
	return sim.Spec{Name: "toy", ObsNames: []string{"x", "y"}, ActionNames: []string{"u"},
		ActionLow: []float64{-1}, ActionHigh: []float64{1}, ControlHz: 10, PhysicsHz: 10, Horizon: 100}
}

// toyEpisode builds an episode from a source string: d demo, r robot, h
// human (an intervention starts at each h after an r).
func toyEpisode(uid string, round int, sources string) policies.Episode {
	e := policies.Episode{UID: uid, Round: round}
	for t, c := range sources {
		x := float64(t) / 10
		e.Obs = append(e.Obs, []float64{x, float64(round)})
		e.Action = append(e.Action, []float64{0.5 * x})
		e.Reward = append(e.Reward, 0)
		var s sim.Source
		switch c {
		case 'd':
			s = sim.Demo
		case 'r':
			s = sim.Robot
		case 'h':
			s = sim.Human
		}
		e.Source = append(e.Source, s)
		e.InterventionStart = append(e.InterventionStart, c == 'h' && t > 0 && sources[t-1] == 'r')
	}
	e.Truncated = true
	return e
}

func TestBCSourcesChooseTheSteps(t *testing.T) {
	eps := []policies.Episode{toyEpisode("a", 0, "dddd"), toyEpisode("b", 1, "rrhhrr"), toyEpisode("c", 1, "rrrr")}
	for _, tc := range []struct {
		sources string
		rows    int
		used    []string
	}{
		{"", 14, []string{"a", "b", "c"}},
		{"demo", 4, []string{"a"}},
		{"human+demo", 6, []string{"a", "b"}},
		{"robot", 8, []string{"b", "c"}},
	} {
		params := map[string]string{"steps": "5", "batch": "8"}
		if tc.sources != "" {
			params["sources"] = tc.sources
		}
		out := train(t, "bc", policies.TrainInput{Spec: toySpec(), Episodes: eps, Params: params, Seed: 1})
		if out.Stats["rows"] != tc.rows || !reflect.DeepEqual(out.Card.Episodes, tc.used) {
			t.Errorf("sources=%q: %v rows from %v; want %d from %v", tc.sources, out.Stats["rows"], out.Card.Episodes, tc.rows, tc.used)
		}
	}
	l, _ := policies.NewLearner("bc")
	if _, err := l.Train(context.Background(), policies.TrainInput{Spec: toySpec(), Episodes: eps[2:], Params: map[string]string{"sources": "demo"}}); !errors.Is(err, policies.ErrNoData) {
		t.Errorf("no demo steps: got %v; want ErrNoData", err)
	}
}

func TestLearnerParamsAreChecked(t *testing.T) {
	eps := []policies.Episode{toyEpisode("a", 0, "dddd")}
	for _, tc := range []struct {
		algo   string
		params map[string]string
		want   string
	}{
		{"bc", map[string]string{"stpes": "5"}, `unknown parameter "stpes"`},
		{"bc", map[string]string{"steps": "0"}, "steps=\"0\": want an integer in [1, 10000000]"},
		{"bc", map[string]string{"lr": "-1"}, "lr=\"-1\": want a number in (0, 1]"},
		{"bc", map[string]string{"lr": "NaN"}, "lr=\"NaN\""},
		{"bc", map[string]string{"hidden": "64x0"}, "hidden=\"64x0\": want 1 to 8 layer widths"},
		{"bc", map[string]string{"head": "mdn"}, "head=\"mdn\": want one of gaussian, gmm, deterministic"},
		{"bc", map[string]string{"head": "deterministic", "modes": "3"}, "modes applies to head=gmm only"},
		{"bc", map[string]string{"sources": "demo,expert"}, "sources=\"demo,expert\""},
		{"bc", map[string]string{"memory_steps": "100"}, "give memory=fifo"},
		{"bc", map[string]string{"memory": "lru"}, "memory=\"lru\": want one of all, fifo, filo, lfi, mfi"},
		{"bc", map[string]string{"preintv": "5"}, `unknown parameter "preintv"`},
		{"iwr", map[string]string{"help": "maybe"}, `help="maybe": want true or false`},
		{"hg-dagger", map[string]string{"help_rate": "0.1"}, "help_rate applies with help=true"},
		{"sirius", map[string]string{"help": "1", "help_rate": "0.9"}, `help_rate="0.9": want a number in (0, 0.5]`},
		{"sirius", map[string]string{"preintv": "-1"}, `preintv="-1": want an integer in [0, 1000]`},
	} {
		l, err := policies.NewLearner(tc.algo)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Train(context.Background(), policies.TrainInput{Spec: toySpec(), Episodes: eps, Params: tc.params})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: got %v; want an error containing %q", tc.algo, tc.params, err, tc.want)
		}
	}
}
