package demos

import (
	"math"
	"testing"
)

func TestVecBlobRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    []float64
	}{
		{"empty", nil},
		{"values", []float64{0, -0.0, 1.5, -2e-300, math.MaxFloat64, math.SmallestNonzeroFloat64}},
		{"non-finite", []float64{math.Inf(1), math.Inf(-1), math.NaN()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := blob(tc.v)
			if len(b) != 8*len(tc.v) {
				t.Fatalf("blob of %d values has %d bytes; want %d", len(tc.v), len(b), 8*len(tc.v))
			}
			got, err := decodeVec(b)
			if err != nil {
				t.Fatal(err)
			}
			if !equalBits(got, tc.v) {
				t.Fatalf("got %v; want %v bit for bit", got, tc.v)
			}
		})
	}
	if _, err := decodeVec(make([]byte, 7)); err == nil {
		t.Fatal("7-byte blob decoded; want an error")
	}
}

func TestEncodeVecDoesNotAllocate(t *testing.T) {
	v := make([]float64, 20)
	buf := make([]byte, 0, 8*len(v))
	if n := testing.AllocsPerRun(100, func() { buf = encodeVec(buf[:0], v) }); n != 0 {
		t.Fatalf("encodeVec allocates %v times per call; want 0", n)
	}
}
