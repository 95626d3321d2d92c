package nn

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/nlpodyssey/safetensors"
)

// F32View is a safetensors view of data as little-endian float32 with
// shape (torch's layout). Scalars are shape [1]: the library rejects rank 0.
func F32View(shape []int, data []float32) (safetensors.TensorView, error) {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	sh := make([]uint64, len(shape))
	for i, d := range shape {
		sh[i] = uint64(d)
	}
	return safetensors.NewTensorView(safetensors.F32, sh, raw)
}

// ParseSafetensors parses a safetensors file and returns it with its
// string metadata. It checks every tensor's byte range against the buffer
// first: the library's own offset check can overflow on a hostile header.
func ParseSafetensors(b []byte) (safetensors.SafeTensors, map[string]string, error) {
	n, md, err := safetensors.ReadMetadata(b)
	if err != nil {
		return safetensors.SafeTensors{}, nil, err
	}
	size := uint64(len(b)) - 8 - n
	for name, info := range md.Tensors() {
		if info.DataOffsets[0] > info.DataOffsets[1] || info.DataOffsets[1] > size {
			return safetensors.SafeTensors{}, nil, fmt.Errorf("%q: bytes %v outside the %d-byte data", name, info.DataOffsets, size)
		}
	}
	st, err := safetensors.Deserialize(b)
	return st, md.Metadata(), err
}

// ReadF32 copies tensor name of st into dst, which must hold at least the
// shape's element count. The tensor must exist, be F32, have exactly shape
// and hold finite values only; the error names the tensor and what is
// wrong.
func ReadF32(st safetensors.SafeTensors, name string, shape []int, dst []float32) error {
	tv, ok := st.Tensor(name)
	if !ok {
		return fmt.Errorf("%q is missing", name)
	}
	if tv.DType() != safetensors.F32 {
		return fmt.Errorf("%q is %s; want F32", name, tv.DType())
	}
	if !sameShape(tv.Shape(), shape) {
		return fmt.Errorf("%q has shape %v; want %v", name, tv.Shape(), shape)
	}
	raw := tv.Data()
	if n := elements(shape); len(raw) != 4*n {
		return fmt.Errorf("%q holds %d bytes; shape %v needs %d", name, len(raw), shape, 4*n)
	}
	for i := range dst[:len(raw)/4] {
		v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		if !finite32(v) {
			return fmt.Errorf("%q element %d is %g", name, i, v)
		}
		dst[i] = v
	}
	return nil
}

func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
