package nn

import (
	"fmt"
	"os"
	"sync"
)

// kernel holds the three matrix products of a linear layer on row-major
// float32 matrices. Implementations run on the calling goroutine only: the
// package's parallelism is its own worker pool, never the BLAS's.
type kernel interface {
	// forward: y[r,o] = b[o] + Σ_i x[r,i]·w[o,i]   (x: rows×in, w: out×in)
	forward(s *scratch, y, x, w, b []float32, rows, in, out int)
	// backInput: dx[r,i] = Σ_o dy[r,o]·w[o,i]
	backInput(s *scratch, dx, dy, w []float32, rows, in, out int)
	// backWeight: dw[o,i] += Σ_r dy[r,o]·x[r,i] and db[o] += Σ_r dy[r,o]
	backWeight(s *scratch, dw, db, dy, x []float32, rows, in, out int)
	name() string
}

// Kernel names, for TANDEM_NN_KERNEL and reports.
const (
	KernelAVX2  = "avx2"   // own register-blocked Go-assembly GEMM (amd64, AVX2+FMA)
	KernelGonum = "gonum"  // gonum's blas32 (pure Go with SSE), or OpenBLAS under the openblas tag
	KernelGo    = "purego" // own blocked GEMM in plain Go (the assembly's reference)
)

var (
	kernelOnce sync.Once
	active     kernel
	// vecLoops is true when the element-wise loops (ReLU, its gradient,
	// Adam) run in AVX2 assembly: on CPUs with AVX2 unless
	// TANDEM_NN_KERNEL=purego.
	vecLoops bool
)

// activeKernel returns the kernel every network in this process uses: the
// environment variable TANDEM_NN_KERNEL when set (avx2, gonum, purego),
// otherwise the openblas build's BLAS, otherwise the AVX2 kernel where the
// CPU has AVX2 and FMA, otherwise gonum.
func activeKernel() kernel {
	kernelOnce.Do(func() {
		name := os.Getenv("TANDEM_NN_KERNEL")
		if name == "" {
			name = defaultKernel()
		}
		k, err := kernelByName(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tandem/policies/nn:", err, "- using", KernelGonum)
			k, _ = kernelByName(KernelGonum)
		}
		active = k
		vecLoops = haveAVX2() && k.name() != KernelGo
	})
	return active
}

func kernelByName(name string) (kernel, error) {
	switch name {
	case KernelGonum:
		return blasKernel(), nil
	case KernelGo:
		return ownKernel{micro: microGo, dot: dotGo, gemv4: gemv4Go, label: KernelGo}, nil
	case KernelAVX2:
		if !haveAVX2() {
			return nil, fmt.Errorf("TANDEM_NN_KERNEL=%s: this CPU lacks AVX2/FMA", name)
		}
		return ownKernel{micro: microAVX2, dot: dotAVX2, gemv4: gemv4AVX2, label: KernelAVX2}, nil
	}
	return nil, fmt.Errorf("unknown TANDEM_NN_KERNEL %q (avx2, gonum, purego)", name)
}

// KernelName reports which matrix kernel this process uses, with the BLAS
// core when it is OpenBLAS.
func KernelName() string { return activeKernel().name() }
