package demos

import (
	"encoding/binary"
	"fmt"
	"math"
)

// encodeVec appends v as little-endian float64 to dst.
func encodeVec(dst []byte, v []float64) []byte {
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
	}
	return dst
}

// blob returns v encoded in a new slice; nil for an empty vector (stored as
// NULL).
func blob(v []float64) []byte {
	if len(v) == 0 {
		return nil
	}
	return encodeVec(make([]byte, 0, 8*len(v)), v)
}

// decodeVec decodes a little-endian float64 blob; nil for NULL or empty.
func decodeVec(b []byte) ([]float64, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("demos: vector blob of %d bytes is not a multiple of 8", len(b))
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

// sameBits reports whether a and b hold identical float64 bit patterns.
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
