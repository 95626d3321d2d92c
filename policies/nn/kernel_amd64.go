//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

func haveAVX2() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

//go:noescape
func micro6x16(k int, a *float32, rs, cs int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func dotAsm(n int, x, y *float32) float32

//go:noescape
func gemv4Asm(n int, w *float32, ldw int, x, y *float32)

// gemv4AVX2 writes y[r] = Σ_{p<n} w[r·ld+p]·x[p] for four rows; n is a
// multiple of 16.
func gemv4AVX2(w []float32, ld int, x []float32, n int, y *[4]float32) {
	_ = w[3*ld+n-1]
	_ = x[n-1]
	gemv4Asm(n, &w[0], ld, &x[0], &y[0])
}

// microAVX2 is the 6×16 micro-kernel in AVX2/FMA assembly (kernel_amd64.s).
func microAVX2(k int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int) {
	if k <= 0 {
		return
	}
	_ = a[(mr-1)*rs+(k-1)*cs] // the strides are positive: this is A's last element read
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	micro6x16(k, &a[0], rs, cs, &b[0], ldb, &c[0], ldc)
}

// dotAVX2 is Σ x[i]·y[i] in AVX2/FMA assembly.
func dotAVX2(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	_ = y[len(x)-1]
	return dotAsm(len(x), &x[0], &y[0])
}

//go:noescape
func reluAsm(n int, x *float32)

//go:noescape
func reluBackAsm(n int, d, a *float32)

//go:noescape
func adamAsm(n int, param, grad, mom, vel *float32, c *[9]float32)

// reluVec, reluBackVec and adamVec process the multiple-of-8 prefix in
// assembly and return how many elements they did.
func reluVec(v []float32) int {
	n := len(v) &^ 7
	if n > 0 {
		reluAsm(n, &v[0])
	}
	return n
}

func reluBackVec(d, a []float32) int {
	n := len(d) &^ 7
	if n > 0 {
		_ = a[n-1]
		reluBackAsm(n, &d[0], &a[0])
	}
	return n
}

func adamVec(p, g, m, v []float32, c *[9]float32) int {
	n := len(p) &^ 7
	if n > 0 {
		_, _, _ = g[n-1], m[n-1], v[n-1]
		adamAsm(n, &p[0], &g[0], &m[0], &v[0], c)
	}
	return n
}

//go:noescape
func addAsm(n int, dst, src *float32)

func addVec(dst, src []float32) int {
	n := len(dst) &^ 7
	if n > 0 {
		_ = src[n-1]
		addAsm(n, &dst[0], &src[0])
	}
	return n
}
