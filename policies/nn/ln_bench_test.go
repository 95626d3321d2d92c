package nn

import "testing"

// BenchmarkLayerNorm: the forward and backward LayerNorm (with ReLU) of one
// 256-wide hidden layer over 128 rows, a critic chunk's share of a batch.
func BenchmarkLayerNorm(b *testing.B) {
	const rows, n = 128, 256
	r := NewRand(1)
	h, out, d := randSlice(r, rows*n), make([]float32, rows*n), randSlice(r, rows*n)
	g, beta := randSlice(r, n), randSlice(r, n)
	gg, gb, rstd := make([]float32, n), make([]float32, n), make([]float32, rows)
	h0, d0 := append([]float32(nil), h...), append([]float32(nil), d...)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			copy(h, h0)
			layerNormForward(h, out, rstd, g, beta, rows, n, ReLU)
		}
	})
	b.Run("backward", func(b *testing.B) {
		copy(h, h0)
		layerNormForward(h, out, rstd, g, beta, rows, n, ReLU)
		for b.Loop() {
			copy(d, d0)
			layerNormBackward(d, out, h, rstd, g, gg, gb, rows, n, ReLU)
		}
	})
}
