//go:build !amd64 || purego

package nn

func haveAVX2() bool { return false }

func microAVX2(k int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int) {
	microGo(k, a, rs, cs, b, ldb, c, ldc)
}

func dotAVX2(x, y []float32) float32 { return dotGo(x, y) }

func gemv4AVX2(w []float32, ld int, x []float32, n int, y *[4]float32) { gemv4Go(w, ld, x, n, y) }

func reluVec([]float32) int { return 0 }

func reluBackVec(_, _ []float32) int { return 0 }

func adamVec(_, _, _, _ []float32, _ *[9]float32) int { return 0 }

func addVec(_, _ []float32) int { return 0 }
