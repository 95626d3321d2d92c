package nn

import (
	"fmt"
	"math"
	"testing"
)

// lossOf runs the network and head on x and returns the weighted mean loss
// and, when grads are wanted, the parameter and input gradients.
func lossOf(a *Arch, h Head, params, x, y, w []float32, rows, act int, grad, dx []float32) float64 {
	t := a.NewTape(rows)
	out := a.Forward(params, t, x, rows)
	hg := make([]float32, rows*a.Out)
	l := h.Loss(out, y, rows, act, w, 1/float32(rows), hg)
	if grad != nil || dx != nil {
		a.Backward(params, t, hg, grad, dx)
	}
	return l / float64(rows)
}

// TestGradients checks every parameter tensor's and the input's gradient
// against central finite differences, for each activation, with and
// without LayerNorm, for every head, with per-sample weights.
func TestGradients(t *testing.T) {
	heads := []Head{
		{Kind: Deterministic},
		{Kind: Deterministic, Squash: true},
		{Kind: Gaussian},
		{Kind: Gaussian, Squash: true, LogStdMin: -3, LogStdMax: 0.5},
		{Kind: GMM, Modes: 3, MinStd: 0.05},
		{Kind: GMM, Modes: 2, Squash: true, MinStd: 1e-4},
	}
	const rows, in, act = 5, 4, 2
	for _, f := range []Activation{ReLU, Tanh} {
		for _, ln := range []bool{false, true} {
			for _, h := range heads {
				name := fmt.Sprintf("%s/ln=%v/%s/squash=%v/k=%d", f, ln, h.Kind, h.Squash, h.Modes)
				t.Run(name, func(t *testing.T) {
					checkGradients(t, f, ln, h, rows, in, act)
				})
			}
		}
	}
}

func checkGradients(t *testing.T, f Activation, ln bool, h Head, rows, in, act int) {
	a, err := NewArch(Config{In: in, Hidden: []int{7, 6}, Out: h.OutSize(act), Act: f, LayerNorm: ln})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRand(7)
	params := a.NewParams(3)
	for i := range params { // move LayerNorm gains and shifts off 1 and 0
		params[i] += float32(0.2 * (2*r.Float64() - 1))
	}
	x := randSlice(r, rows*in)
	for i := range x {
		x[i] *= 2
	}
	y := randSlice(r, rows*act)
	for i := range y {
		y[i] *= 0.9
	}
	w := make([]float32, rows)
	for i := range w {
		w[i] = float32(0.2 + 2*r.Float64())
	}
	grad := make([]float32, a.NumParams())
	dx := make([]float32, rows*in)
	lossOf(a, h, params, x, y, w, rows, act, grad, dx)

	eps := float32(1e-2)
	if f == ReLU {
		eps = 1e-3 // kinks: a smaller step crosses fewer of them
	}
	check := func(what string, v []float32, i int, analytic float32) {
		old := v[i]
		v[i] = old + eps
		lp := lossOf(a, h, params, x, y, w, rows, act, nil, nil)
		v[i] = old - eps
		lm := lossOf(a, h, params, x, y, w, rows, act, nil, nil)
		v[i] = old
		num := (lp - lm) / (2 * float64(eps))
		if d := math.Abs(num - float64(analytic)); d > 2e-3+2e-2*math.Abs(num) {
			t.Errorf("%s[%d]: analytic %.6g; finite difference %.6g", what, i, analytic, num)
		}
	}
	for _, ts := range a.Tensors() {
		n := ts.Size()
		for j := 0; j < n; j += 1 + n/12 {
			check(ts.Name, params, ts.Offset+j, grad[ts.Offset+j])
		}
	}
	for i := range x {
		check("input", x, i, dx[i])
	}
}

// TestWeightsScaleLoss checks that a sample's weight multiplies its loss
// and gradient: weight 2 on one row equals that row twice.
func TestWeightsScaleLoss(t *testing.T) {
	h := Head{Kind: GMM, Modes: 3}
	a, _ := NewArch(Config{In: 3, Hidden: []int{8}, Out: h.OutSize(2), Act: ReLU})
	r := NewRand(1)
	p := a.NewParams(1)
	x, y := randSlice(r, 2*3), randSlice(r, 2*2)
	g1 := make([]float32, a.NumParams())
	l1 := lossOf(a, h, p, x, y, []float32{1, 2}, 2, 2, g1, nil) * 2
	x3 := append(append([]float32(nil), x...), x[3:]...)
	y3 := append(append([]float32(nil), y...), y[2:]...)
	g3 := make([]float32, a.NumParams())
	l3 := lossOf(a, h, p, x3, y3, nil, 3, 2, g3, nil) * 3
	if math.Abs(l1-l3) > 1e-5*math.Abs(l3) {
		t.Fatalf("weighted loss %g; repeated row %g", l1, l3)
	}
	for i := range g1 {
		if d := math.Abs(float64(g1[i]*2/3 - g3[i])); d > 1e-5 {
			t.Fatalf("grad[%d]: weighted %g; repeated %g", i, g1[i]*2/3, g3[i])
		}
	}
}
