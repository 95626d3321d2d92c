package nn

import (
	"math"
	"testing"
)

// TestAdamW checks two steps against the AdamW update written out by hand
// (torch.optim.AdamW's algorithm), clipping included.
func TestAdamW(t *testing.T) {
	cfg := AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.5, ClipNorm: 1}
	o := NewAdam(cfg, 2)
	p := []float32{1, -2}
	grads := [][]float32{{3, 4}, {0.3, -0.4}} // norm 5 (clipped to 1), then 0.5
	want := []float64{1, -2}
	m, v := []float64{0, 0}, []float64{0, 0}
	for step, g := range grads {
		norm := math.Hypot(float64(g[0]), float64(g[1]))
		scale := 1.0
		if norm > 1 {
			scale = 1 / (norm + 1e-6)
		}
		n := o.Step(p, g)
		if math.Abs(n-norm) > 1e-6 {
			t.Fatalf("step %d: norm %g; want %g", step, n, norm)
		}
		k := float64(step + 1)
		for i := range want {
			gi := float64(g[i]) * scale
			want[i] *= 1 - 0.1*0.5
			m[i] = 0.9*m[i] + 0.1*gi
			v[i] = 0.99*v[i] + 0.01*gi*gi
			mh, vh := m[i]/(1-math.Pow(0.9, k)), v[i]/(1-math.Pow(0.99, k))
			want[i] -= 0.1 * mh / (math.Sqrt(vh) + 1e-8)
		}
		for i := range p {
			if math.Abs(float64(p[i])-want[i]) > 1e-5 {
				t.Fatalf("step %d: p[%d] = %g; want %g", step, i, p[i], want[i])
			}
		}
	}
}

// TestEnsembleMatchesSerial: an ensemble step split into chunks on a pool,
// with clipping, equals one forward/backward over the whole batch followed
// by Adam.Step, up to float32 rounding.
func TestEnsembleMatchesSerial(t *testing.T) {
	for _, workers := range []int{0, 1, 3} {
		for _, clip := range []float64{0, 0.05} {
			cfg := EnsembleConfig{Net: Config{In: 5, Hidden: []int{9, 7}, Act: Tanh, LayerNorm: true}, Head: Head{Kind: Gaussian}, ActDim: 2,
				Adam: AdamConfig{LR: 0.01, ClipNorm: clip, WeightDecay: 0.1}, Batch: 13, Seed: 4, Pool: NewPool(workers)}
			e, err := NewEnsemble(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := NewRand(8)
			b := &Batch{X: randSlice(r, 13*5), Y: randSlice(r, 13*2), W: randSlice(r, 13), Rows: 13}
			p := append([]float32(nil), e.Params(0)...)
			opt := NewAdam(cfg.Adam, len(p))
			for range 3 {
				grad := make([]float32, len(p))
				want := lossOf(e.Arch(), e.Head(), p, b.X, b.Y, b.W, 13, 2, grad, nil)
				opt.Step(p, grad)
				got := e.Step(b)
				if math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("workers %d clip %g: loss %g; serial %g", workers, clip, got, want)
				}
			}
			for i, v := range e.Params(0) {
				if math.Abs(float64(v-p[i])) > 1e-5 {
					t.Fatalf("workers %d clip %g: param %d = %g; serial %g", workers, clip, i, v, p[i])
				}
			}
		}
	}
}
