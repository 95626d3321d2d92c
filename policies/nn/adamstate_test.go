package nn

import "testing"

// An optimiser restored from State continues exactly as the original.
func TestAdamStateRoundTrip(t *testing.T) {
	p1 := []float32{1, -2, 3}
	g := []float32{0.5, 0.25, -1}
	a := NewAdam(AdamConfig{LR: 0.1}, 3)
	a.Step(p1, g)
	a.Step(p1, g)
	m, v, steps := a.State()
	b := NewAdam(AdamConfig{LR: 0.1}, 3)
	if err := b.SetState(m, v, steps); err != nil {
		t.Fatal(err)
	}
	p2 := append([]float32(nil), p1...)
	a.Step(p1, g)
	b.Step(p2, g)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("param %d: restored %g; original %g", i, p2[i], p1[i])
		}
	}
	if err := b.SetState(m[:2], v, 1); err == nil {
		t.Fatal("SetState accepted moments of the wrong length")
	}
}
