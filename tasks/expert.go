package tasks

import "tandem/sim"

// ExpertActions runs the expert (skill 1) of a fresh instance of the task
// for one episode from seed and returns the actions it took, in order:
// the recorded episode that benchmarks, world dumps and the physics
// comparisons replay.
func ExpertActions(maker Maker, seed uint64) ([][]float64, error) {
	env, err := sim.NewEnv(maker(), sim.EnvConfig{})
	if err != nil {
		return nil, err
	}
	obs := env.Reset(seed)
	p := env.Task().Expert(1, seed)
	if r, ok := p.(sim.Resetter); ok {
		r.Reset(seed)
	}
	var out [][]float64
	for !env.Done() {
		a := make([]float64, env.Spec().ActionSize())
		p.Act(obs.Slice(), a)
		s, err := env.Step(a)
		if err != nil {
			return nil, err
		}
		obs = s.Next
		out = append(out, a)
	}
	return out, nil
}
