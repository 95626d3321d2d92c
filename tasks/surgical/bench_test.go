package surgical

import (
	"testing"

	"tandem/sim"
)

// BenchmarkEnvStep measures one control step (48 physics substeps) of each
// task under its expert's actions, Box2D included.
func BenchmarkEnvStep(b *testing.B) {
	for _, name := range wantNames {
		b.Run(name, func(b *testing.B) {
			task := taskMakers()[name]()
			env, _ := sim.NewEnv(task, sim.EnvConfig{})
			p := task.Expert(1, 0)
			obs := env.Reset(0)
			act := make([]float64, env.Spec().ActionSize())
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if env.Done() {
					b.StopTimer()
					obs = env.Reset(uint64(i))
					b.StartTimer()
				}
				p.Act(obs.Slice(), act)
				s, err := env.Step(act)
				if err != nil {
					b.Fatal(err)
				}
				obs = s.Next
			}
		})
	}
}

// BenchmarkPhysicsSubstep measures one Box2D world step of each task's
// scene alone (the instruments still), with sim/b2step and with the
// library's B2World.Step.
func BenchmarkPhysicsSubstep(b *testing.B) {
	for _, name := range wantNames {
		for _, library := range []bool{false, true} {
			mode := "stepper"
			if library {
				mode = "library"
			}
			b.Run(name+"/"+mode, func(b *testing.B) {
				task := taskMakers()[name]()
				s := &benchOf(task).phys
				s.UseLibrary = library
				task.Reset(0)
				for range 48 {
					s.Step(1.0/physicsHz, velocityIters, positionIters)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s.Step(1.0/physicsHz, velocityIters, positionIters)
				}
			})
		}
	}
}
