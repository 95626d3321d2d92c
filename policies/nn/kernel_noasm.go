//go:build !amd64 || purego

package nn

func haveAVX2() bool { return false }

func microAVX2(k int, a, b, c []float32, ldc int) { microGo(k, a, b, c, ldc) }

func dotAVX2(x, y []float32) float32 { return dotGo(x, y) }
