package nn

import (
	"fmt"
	"math"
	"testing"
)

func randSlice(r *Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(2*r.Float64() - 1)
	}
	return s
}

func allKernels(t testing.TB) []kernel {
	ks := []kernel{blasKernel(), ownKernel{micro: microGo, dot: dotGo, gemv4: gemv4Go, label: KernelGo}}
	if haveAVX2() {
		k, _ := kernelByName(KernelAVX2)
		ks = append(ks, k)
	}
	return ks
}

// TestKernels compares each kernel's three products with float64 loops
// over shapes that exercise edge tiles, k blocking and single rows.
func TestKernels(t *testing.T) {
	r := NewRand(1)
	shapes := [][3]int{{1, 20, 256}, {1, 256, 2}, {1, 256, 256}, {1, 37, 9}, {1, 5, 3}, {7, 5, 3}, {6, 16, 16}, {13, 300, 33}, {256, 20, 256}, {130, 256, 256}, {64, 600, 17}}
	for _, k := range allKernels(t) {
		for _, sh := range shapes {
			rows, in, out := sh[0], sh[1], sh[2]
			t.Run(fmt.Sprintf("%s/%dx%dx%d", k.name(), rows, in, out), func(t *testing.T) {
				x, w, b := randSlice(r, rows*in), randSlice(r, out*in), randSlice(r, out)
				dy := randSlice(r, rows*out)
				var s scratch
				y := make([]float32, rows*out)
				k.forward(&s, y, x, w, b, rows, in, out)
				dx := randSlice(r, rows*in) // overwritten
				k.backInput(&s, dx, dy, w, rows, in, out)
				dw, db := randSlice(r, out*in), randSlice(r, out) // accumulated into
				dw0, db0 := append([]float32(nil), dw...), append([]float32(nil), db...)
				k.backWeight(&s, dw, db, dy, x, rows, in, out)
				tol := 1e-4 * math.Sqrt(float64(max(in, out, rows)))
				for i := range rows {
					for o := range out {
						want := float64(b[o])
						for p := range in {
							want += float64(x[i*in+p]) * float64(w[o*in+p])
						}
						if d := math.Abs(float64(y[i*out+o]) - want); d > tol {
							t.Fatalf("forward y[%d,%d] = %g; want %g", i, o, y[i*out+o], want)
						}
					}
					for p := range in {
						want := 0.0
						for o := range out {
							want += float64(dy[i*out+o]) * float64(w[o*in+p])
						}
						if d := math.Abs(float64(dx[i*in+p]) - want); d > tol {
							t.Fatalf("backInput dx[%d,%d] = %g; want %g", i, p, dx[i*in+p], want)
						}
					}
				}
				for o := range out {
					wantB := float64(db0[o])
					for i := range rows {
						wantB += float64(dy[i*out+o])
					}
					if d := math.Abs(float64(db[o]) - wantB); d > tol {
						t.Fatalf("backWeight db[%d] = %g; want %g", o, db[o], wantB)
					}
					for p := range in {
						want := float64(dw0[o*in+p])
						for i := range rows {
							want += float64(dy[i*out+o]) * float64(x[i*in+p])
						}
						if d := math.Abs(float64(dw[o*in+p]) - want); d > tol {
							t.Fatalf("backWeight dw[%d,%d] = %g; want %g", o, p, dw[o*in+p], want)
						}
					}
				}
			})
		}
	}
}

func TestKernelName(t *testing.T) {
	t.Logf("kernel %s, OpenBLAS core %q", KernelName(), BLASCore())
	if KernelName() == "" {
		t.Fatal("no kernel name")
	}
}

// TestVectorLoops compares the assembly element-wise loops (ReLU, its
// gradient, Adam) with the Go ones, NaN and signed zeros included.
func TestVectorLoops(t *testing.T) {
	activeKernel()
	if !vecLoops {
		t.Skip("element-wise loops are Go on this machine")
	}
	defer func() { vecLoops = true }()
	r := NewRand(5)
	x := randSlice(r, 37)
	x[3], x[9], x[17] = float32(math.NaN()), float32(math.Copysign(0, -1)), 0
	a := append([]float32(nil), x...)
	relu(a)
	d := randSlice(r, 37)
	dv := append([]float32(nil), d...)
	activateBackward(ReLU, dv, a)
	sumV := append([]float32(nil), d...)
	addTo(sumV, x)
	cfg := AdamConfig{LR: 0.01, WeightDecay: 0.1}
	p, g := randSlice(r, 37), randSlice(r, 37)
	ov := NewAdam(cfg, 37)
	pv := append([]float32(nil), p...)
	for range 3 {
		ov.t++
		ov.apply(pv, g, 0.7, 0, 37)
	}

	vecLoops = false
	b := append([]float32(nil), x...)
	relu(b)
	dg := append([]float32(nil), d...)
	activateBackward(ReLU, dg, b)
	sumG := append([]float32(nil), d...)
	addTo(sumG, x)
	og := NewAdam(cfg, 37)
	pg := append([]float32(nil), p...)
	for range 3 {
		og.t++
		og.apply(pg, g, 0.7, 0, 37)
	}
	for i := range x {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("relu(%g): asm %g, Go %g", x[i], a[i], b[i])
		}
		if math.Float32bits(dv[i]) != math.Float32bits(dg[i]) {
			t.Fatalf("relu gradient %d: asm %g, Go %g", i, dv[i], dg[i])
		}
		if math.Float32bits(sumV[i]) != math.Float32bits(sumG[i]) {
			t.Fatalf("add %d: asm %g, Go %g", i, sumV[i], sumG[i])
		}
		if math.Abs(float64(pv[i]-pg[i])) > 1e-6 {
			t.Fatalf("adam param %d: asm %g, Go %g", i, pv[i], pg[i])
		}
	}
}
