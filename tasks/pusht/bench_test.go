package pusht

import (
	"testing"

	"tandem/sim"
)

// pushAgain poses w with the agent pressed against the T's bar and heading
// through it, so that every following substep solves a contact, and
// returns the agent's target.
func pushAgain(b *testing.B, w *world) vec {
	w.place(vec{256, 280}, pose{vec{256, 300}, 0.1})
	target := vec{256, 512}
	for range 20 { // settle into contact
		drivePD(w, target, 0.01)
		w.step(0.01)
	}
	if !w.touching(w.agent) {
		b.Fatal("agent not touching the T")
	}
	return target
}

// reportMicros adds the microseconds per iteration as a metric.
func reportMicros(b *testing.B, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), unit)
}

// BenchmarkPhysicsSubstep is one 10 ms physics substep of push-t (PD
// update, narrow phase, contact solve) with the agent pushing the T.
func BenchmarkPhysicsSubstep(b *testing.B) {
	w := newWorld()
	target := pushAgain(b, w)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%50 == 0 { // restart before the T nears a wall: pushing in the open
			b.StopTimer()
			target = pushAgain(b, w)
			b.StartTimer()
		}
		drivePD(w, target, 0.01)
		w.step(0.01)
	}
	reportMicros(b, "µs/substep")
}

// BenchmarkLibraryStep is the same substep through Box2D's B2World.Step,
// with continuous collision on (Box2D's default) and off, for comparison.
func BenchmarkLibraryStep(b *testing.B) {
	for _, c := range []struct {
		name       string
		continuous bool
	}{{"continuous", true}, {"discrete", false}} {
		b.Run(c.name, func(b *testing.B) {
			fresh := func() *world {
				w := libraryWorld(vec{256, 280}, pose{vec{256, 300}, 0.1}, c.continuous)
				for range 20 {
					drivePD(w, vec{256, 512}, 0.01)
					w.libraryStep(0.01)
				}
				return w
			}
			w := fresh()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%50 == 0 {
					b.StopTimer()
					w = fresh()
					b.StartTimer()
				}
				drivePD(w, vec{256, 512}, 0.01)
				w.libraryStep(0.01)
			}
			reportMicros(b, "µs/substep")
		})
	}
}

// expertEpisodes records the expert's actions on a few seeds, so that
// BenchmarkEnvStep replays real pushing (contact most of the time) without
// timing the planner.
func expertEpisodes(b *testing.B) (seeds []uint64, actions [][][2]float64) {
	task := newTask(b)
	env, err := sim.NewEnv(task, sim.EnvConfig{})
	if err != nil {
		b.Fatal(err)
	}
	for seed := uint64(100000); seed < 100005; seed++ {
		obs := env.Reset(seed)
		p := task.Expert(1, 0)
		var acts [][2]float64
		act := make([]float64, 2)
		for !env.Done() {
			p.Act(obs.Slice(), act)
			s, err := env.Step(act)
			if err != nil {
				b.Fatal(err)
			}
			obs = s.Next
			acts = append(acts, [2]float64{act[0], act[1]})
		}
		seeds, actions = append(seeds, seed), append(actions, acts)
	}
	return seeds, actions
}

// BenchmarkEnvStep is one control step through sim.Env (10 substeps,
// coverage, observation), replaying expert episodes.
func BenchmarkEnvStep(b *testing.B) {
	seeds, actions := expertEpisodes(b)
	env, err := sim.NewEnv(newTask(b), sim.EnvConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ep, t := 0, 0
	env.Reset(seeds[0])
	act := make([]float64, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if env.Done() || t == len(actions[ep]) {
			ep, t = (ep+1)%len(seeds), 0
			env.Reset(seeds[ep])
		}
		act[0], act[1] = actions[ep][t][0], actions[ep][t][1]
		t++
		if _, err := env.Step(act); err != nil {
			b.Fatal(err)
		}
	}
	reportMicros(b, "µs/step")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkExpertAct is one planning step of the expert.
func BenchmarkExpertAct(b *testing.B) {
	task := newTask(b)
	task.Reset(100001)
	p := task.Expert(1, 0)
	obs, act := make([]float64, obsSize), make([]float64, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p.Act(obs, act)
	}
	reportMicros(b, "µs/plan")
}
