//go:build openblas

package nn

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"

	"tandem/policies/nn/internal/openblas"
)

// The openblas build: blas32 runs on OpenBLAS through gonum's netlib cgo
// binding (Debian: apt-get install libopenblas-dev). OpenBLAS runs
// single-threaded: the package's pool is the parallelism, and OpenBLAS's
// own threads would compete with it for the same cores.
func init() {
	openblas.SetThreads(1)
	blas32.Use(netlib.Implementation{})
}

func blasKernel() kernel {
	impl := blas32.Implementation()
	return gonumKernel{impl: impl, gemv: impl, kernelName: "openblas/" + BLASCore()}
}

// defaultKernel is OpenBLAS in this build. It warns once when OpenBLAS fell
// back to an old core on a CPU that has AVX2 (Debian's 0.3.21 takes some
// newer CPUs for Prescott), which costs about 4× (docs/benchmarks.md).
func defaultKernel() string {
	if w := BLASWarning(); w != "" {
		fmt.Fprintln(os.Stderr, "tandem/policies/nn:", w)
	}
	return KernelGonum
}

// BLASCore is the kernel set OpenBLAS chose (openblas_get_corename).
func BLASCore() string { return openblas.CoreName() }

// BLASWarning says how to fix an OpenBLAS core that does not use the CPU's
// vector units, or returns "".
func BLASWarning() string {
	core := strings.ToLower(BLASCore())
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return ""
	}
	for _, old := range []string{"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "northwood", "banias", "opteron", "barcelona", "bobcat", "sandybridge", "generic"} {
		if core == old {
			want := "Haswell"
			switch {
			case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL:
				want = "SkylakeX"
			}
			return fmt.Sprintf("OpenBLAS chose the %s kernels on a CPU with AVX2/FMA; set OPENBLAS_CORETYPE=%s (or Haswell) before starting tandem for about 4× the speed", BLASCore(), want)
		}
	}
	return ""
}

func blasAdvice() string { return BLASWarning() }
