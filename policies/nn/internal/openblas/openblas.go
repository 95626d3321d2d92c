//go:build openblas

// Package openblas binds the two OpenBLAS calls package nn needs besides
// BLAS itself. It is separate because a package using cgo cannot hold Go
// assembly, and nn's AVX2 kernel is Go assembly.
package openblas

/*
#cgo LDFLAGS: -lopenblas
char* openblas_get_corename(void);
void openblas_set_num_threads(int);
*/
import "C"

// CoreName is the kernel set OpenBLAS chose (openblas_get_corename).
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

// SetThreads sets OpenBLAS's thread count.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
