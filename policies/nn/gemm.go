package nn

// The own GEMM: C (m×n, row-major, leading dimension ldc) += A·B, where A is
// m×k and B is k×n, each either row-major or stored transposed. It follows
// the BLIS structure (Van Zee & van de Geijn, "BLIS: A Framework for Rapidly
// Instantiating BLAS Functionality", TOMS 2015) cut down to the sizes of
// tandem's networks: k is blocked by kc, B is packed into kc×nr panels, A
// into mr×kc panels, and a register-blocked micro-kernel computes one mr×nr
// tile of C per call. Edge tiles go through a small buffer, so the
// micro-kernel only ever sees full tiles.

const (
	mr = 6   // micro-tile rows: 6×16 uses 12 of AVX2's 16 vector registers as accumulators
	nr = 16  // micro-tile columns: two 8-float vectors
	kc = 256 // k block: an A panel (6 KiB) and a B panel (16 KiB) fit in L1 together
)

// scratch is one goroutine's packing memory. It grows on first use and is
// reused after, so steady-state products allocate nothing.
type scratch struct {
	a, b, be []float32
	c        [mr * nr]float32
	acc      [4]float32
}

// grow returns s resliced to n elements, allocating only when its capacity
// is short (the packing buffers here, a Batch's slices in Gather).
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// operand is a matrix as the GEMM reads it: element (i, p) of a row-major
// matrix is data[i*ld+p]; of a transposed one, data[p*ld+i].
type operand struct {
	data  []float32
	ld    int
	trans bool
}

// microKernel computes c[i*ldc+j] += Σ_{p<k} a[i*rs+p*cs]·b[p*ldb+j] for
// the full mr×nr tile. A is read in place through its strides (its six
// values per p are broadcast, so its layout does not matter); B's rows of
// nr values must be contiguous.
type microKernel func(k int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int)

// gemm computes C += A·B. A is never copied except for a last, partial
// row panel; B is used in place when row-major, packed into kc×nr panels
// when stored transposed (the forward pass's Wᵀ), and a partial last column
// panel is copied with zero padding, so the micro-kernel always computes
// full tiles.
func gemm(s *scratch, micro microKernel, m, n, k int, A, B operand, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	rs, cs := A.ld, 1
	if A.trans {
		rs, cs = 1, A.ld
	}
	np := (n + nr - 1) / nr
	kb0 := min(k, kc)
	s.a = grow(s.a, mr*kb0)
	if B.trans {
		s.b = grow(s.b, np*nr*kb0)
	}
	s.be = grow(s.be, nr*kb0)
	nEdge := n % nr
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		if B.trans {
			packB(s.b, B, p0, kb, n)
		} else if nEdge != 0 {
			packB(s.be, operand{B.data[(np-1)*nr:], B.ld, false}, p0, kb, nEdge)
		}
		for i0 := 0; i0 < m; i0 += mr {
			mi := min(mr, m-i0)
			a, ars, acs := A.data[i0*rs+p0*cs:], rs, cs
			if mi < mr {
				packA(s.a, A, i0, mi, p0, kb)
				a, ars, acs = s.a, 1, mr
			}
			for jp := range np {
				j0 := jp * nr
				nj := min(nr, n-j0)
				var b []float32
				ldb := nr
				switch {
				case B.trans:
					b = s.b[jp*kb*nr : (jp+1)*kb*nr]
				case nj < nr:
					b = s.be[:kb*nr]
				default:
					b, ldb = B.data[p0*B.ld+j0:], B.ld
				}
				if mi == mr && nj == nr {
					micro(kb, a, ars, acs, b, ldb, c[i0*ldc+j0:], ldc)
					continue
				}
				t := s.c[:]
				for i := range mr {
					for j := range nr {
						if i < mi && j < nj {
							t[i*nr+j] = c[(i0+i)*ldc+j0+j]
						} else {
							t[i*nr+j] = 0
						}
					}
				}
				micro(kb, a, ars, acs, b, ldb, t, nr)
				for i := range mi {
					copy(c[(i0+i)*ldc+j0:(i0+i)*ldc+j0+nj], t[i*nr:i*nr+nj])
				}
			}
		}
	}
}

// packA writes rows i0..i0+mi of A, columns p0..p0+kb, as dst[p*mr+i],
// zero-padding rows past mi.
func packA(dst []float32, A operand, i0, mi, p0, kb int) {
	dst = dst[:kb*mr]
	clear(dst)
	if A.trans { // A[i,p] = data[p*ld+i]: rows of the stored matrix are contiguous in i
		for p := range kb {
			src := A.data[(p0+p)*A.ld+i0 : (p0+p)*A.ld+i0+mi]
			copy(dst[p*mr:p*mr+mi], src)
		}
		return
	}
	for i := range mi {
		src := A.data[(i0+i)*A.ld+p0 : (i0+i)*A.ld+p0+kb]
		for p, v := range src {
			dst[p*mr+i] = v
		}
	}
}

// packB writes columns 0..n of B, rows p0..p0+kb, as nr-wide panels:
// panel jp holds dst[jp*kb*nr + p*nr + j] = B[p0+p, jp*nr+j], zero-padded.
func packB(dst []float32, B operand, p0, kb, n int) {
	np := (n + nr - 1) / nr
	for jp := range np {
		j0 := jp * nr
		nj := min(nr, n-j0)
		panel := dst[jp*kb*nr : (jp+1)*kb*nr]
		if nj < nr {
			clear(panel)
		}
		if !B.trans { // B[p,j] = data[p*ld+j]
			for p := range kb {
				row := B.data[(p0+p)*B.ld+j0 : (p0+p)*B.ld+j0+nj]
				copy(panel[p*nr:p*nr+nj], row)
			}
			continue
		}
		for j := range nj { // B[p,j] = data[j*ld+p]
			col := B.data[(j0+j)*B.ld+p0 : (j0+j)*B.ld+p0+kb]
			for p, v := range col {
				panel[p*nr+j] = v
			}
		}
	}
}

// microGo is the micro-kernel in plain Go: the reference for the assembly
// and the kernel on CPUs without AVX2.
func microGo(k int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int) {
	var acc [mr][nr]float32
	for p := range k {
		bp := b[p*ldb : p*ldb+nr : p*ldb+nr]
		for i := range mr {
			ai := a[i*rs+p*cs]
			row := &acc[i]
			for j := range nr {
				row[j] += ai * bp[j]
			}
		}
	}
	for i := range mr {
		row := c[i*ldc : i*ldc+nr]
		for j := range nr {
			row[j] += acc[i][j]
		}
	}
}

// ownKernel is the own GEMM around a micro-kernel and a dot product for
// single rows (policy inference, one observation at a time).
type ownKernel struct {
	micro microKernel
	dot   func(x, y []float32) float32
	gemv4 func(w []float32, ld int, x []float32, n int, y *[4]float32)
	label string
}

func (k ownKernel) name() string { return k.label }

func (k ownKernel) forward(s *scratch, y, x, w, b []float32, rows, in, out int) {
	if rows == 1 {
		k.gemv(s, y, x[:in], w, b, in, out)
		return
	}
	for r := range rows {
		copy(y[r*out:(r+1)*out], b[:out])
	}
	gemm(s, k.micro, rows, out, in, operand{x, in, false}, operand{w, in, true}, y, out)
}

func (k ownKernel) backInput(s *scratch, dx, dy, w []float32, rows, in, out int) {
	clear(dx[:rows*in])
	gemm(s, k.micro, rows, in, out, operand{dy, out, false}, operand{w, in, false}, dx, in)
}

func (k ownKernel) backWeight(s *scratch, dw, db, dy, x []float32, rows, in, out int) {
	gemm(s, k.micro, out, in, rows, operand{dy, out, true}, operand{x, in, false}, dw, in)
	colSums(db, dy, rows, out)
}

func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// gemv is y = W·x + b for one row: four rows of W at a time over the
// multiple-of-16 prefix of x, the rest in Go.
func (k ownKernel) gemv(s *scratch, y, x, w, b []float32, in, out int) {
	n16 := in &^ 15
	o := 0
	acc := &s.acc // a local array would escape through the function value
	for ; o+4 <= out && n16 > 0; o += 4 {
		k.gemv4(w[o*in:], in, x, n16, acc)
		for r := range 4 {
			s := acc[r]
			row := w[(o+r)*in : (o+r+1)*in]
			for p := n16; p < in; p++ {
				s += row[p] * x[p]
			}
			y[o+r] = b[o+r] + s
		}
	}
	for ; o < out; o++ {
		y[o] = b[o] + k.dot(w[o*in:(o+1)*in], x)
	}
}

func gemv4Go(w []float32, ld int, x []float32, n int, y *[4]float32) {
	for r := range 4 {
		y[r] = dotGo(w[r*ld:r*ld+n], x[:n])
	}
}
