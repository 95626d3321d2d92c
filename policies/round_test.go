package policies_test

import (
	"context"
	"testing"

	"tandem/policies"
	"tandem/sim"
	"tandem/teleop"
)

// roundData is a Sirius round's input on reach: 5 expert demonstrations
// (round 0) and 10 shared episodes (round 1) in which the BC policy
// trained on them (base) acts and a simulated operator (the expert,
// distance rule) intervenes.
func roundData(t testing.TB) (in policies.TrainInput, base policies.TrainOutput) {
	maker := reachMaker(t)
	spec := maker().Spec()
	demos := expertDemos(t, maker, 5, 1000, 1)
	base = train(t, "bc", policies.TrainInput{Spec: spec, NewTask: maker, Episodes: demos, Seed: 1})
	hitl := shared(t, maker, 10, 3000, 1, func(sim.Task) (sim.Policy, error) { return policies.NewActor(base.Model, &base.Card) },
		teleop.DefaultOperatorConfig(teleop.DistanceRule))
	return policies.TrainInput{Spec: spec, NewTask: maker, Episodes: append(demos, hitl...), Seed: 2}, base
}

func TestTrainAndEvaluateRecordsTheEvaluation(t *testing.T) {
	in, _ := roundData(t)
	in.Params = map[string]string{"steps": "300"}
	r, err := policies.TrainAndEvaluate(context.Background(), "sirius", in, 20)
	if err != nil {
		t.Fatal(err)
	}
	ev := r.Output.Card.Evaluation
	if r.Eval.Episodes != 20 || ev["episodes"] != 20.0 || ev["success_rate"] != r.Eval.SuccessRate || r.TrainSeconds <= 0 || r.EvalSeconds <= 0 {
		t.Errorf("result %+v, card evaluation %v", r, ev)
	}
	w := r.Output.Card.Hyperparameters["class_weights"].(policies.ClassWeights)
	if !(w.Intervention > 1 && w.PreIntervention < 1) {
		t.Errorf("class weights %+v: the shared episodes should have interventions to up-weight", w)
	}
	if _, err := policies.TrainAndEvaluate(context.Background(), "sirius", policies.TrainInput{Spec: in.Spec, Episodes: in.Episodes}, 5); err == nil {
		t.Error("no NewTask: want an error")
	}
}

// BenchmarkSiriusRoundReach times a Sirius round on reach: training on 5
// demonstrations and 10 shared episodes with the default parameters, then
// 50 held-out evaluation episodes. Reported: the success of the round's
// policy and of the BC policy that collected the shared episodes, and the
// seconds of each part (ns/op is the whole round).
func BenchmarkSiriusRoundReach(b *testing.B) {
	in, base := roundData(b)
	r0 := evaluate(b, in.NewTask, base, 50)
	b.ReportAllocs()
	b.ResetTimer()
	var train, eval, success float64
	for i := range b.N {
		in.Seed = uint64(i + 1)
		r, err := policies.TrainAndEvaluate(context.Background(), "sirius", in, 50)
		if err != nil {
			b.Fatal(err)
		}
		train += r.TrainSeconds
		eval += r.EvalSeconds
		success += r.Eval.SuccessRate
	}
	n := float64(b.N)
	b.ReportMetric(train/n, "train-s/op")
	b.ReportMetric(eval/n, "eval-s/op")
	b.ReportMetric(success/n, "success")
	b.ReportMetric(r0.SuccessRate, "success-before")
}
