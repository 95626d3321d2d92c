package policies_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"tandem/policies"
	"tandem/policies/nn"
	"tandem/sim"
	"tandem/teleop"
)

// randomEpisodes records n episodes of the random policy acting alone.
func randomEpisodes(t testing.TB, maker func() sim.Task, n int, first uint64) []policies.Episode {
	t.Helper()
	reg := policies.NewRegistry()
	eps, err := sim.Rollout(context.Background(), sim.RolloutConfig{
		NewTask: maker, FirstSeed: first, Episodes: n, KeepSteps: true,
		Controller: func(task sim.Task, _ int, seed uint64) (sim.Controller, error) {
			p, err := reg.New(policies.Random, task, policies.Options{Seed: seed})
			return sim.Auto(p, policies.Random), err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]policies.Episode, len(eps))
	for i := range eps {
		out[i] = episodeOf(&eps[i], 1)
	}
	return out
}

// help runs actor over every step of eps (a fresh episode each) and
// returns the share of steps, among those whose source is in from, on
// which it asked for help, and its mean safety on them.
func helpRate(actor sim.Policy, eps []policies.Episode, from func(sim.Source) bool) (rate, safety float64) {
	h := actor.(*policies.HelpActor)
	a := make([]float64, 2)
	n, k := 0, 0
	for _, e := range eps {
		h.Reset(0)
		for t := range e.Obs {
			h.Act(e.Obs[t], a)
			if !from(e.Source[t]) {
				continue
			}
			n++
			safety += h.Safety()
			if h.NeedsHelp() {
				k++
			}
		}
	}
	return float64(k) / float64(n), safety / float64(n)
}

func TestHelpThresholdsHitTheTargetRateAndFireOnNovelStates(t *testing.T) {
	maker := reachMaker(t)
	spec := maker().Spec()
	eps := expertDemos(t, maker, 20, 1000, 1)
	const rate = 0.05
	out := train(t, "bc", policies.TrainInput{Spec: spec, NewTask: maker, Episodes: eps, Seed: 1, Params: map[string]string{
		"help": "true", "help_rate": "0.05", "steps": "400", "hidden": "64x64", "risk_steps": "2000"}})
	if out.Model.Members() != 5 {
		t.Fatalf("%d members; help=true trains ThriftyDAgger's 5 by default", out.Model.Members())
	}
	// Through a checkpoint, as a session gets it.
	path := filepath.Join(t.TempDir(), "h.safetensors")
	if err := nn.Save(path, out.Model, out.Card); err != nil {
		t.Fatal(err)
	}
	m, c, err := nn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	actor, err := policies.NewActor(m, c)
	if err != nil {
		t.Fatal(err)
	}
	hc := out.Card.Hyperparameters["help"].(*policies.HelpCard)
	cal := hc.Calibration
	n := 0
	for _, e := range eps {
		n += e.Len()
	}
	if cal.From != "all" || cal.States != n || hc.Novelty == nil || hc.Risk == nil {
		t.Fatalf("calibration %+v (novelty %v, risk %v); want all %d states, both thresholds", cal, hc.Novelty, hc.Risk, n)
	}
	// Each condition asks on the target share of the calibration states
	// (less the quantile's own element), either at most twice that.
	tol := 2 / float64(n)
	for name, r := range map[string]float64{"novelty": cal.NoveltyRate, "risk": cal.RiskRate} {
		if math.Abs(r-rate) > tol {
			t.Errorf("%s asks on %.4f of the calibration states; want %.2f", name, r, rate)
		}
	}
	got, _ := helpRate(actor, eps, func(sim.Source) bool { return true })
	if math.Abs(got-cal.Rate) > tol || got < rate-tol || got > 2*rate {
		t.Errorf("the actor asks on %.4f of the training states (card: %.4f); want within [%.2f, %.2f]", got, cal.Rate, rate, 2*rate)
	}
	// Novel states: the demonstrations with two joints spinning at speeds
	// (±5 rad/s) the expert never reached.
	var novel []policies.Episode
	for _, e := range eps[:5] {
		n := policies.Episode{Source: e.Source}
		for _, o := range e.Obs {
			o = append([]float64(nil), o...)
			o[3], o[4] = o[3]+5, o[4]-5
			n.Obs = append(n.Obs, o)
		}
		novel = append(novel, n)
	}
	nr, _ := helpRate(actor, novel, func(sim.Source) bool { return true })
	if nr < 0.9 {
		t.Errorf("asks on %.2f of novel states; want ≥ 0.9", nr)
	}
	// Act allocates nothing, help or not.
	h := actor.(*policies.HelpActor)
	a := make([]float64, 2)
	if n := testing.AllocsPerRun(100, func() { h.Act(eps[0].Obs[3], a) }); n != 0 {
		t.Errorf("HelpActor.Act allocates %v times", n)
	}
	t.Logf("train %.2fs + help %.2fs; novelty β %.3g, risk ε %.3f; rates %+v; novel %.2f",
		out.Stats["train_seconds"], out.Stats["help_seconds"], *hc.Novelty, *hc.Risk, cal, nr)
}

// The risk critic learns which states lead to success: on a toy task whose
// episodes succeed from y = −1 and fail (a terminal failure) from y = +1,
// whatever the actions, after ten steps each.
func TestRiskCriticLearnsWhichStatesSucceed(t *testing.T) {
	var eps []policies.Episode
	for i := range 20 {
		e := toyEpisode("e", 1, "rrrrrrrrrr")
		y := 1.0
		if i%2 == 0 {
			y = -1
		}
		for t := range e.Obs {
			e.Obs[t][0] += 0.01 * float64(i) // no two states alike
			e.Obs[t][1] = y
			e.Action[t][0] = 0.1 * float64(i%5)
		}
		e.Truncated, e.Terminal = false, true
		if y < 0 {
			e.Success = true
			e.SuccessAt = make([]bool, e.Len())
			e.SuccessAt[e.Len()-1] = true
		}
		eps = append(eps, e)
	}
	out := train(t, "bc", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 1, Params: map[string]string{
		"help": "true", "members": "1", "steps": "10", "hidden": "16", "help_rate": "0.5", "risk_steps": "4000"}})
	hc := out.Card.Hyperparameters["help"].(*policies.HelpCard)
	if hc.Novelty != nil || hc.Calibration.From != "robot" {
		t.Errorf("one network: novelty threshold %v; calibration %+v", hc.Novelty, hc.Calibration)
	}
	actor, err := policies.NewActor(out.Model, &out.Card)
	if err != nil {
		t.Fatal(err)
	}
	_, good := helpRate(actor, eps[0:1], func(sim.Source) bool { return true })
	_, bad := helpRate(actor, eps[1:2], func(sim.Source) bool { return true })
	if !(good > 0.9 && bad < 0.1) {
		t.Errorf("mean success probability %.3f where episodes succeed, %.3f where they fail; want > 0.9 and < 0.1", good, bad)
	}
	// Asked for help on half the states, it asks where it is risky.
	r, _ := helpRate(actor, eps, func(sim.Source) bool { return true })
	rGood, _ := helpRate(actor, eps[0:1], func(sim.Source) bool { return true })
	rBad, _ := helpRate(actor, eps[1:2], func(sim.Source) bool { return true })
	if r != hc.Calibration.Rate || math.Abs(r-0.5) > 0.01 || rGood != 0 || rBad < 0.9 {
		t.Errorf("asks on %.3f of the states (card %.3f): %.2f of a succeeding episode's, %.2f of a failing one's; want 0.5: none and ≥ 0.9", r, hc.Calibration.Rate, rGood, rBad)
	}
	t.Logf("help %.2fs: safety %.3f / %.3f, ε %.3f, %+v", out.Stats["help_seconds"], good, bad, *hc.Risk, hc.Calibration)
}

func TestNoHelpWithoutAHelpCard(t *testing.T) {
	eps := []policies.Episode{toyEpisode("a", 0, "dddddddd")}
	out := train(t, "bc", policies.TrainInput{Spec: toySpec(), Episodes: eps, Seed: 1, Params: map[string]string{"steps": "3"}})
	a, err := policies.NewActor(out.Model, &out.Card)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.(interface{ NeedsHelp() bool }); ok {
		t.Errorf("%T asks for help without thresholds", a)
	}
}

// A help request crosses the arbiter: a shared session running the actor
// raises Help on the steps where it asks.
func TestHelpRequestReachesTheArbiter(t *testing.T) {
	maker := reachMaker(t)
	spec := maker().Spec()
	eps := expertDemos(t, maker, 5, 1000, 1)
	out := train(t, "bc", policies.TrainInput{Spec: spec, Episodes: eps, Seed: 1, Params: map[string]string{
		"help": "true", "help_rate": "0.3", "risk": "false", "steps": "50", "hidden": "16"}})
	helpSteps := func(card *nn.Card) int {
		res, err := sim.Rollout(context.Background(), sim.RolloutConfig{
			NewTask: maker, FirstSeed: 7, Episodes: 3, KeepSteps: true,
			Controller: func(task sim.Task, _ int, _ uint64) (sim.Controller, error) {
				p, err := policies.NewActor(out.Model, card)
				if err != nil {
					return nil, err
				}
				return teleop.NewArbiter(task, teleop.Config{Mode: sim.ModeShared, Policy: p, PolicyVersion: "v"})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		help := 0
		for _, e := range res {
			for _, r := range e.Steps {
				if r.Help {
					help++
				}
			}
		}
		return help
	}
	if n := helpSteps(&out.Card); n == 0 {
		t.Error("no step raised Help")
	}
	if n := helpSteps(nil); n != 0 {
		t.Errorf("%d steps raised Help without a help card", n)
	}
}
