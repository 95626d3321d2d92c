package sim

import "fmt"

// MaxVec is the largest observation or action a task may declare. Vec keeps
// its values in a fixed array of this size so that steps are plain values and
// Env.Step does not allocate.
const MaxVec = 64

// Vec is a small fixed-capacity vector of float64 used for observations and
// actions inside immutable step values. The zero Vec is empty.
type Vec struct {
	n int
	a [MaxVec]float64
}

// VecOf copies s into a Vec. It panics if len(s) > MaxVec, which is a
// programming error caught when a task's Spec is validated.
func VecOf(s []float64) Vec {
	var v Vec
	v.Set(s)
	return v
}

// Set replaces v's contents with a copy of s.
func (v *Vec) Set(s []float64) {
	if len(s) > MaxVec {
		panic(fmt.Sprintf("sim: vector of %d exceeds MaxVec %d", len(s), MaxVec))
	}
	v.n = copy(v.a[:], s)
}

// Len reports the number of elements.
func (v *Vec) Len() int { return v.n }

// At returns element i.
func (v *Vec) At(i int) float64 {
	if i >= v.n {
		panic(fmt.Sprintf("sim: Vec index %d out of range %d", i, v.n))
	}
	return v.a[i]
}

// Slice returns the elements as a slice aliasing v's storage: use it on a
// variable you own, and copy it before keeping it beyond v's lifetime.
func (v *Vec) Slice() []float64 { return v.a[:v.n:v.n] }

// Append appends v's elements to dst.
func (v *Vec) Append(dst []float64) []float64 { return append(dst, v.a[:v.n]...) }
