package rl

import (
	"testing"

	"tandem/policies/nn"
)

func fillBuffer(b *Buffer, n int, obs float64) {
	for i := range n {
		tr := Transition{Obs: []float64{obs}, Next: []float64{obs}, Action: []float64{float64(i%3) / 3}}
		b.Add(&tr)
	}
}

// Every batch is exactly half demonstration-and-intervention rows and half
// online rows, whatever the buffers' sizes; with one buffer empty, all rows
// come from the other.
func TestSymmetricSampling(t *testing.T) {
	norm := nn.Identity(1, 1)
	for _, c := range []struct{ demo, online, rows, wantDemo int }{
		{10, 1000, 256, 128}, {1000, 10, 256, 128}, {1, 1, 8, 4}, {0, 50, 64, 0}, {50, 0, 64, 64}, {3, 5, 7, 4},
	} {
		s := &Sampler{Demo: NewBuffer(1, 1, 2000), Online: NewBuffer(1, 1, 2000), Ratio: 0.5}
		fillBuffer(s.Demo, c.demo, 1)
		fillBuffer(s.Online, c.online, -1)
		b := newBatch(c.rows, 1, 1)
		r := nn.NewRand(1)
		for range 20 {
			s.sample(b, r, norm)
			nd := 0
			for i := range b.rows {
				if b.fromDemo[i] != (b.obs[i] == 1) {
					t.Fatalf("row %d marked demo %v but holds %g", i, b.fromDemo[i], b.obs[i])
				}
				if b.fromDemo[i] {
					nd++
				}
			}
			if nd != c.wantDemo {
				t.Fatalf("%+v: %d demo rows of %d; want %d", c, nd, c.rows, c.wantDemo)
			}
		}
	}
}

// A full buffer overwrites its oldest transitions.
func TestBufferRing(t *testing.T) {
	b := NewBuffer(1, 1, 1000)
	for i := range 1500 {
		b.Add(&Transition{Obs: []float64{float64(i)}, Next: []float64{0}, Action: []float64{0}})
	}
	if b.Len() != 1000 {
		t.Fatalf("len %d; want 1000", b.Len())
	}
	lo := float32(1e9)
	for _, v := range b.obs {
		lo = min(lo, v)
	}
	if lo != 500 {
		t.Fatalf("oldest kept %g; want 500", lo)
	}
	if err := b.Add(&Transition{Obs: []float64{1, 2}, Next: []float64{0}, Action: []float64{0}}); err == nil {
		t.Fatal("a transition of the wrong size was accepted")
	}
}
