package nn

import (
	"fmt"
	"math"
)

// Tape holds one batch's activations between Forward and Backward, the
// gradient buffers of Backward and the kernel's packing memory. A Tape has a
// row capacity fixed at creation; it belongs to one goroutine at a time.
type Tape struct {
	arch *Arch
	cap  int
	rows int
	x    []float32   // the input of the last Forward (the caller's slice)
	h    [][]float32 // per hidden layer with LayerNorm: normalised pre-activation x̂
	rstd [][]float32 // per hidden layer with LayerNorm: 1/√(var+ε) per row
	a    [][]float32 // per layer: hidden post-activation; the last is the output
	d    [2][]float32
	s    scratch
}

// NewTape returns a tape for batches of up to rows rows.
func (a *Arch) NewTape(rows int) *Tape {
	t := &Tape{arch: a, cap: rows}
	for _, l := range a.layers {
		t.a = append(t.a, make([]float32, rows*l.out))
		if l.g >= 0 {
			t.h = append(t.h, make([]float32, rows*l.out))
			t.rstd = append(t.rstd, make([]float32, rows))
		} else {
			t.h = append(t.h, nil)
			t.rstd = append(t.rstd, nil)
		}
	}
	t.d[0] = make([]float32, rows*a.maxWidth)
	t.d[1] = make([]float32, rows*a.maxWidth)
	return t
}

// Cap is the tape's row capacity.
func (t *Tape) Cap() int { return t.cap }

// Output is the network output of the last Forward: rows×Out, owned by the
// tape (valid until the next Forward).
func (t *Tape) Output() []float32 { return t.a[len(t.a)-1][:t.rows*t.arch.Out] }

// Forward runs rows rows of x (rows×In, row-major) through the network with
// parameters params and returns the output (rows×Out), which the tape owns.
// The tape keeps x (not a copy) for Backward. It runs on the calling
// goroutine and allocates nothing once the tape has been used.
func (a *Arch) Forward(params []float32, t *Tape, x []float32, rows int) []float32 {
	if t.arch != a || rows > t.cap || rows <= 0 || len(x) < rows*a.In || len(params) != a.nParams {
		panic(fmt.Sprintf("nn: Forward: rows %d (tape cap %d), input %d of %d, params %d of %d, tape of this arch %v",
			rows, t.cap, len(x), rows*a.In, len(params), a.nParams, t.arch == a))
	}
	k := activeKernel()
	t.rows, t.x = rows, x
	in := x[:rows*a.In]
	last := len(a.layers) - 1
	for i, l := range a.layers {
		out := t.a[i][:rows*l.out]
		w := params[l.w : l.w+l.in*l.out]
		b := params[l.b : l.b+l.out]
		if i == last {
			k.forward(&t.s, out, in, w, b, rows, l.in, l.out)
			break
		}
		if l.g < 0 {
			k.forward(&t.s, out, in, w, b, rows, l.in, l.out)
			activate(a.Act, out)
		} else {
			h := t.h[i][:rows*l.out]
			k.forward(&t.s, h, in, w, b, rows, l.in, l.out)
			layerNormForward(h, out, t.rstd[i][:rows], params[l.g:l.g+l.out], params[l.beta:l.beta+l.out], rows, l.out, a.Act)
		}
		in = out
	}
	return t.Output()
}

// Backward propagates dy (rows×Out, the loss gradient with respect to the
// output of the last Forward on t) back through the network. When grad is
// not nil (len NumParams) the parameter gradients are added to it; when dx is
// not nil (rows×In) the gradient with respect to the input is written to it.
// params must be those of the Forward. dy is not modified.
func (a *Arch) Backward(params []float32, t *Tape, dy, grad, dx []float32) {
	rows := t.rows
	if len(dy) < rows*a.Out || (grad != nil && len(grad) != a.nParams) || (dx != nil && len(dx) < rows*a.In) {
		panic(fmt.Sprintf("nn: Backward: dy %d of %d, grad %d of %d, dx %d of %d", len(dy), rows*a.Out, len(grad), a.nParams, len(dx), rows*a.In))
	}
	k := activeKernel()
	d := dy[:rows*a.Out]
	for i := len(a.layers) - 1; i >= 0; i-- {
		l := a.layers[i]
		if i < len(a.layers)-1 { // hidden: d is dL/d(activation output); make it dL/d(linear output)
			act := t.a[i][:rows*l.out]
			if l.g < 0 {
				activateBackward(a.Act, d, act)
			} else {
				var gg, gb []float32
				if grad != nil {
					gg, gb = grad[l.g:l.g+l.out], grad[l.beta:l.beta+l.out]
				}
				layerNormBackward(d, act, t.h[i][:rows*l.out], t.rstd[i][:rows], params[l.g:l.g+l.out], gg, gb, rows, l.out, a.Act)
			}
		}
		in := t.x
		if i > 0 {
			in = t.a[i-1]
		}
		if grad != nil {
			k.backWeight(&t.s, grad[l.w:l.w+l.in*l.out], grad[l.b:l.b+l.out], d, in[:rows*l.in], rows, l.in, l.out)
		}
		w := params[l.w : l.w+l.in*l.out]
		switch {
		case i > 0:
			next := t.d[i%2][:rows*l.in]
			k.backInput(&t.s, next, d, w, rows, l.in, l.out)
			d = next
		case dx != nil:
			k.backInput(&t.s, dx[:rows*l.in], d, w, rows, l.in, l.out)
		}
	}
}

// activate applies f in place.
func activate(f Activation, v []float32) {
	if f == ReLU {
		relu(v)
		return
	}
	for i, x := range v {
		v[i] = float32(math.Tanh(float64(x)))
	}
}

// relu is max(0, x) without branches: the sign bit, spread by an arithmetic
// shift, masks the value (negative and -0 give +0).
func relu(v []float32) {
	if vecLoops {
		v = v[reluVec(v):]
	}
	for i, x := range v {
		b := math.Float32bits(x)
		v[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// activateBackward turns d = dL/da into dL/dz in place, given a = f(z).
func activateBackward(f Activation, d, a []float32) {
	a = a[:len(d)]
	if f == ReLU {
		if vecLoops {
			n := reluBackVec(d, a)
			d, a = d[n:], a[n:]
		}
		for i, ai := range a {
			// a ≥ 0, so its bits are non-zero exactly when a > 0: negating
			// them sets the sign bit, which the shift spreads into a mask.
			m := uint32(-int32(math.Float32bits(ai)) >> 31)
			d[i] = math.Float32frombits(math.Float32bits(d[i]) & m)
		}
		return
	}
	for i, ai := range a {
		d[i] *= 1 - ai*ai
	}
}

// layerNormForward normalises each row of h in place (h becomes x̂), stores
// 1/σ in rstd and writes f(x̂·g + beta) to out. The row sums run on eight
// independent partial sums and normalisation, affine map and ReLU are one
// pass: with one accumulator every add waited on the previous one, which
// made LayerNorm a fifth of an RL update (docs/algorithms.md).
func layerNormForward(h, out, rstd, g, beta []float32, rows, n int, f Activation) {
	g, beta = g[:n], beta[:n]
	inv := 1 / float32(n)
	for r := range rows {
		row := h[r*n : (r+1)*n]
		o := out[r*n : (r+1)*n]
		o = o[:len(row)]
		mean := sum8(row) * inv
		rs := float32(1 / math.Sqrt(float64(sumSqDev8(row, mean)*inv)+LayerNormEps))
		rstd[r] = rs
		if f == ReLU {
			for j, v := range row {
				xh := (v - mean) * rs
				row[j] = xh
				b := math.Float32bits(xh*g[j] + beta[j])
				o[j] = math.Float32frombits(b &^ uint32(int32(b)>>31)) // relu's branch-free mask
			}
			continue
		}
		for j, v := range row {
			xh := (v - mean) * rs
			row[j] = xh
			o[j] = xh*g[j] + beta[j]
		}
		activate(f, o)
	}
}

// sum8 is Σ v over eight interleaved partial sums.
func sum8(v []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := v[i : i+8 : i+8]
		s0 += w[0]
		s1 += w[1]
		s2 += w[2]
		s3 += w[3]
		s4 += w[4]
		s5 += w[5]
		s6 += w[6]
		s7 += w[7]
	}
	for ; i < len(v); i++ {
		s0 += v[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// sumSqDev8 is Σ (v − m)² over eight interleaved partial sums.
func sumSqDev8(v []float32, m float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := v[i : i+8 : i+8]
		c0, c1, c2, c3 := w[0]-m, w[1]-m, w[2]-m, w[3]-m
		c4, c5, c6, c7 := w[4]-m, w[5]-m, w[6]-m, w[7]-m
		s0 += c0 * c0
		s1 += c1 * c1
		s2 += c2 * c2
		s3 += c3 * c3
		s4 += c4 * c4
		s5 += c5 * c5
		s6 += c6 * c6
		s7 += c7 * c7
	}
	for ; i < len(v); i++ {
		c := v[i] - m
		s0 += c * c
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// layerNormBackward turns d = dL/da into dL/dz in place through the
// activation and the LayerNorm, adding dL/dg and dL/dbeta into gg and gb
// when they are not nil. The row sums m1 = Σ dy·g and m2 = Σ dy·g·x̂ run on
// four partial sums each.
func layerNormBackward(d, a, xh, rstd, g, gg, gb []float32, rows, n int, f Activation) {
	activateBackward(f, d, a)
	g = g[:n]
	inv := 1 / float32(n)
	for r := range rows {
		dr := d[r*n : (r+1)*n]
		xr := xh[r*n : (r+1)*n]
		xr = xr[:len(dr)]
		if gg != nil {
			gg, gb := gg[:len(dr)], gb[:len(dr)]
			for j, dy := range dr {
				gg[j] += dy * xr[j]
				gb[j] += dy
			}
		}
		var a0, a1, a2, a3, b0, b1, b2, b3 float32
		j := 0
		for ; j+4 <= len(dr); j += 4 {
			d4, x4, g4 := dr[j:j+4:j+4], xr[j:j+4:j+4], g[j:j+4:j+4]
			e0, e1, e2, e3 := d4[0]*g4[0], d4[1]*g4[1], d4[2]*g4[2], d4[3]*g4[3]
			a0 += e0
			a1 += e1
			a2 += e2
			a3 += e3
			b0 += e0 * x4[0]
			b1 += e1 * x4[1]
			b2 += e2 * x4[2]
			b3 += e3 * x4[3]
		}
		for ; j < len(dr); j++ {
			e := dr[j] * g[j]
			a0 += e
			b0 += e * xr[j]
		}
		m1 := ((a0 + a1) + (a2 + a3)) * inv
		m2 := ((b0 + b1) + (b2 + b3)) * inv
		rs := rstd[r]
		for j, dy := range dr {
			dr[j] = rs * (dy*g[j] - m1 - xr[j]*m2)
		}
	}
}
