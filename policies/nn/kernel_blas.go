package nn

import (
	"gonum.org/v1/gonum/blas"
)

// gonumKernel runs the products through blas32's registered implementation:
// gonum's pure-Go one by default, OpenBLAS under the openblas build tag
// (blas32.Use in openblas.go). gonum's Sgemm goes parallel, starting
// goroutines and allocating on every call, once C spans 4 or more 64×64
// blocks; tiles keeps each call below that (tile rows × tile cols ≤ 64×192).
// OpenBLAS runs single-threaded (set in openblas.go) on whole matrices.
type gonumKernel struct {
	impl       blas.Float32Level3
	gemv       blas.Float32Level2
	tileM      int // 0: no tiling
	tileN      int
	kernelName string
}

func (k gonumKernel) name() string { return k.kernelName }

// gemm runs C = A·op(B) (+C when beta is 1) over tiles of C.
func (k gonumKernel) gemm(tA, tB blas.Transpose, m, n, kk int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k.tileM == 0 || (m <= k.tileM && n <= k.tileN) {
		k.impl.Sgemm(tA, tB, m, n, kk, 1, a, lda, b, ldb, beta, c, ldc)
		return
	}
	for i0 := 0; i0 < m; i0 += k.tileM {
		mi := min(k.tileM, m-i0)
		var aa []float32
		if tA == blas.NoTrans {
			aa = a[i0*lda:]
		} else {
			aa = a[i0:]
		}
		for j0 := 0; j0 < n; j0 += k.tileN {
			nj := min(k.tileN, n-j0)
			var bb []float32
			if tB == blas.NoTrans {
				bb = b[j0:]
			} else {
				bb = b[j0*ldb:]
			}
			k.impl.Sgemm(tA, tB, mi, nj, kk, 1, aa, lda, bb, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

func (k gonumKernel) forward(_ *scratch, y, x, w, b []float32, rows, in, out int) {
	for r := range rows {
		copy(y[r*out:(r+1)*out], b[:out])
	}
	if rows == 1 {
		k.gemv.Sgemv(blas.NoTrans, out, in, 1, w, in, x, 1, 1, y, 1)
		return
	}
	k.gemm(blas.NoTrans, blas.Trans, rows, out, in, x, in, w, in, 1, y, out)
}

func (k gonumKernel) backInput(_ *scratch, dx, dy, w []float32, rows, in, out int) {
	k.gemm(blas.NoTrans, blas.NoTrans, rows, in, out, dy, out, w, in, 0, dx, in)
}

func (k gonumKernel) backWeight(_ *scratch, dw, db, dy, x []float32, rows, in, out int) {
	k.gemm(blas.Trans, blas.NoTrans, out, in, rows, dy, out, x, in, 1, dw, in)
	colSums(db, dy, rows, out)
}

// colSums adds the column sums of the rows×n matrix m to dst.
func colSums(dst, m []float32, rows, n int) {
	dst = dst[:n]
	for r := range rows {
		addTo(dst, m[r*n:(r+1)*n])
	}
}

// addTo adds src to dst (len(dst) elements).
func addTo(dst, src []float32) {
	if vecLoops {
		n := addVec(dst, src)
		dst, src = dst[n:], src[n:]
	}
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] += v
	}
}
