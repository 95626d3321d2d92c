package rl

import (
	"fmt"
	"testing"

	"tandem/policies/nn"
)

// benchAgent is an agent on a peg-insert-sized problem (10 observations,
// 2 actions: critic input 12) with full buffers of random transitions.
func benchAgent(tb testing.TB, critics, width, batch int) (*Agent, *Sampler) {
	cfg := DefaultConfig(RLIF)
	cfg.Critics, cfg.Width, cfg.Batch, cfg.ActorEvery = critics, width, batch, 1
	norm := nn.Identity(10, 2)
	g, err := NewAgent(cfg, norm, 1, nil)
	if err != nil {
		tb.Fatal(err)
	}
	r := nn.NewRand(9)
	s := &Sampler{Demo: NewBuffer(10, 2, 4096), Online: NewBuffer(10, 2, 4096), Ratio: 0.5}
	for i := range 2000 {
		tr := Transition{Obs: make([]float64, 10), Next: make([]float64, 10), Action: make([]float64, 2), Reward: -float64(i % 2)}
		for j := range tr.Obs {
			tr.Obs[j], tr.Next[j] = r.Norm(), r.Norm()
		}
		tr.Action[0], tr.Action[1] = 2*r.Float64()-1, 2*r.Float64()-1
		b := s.Online
		if i%3 == 0 {
			b = s.Demo
		}
		if err := b.Add(&tr); err != nil {
			tb.Fatal(err)
		}
	}
	return g, s
}

// BenchmarkUpdate is one full update: a critic step (next actions, target
// minimum over two drawn targets, every critic's Adam step, Polyak) plus
// an actor and temperature step (ActorEvery 1), batch 256.
func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{2, 10} {
		for _, w := range []int{128, 256} {
			b.Run(fmt.Sprintf("critics=%d/width=%d", n, w), func(b *testing.B) {
				g, s := benchAgent(b, n, w, 256)
				g.Update(s)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := nn.CPUTime()
				for b.Loop() {
					g.Update(s)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
				if cpu := nn.CPUTime() - cpu0; cpu > 0 {
					b.ReportMetric(float64(b.N)/cpu.Seconds(), "updates/cpu-s")
				}
			})
		}
	}
}
