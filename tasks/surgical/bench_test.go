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
// scene alone: its allocations are the library's own.
func BenchmarkPhysicsSubstep(b *testing.B) {
	for _, name := range wantNames {
		b.Run(name, func(b *testing.B) {
			task := taskMakers()[name]()
			task.Reset(0)
			w := benchOf(task).world
			for range 48 {
				w.Step(1.0/physicsHz, velocityIters, positionIters)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.Step(1.0/physicsHz, velocityIters, positionIters)
			}
		})
	}
}
