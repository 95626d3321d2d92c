//go:build amd64 && !purego

#include "textflag.h"

// func micro6x16(k int, a *float32, rs, cs int, b *float32, ldb int, c *float32, ldc int)
// c[i*ldc+j] += Σ_p a[i*rs+p*cs]·b[p*ldb+j], i < 6, j < 16 (strides in
// elements), with Y0–Y11 the 6×2 accumulator vectors, Y12–Y13 one row of b
// and Y14–Y15 broadcasts of a. R9–R13 and BX point at A's six rows; AX is
// the offset of column p in them.
TEXT ·micro6x16(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R9
	MOVQ rs+16(FP), AX
	SHLQ $2, AX
	LEAQ (R9)(AX*1), R10
	LEAQ (R10)(AX*1), R11
	LEAQ (R11)(AX*1), R12
	LEAQ (R12)(AX*1), R13
	LEAQ (R13)(AX*1), BX
	MOVQ cs+24(FP), R8
	SHLQ $2, R8
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), SI
	SHLQ $2, SI
	XORQ AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JZ store

loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS (R9)(AX*1), Y14
	VBROADCASTSS (R10)(AX*1), Y15
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (R11)(AX*1), Y14
	VBROADCASTSS (R12)(AX*1), Y15
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (R13)(AX*1), Y14
	VBROADCASTSS (BX)(AX*1), Y15
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ R8, AX
	ADDQ SI, DI
	DECQ CX
	JNZ loop

store:
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $2, R8
	VADDPS (DX), Y0, Y0
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y2, Y2
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y4, Y4
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y6, Y6
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y8, Y8
	VADDPS 32(DX), Y9, Y9
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VADDPS (DX), Y10, Y10
	VADDPS 32(DX), Y11, Y11
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

// func dotAsm(n int, x, y *float32) float32
TEXT ·dotAsm(SB), NOSPLIT, $0-28
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop32:
	CMPQ CX, $32
	JLT loop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP loop32

loop8:
	CMPQ CX, $8
	JLT reduce
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP loop8

reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

scalar:
	TESTQ CX, CX
	JZ done
	VMOVSS (SI), X4
	VFMADD231SS (DI), X4, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP scalar

done:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func gemv4Asm(n int, w *float32, ldw int, x, y *float32)
// y[r] = Σ_{p<n} w[r*ldw+p]·x[p] for r < 4; n is a positive multiple of 16.
// Two accumulators per row hide the FMA latency; each load of x serves
// four rows.
TEXT ·gemv4Asm(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ w+8(FP), SI
	MOVQ ldw+16(FP), R8
	MOVQ x+24(FP), DI
	MOVQ y+32(FP), DX
	SHLQ $2, R8
	SHLQ $2, CX
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX

gloop:
	VMOVUPS (DI)(AX*1), Y8
	VMOVUPS 32(DI)(AX*1), Y9
	VFMADD231PS (SI)(AX*1), Y8, Y0
	VFMADD231PS 32(SI)(AX*1), Y9, Y1
	VFMADD231PS (R9)(AX*1), Y8, Y2
	VFMADD231PS 32(R9)(AX*1), Y9, Y3
	VFMADD231PS (R10)(AX*1), Y8, Y4
	VFMADD231PS 32(R10)(AX*1), Y9, Y5
	VFMADD231PS (R11)(AX*1), Y8, Y6
	VFMADD231PS 32(R11)(AX*1), Y9, Y7
	ADDQ $64, AX
	CMPQ AX, CX
	JLT gloop

	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y5, Y4, Y4
	VADDPS Y7, Y6, Y6
	VHADDPS Y2, Y0, Y0
	VHADDPS Y6, Y4, Y4
	VHADDPS Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (DX)
	VZEROUPPER
	RET

// func reluAsm(n int, x *float32)
// x = max(0, x) for n a multiple of 8, as relu in Go: the sign bit, spread
// by an arithmetic shift, masks the value (NaN with a clear sign passes).
TEXT ·reluAsm(SB), NOSPLIT, $0-16
	MOVQ n+0(FP), CX
	MOVQ x+8(FP), SI
	XORQ AX, AX

rloop:
	CMPQ AX, CX
	JGE rdone
	VMOVUPS (SI)(AX*4), Y0
	VPSRAD $31, Y0, Y1
	VPANDN Y0, Y1, Y0
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ $8, AX
	JMP rloop

rdone:
	VZEROUPPER
	RET

// func reluBackAsm(n int, d, a *float32)
// d = d where a > 0 (a ≥ +0, so where its bits are positive), else 0.
TEXT ·reluBackAsm(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ d+8(FP), DI
	MOVQ a+16(FP), SI
	VPXOR Y7, Y7, Y7
	XORQ AX, AX

bloop:
	CMPQ AX, CX
	JGE bdone
	VMOVUPS (SI)(AX*4), Y0
	VPCMPGTD Y7, Y0, Y1
	VPAND (DI)(AX*4), Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	JMP bloop

bdone:
	VZEROUPPER
	RET

// func adamAsm(n int, param, grad, mom, vel *float32, c *[9]float32)
// One AdamW step over n (a multiple of 8) parameters; c holds gscale, β1,
// 1−β1, β2, 1−β2, lr/(1−β1ᵗ), 1/√(1−β2ᵗ), ε, 1−lr·wd:
//   g' = g·gscale; m = β1·m + (1−β1)·g'; v = β2·v + (1−β2)·g'²
//   p = p·(1−lr·wd) − (lr/(1−β1ᵗ))·m / (√v/√(1−β2ᵗ) + ε)
TEXT ·adamAsm(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ param+8(FP), DI
	MOVQ grad+16(FP), SI
	MOVQ mom+24(FP), R8
	MOVQ vel+32(FP), R9
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	VBROADCASTSS 24(AX), Y14
	VBROADCASTSS 28(AX), Y15
	VBROADCASTSS 32(AX), Y7
	XORQ BX, BX

aloop:
	CMPQ BX, CX
	JGE adone
	VMULPS (SI)(BX*4), Y8, Y0
	VMULPS (R8)(BX*4), Y9, Y1
	VFMADD231PS Y0, Y10, Y1
	VMOVUPS Y1, (R8)(BX*4)
	VMULPS Y0, Y0, Y2
	VMULPS (R9)(BX*4), Y11, Y3
	VFMADD231PS Y2, Y12, Y3
	VMOVUPS Y3, (R9)(BX*4)
	VSQRTPS Y3, Y4
	VMULPS Y4, Y14, Y4
	VADDPS Y4, Y15, Y4
	VMULPS Y1, Y13, Y5
	VDIVPS Y4, Y5, Y5
	VMULPS (DI)(BX*4), Y7, Y6
	VSUBPS Y5, Y6, Y6
	VMOVUPS Y6, (DI)(BX*4)
	ADDQ $8, BX
	JMP aloop

adone:
	VZEROUPPER
	RET

// func addAsm(n int, dst, src *float32)
// dst += src for n a multiple of 8.
TEXT ·addAsm(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	XORQ AX, AX

addloop:
	CMPQ AX, CX
	JGE adddone
	VMOVUPS (DI)(AX*4), Y0
	VADDPS (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP addloop

adddone:
	VZEROUPPER
	RET
