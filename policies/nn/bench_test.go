package nn

import (
	"fmt"
	"testing"
)

// The reference network of docs/benchmarks.md: MLP 20→256→256→2, ReLU,
// batch 256, Adam, float32, deterministic (MSE) head.
func benchTrainer(b *testing.B) (*Ensemble, *Batch) {
	e, err := NewEnsemble(EnsembleConfig{Net: Config{In: 20, Hidden: []int{256, 256}, Act: ReLU}, Head: Head{Kind: Deterministic}, ActDim: 2, Batch: 256})
	if err != nil {
		b.Fatal(err)
	}
	r := NewRand(1)
	return e, &Batch{X: randSlice(r, 256*20), Y: randSlice(r, 256*2), Rows: 256}
}

func BenchmarkBCStep(b *testing.B) {
	e, batch := benchTrainer(b)
	e.Step(batch)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.Step(batch)
	}
	b.ReportMetric(float64(b.N)*256/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkAct(b *testing.B) {
	e, _ := benchTrainer(b)
	m, err := NewModel(e.Arch(), e.Head(), Identity(20, 2), 1, [][]float32{e.Params(0)})
	if err != nil {
		b.Fatal(err)
	}
	p := m.NewPolicy()
	obs, dst := make([]float64, 20), make([]float64, 2)
	b.ReportAllocs()
	for b.Loop() {
		p.Act(obs, dst)
	}
}

// BenchmarkCritics: one update of an ensemble of LayerNorm Q networks
// 22→W→LN→W→LN→1 (RLPD's critics) on a batch of 256.
func BenchmarkCritics(b *testing.B) {
	for _, n := range []int{2, 10} {
		for _, w := range []int{128, 256} {
			b.Run(fmt.Sprintf("n=%d/w=%d", n, w), func(b *testing.B) {
				e, err := NewEnsemble(EnsembleConfig{Net: Config{In: 22, Hidden: []int{w, w}, Act: ReLU, LayerNorm: true}, Head: Head{Kind: Deterministic}, ActDim: 1, Members: n, Batch: 256, Adam: AdamConfig{LR: 3e-4}})
				if err != nil {
					b.Fatal(err)
				}
				r := NewRand(1)
				batch := &Batch{X: randSlice(r, 256*22), Y: randSlice(r, 256), Rows: 256}
				e.Step(batch)
				b.ReportAllocs()
				for b.Loop() {
					e.Step(batch)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
			})
		}
	}
}
