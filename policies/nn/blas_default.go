//go:build !openblas

package nn

import "gonum.org/v1/gonum/blas/gonum"

// blasKernel is gonum's pure-Go BLAS, tiled so that its Sgemm stays serial.
func blasKernel() kernel {
	return gonumKernel{impl: gonum.Implementation{}, gemv: gonum.Implementation{}, tileM: 64, tileN: 192, kernelName: KernelGonum}
}

// defaultKernel is the AVX2 kernel where the CPU has it (measured 3–5× gonum
// on the 256-wide layers, docs/benchmarks.md), else gonum.
func defaultKernel() string {
	if haveAVX2() {
		return KernelAVX2
	}
	return KernelGonum
}

// BLASCore is empty without the openblas build tag.
func BLASCore() string { return "" }

func blasAdvice() string { return "" }
