//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eax, ecx uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eax+0(FP), AX
	MOVL ecx+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func kernel6x16AVX2(k int, a *float32, lda int, panel *float32, c *float32, ldc int)
// C[0:6][0:16] += A[0:6][0:k] · panel[0:k][0:16], k >= 1.
TEXT ·kernel6x16AVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DX
	SHLQ $2, DX
	MOVQ panel+24(FP), BX
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	LEAQ (SI)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	LEAQ (R11)(DX*1), R12
	LEAQ (R12)(DX*1), R13
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

loop6:
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	VBROADCASTSS (SI)(AX*1), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (R9)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (R10)(AX*1), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (R11)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (R12)(AX*1), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (R13)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $4, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  loop6

	VADDPS (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	VADDPS 32(DI), Y1, Y1
	VMOVUPS Y1, 32(DI)
	ADDQ R8, DI
	VADDPS (DI), Y2, Y2
	VMOVUPS Y2, (DI)
	VADDPS 32(DI), Y3, Y3
	VMOVUPS Y3, 32(DI)
	ADDQ R8, DI
	VADDPS (DI), Y4, Y4
	VMOVUPS Y4, (DI)
	VADDPS 32(DI), Y5, Y5
	VMOVUPS Y5, 32(DI)
	ADDQ R8, DI
	VADDPS (DI), Y6, Y6
	VMOVUPS Y6, (DI)
	VADDPS 32(DI), Y7, Y7
	VMOVUPS Y7, 32(DI)
	ADDQ R8, DI
	VADDPS (DI), Y8, Y8
	VMOVUPS Y8, (DI)
	VADDPS 32(DI), Y9, Y9
	VMOVUPS Y9, 32(DI)
	ADDQ R8, DI
	VADDPS (DI), Y10, Y10
	VMOVUPS Y10, (DI)
	VADDPS 32(DI), Y11, Y11
	VMOVUPS Y11, 32(DI)
	VZEROUPPER
	RET

// func dwAccumAVX2(dst, src, f *float32, npix, ch, step int)
// dst[p*ch+j] += src[p*step+j] * f[j] for p < npix, j < ch; ch % 8 == 0.
TEXT ·dwAccumAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ f+16(FP), DX
	MOVQ npix+24(FP), CX
	MOVQ ch+32(FP), R10
	SHLQ $2, R10
	MOVQ step+40(FP), R9
	SHLQ $2, R9

pix:
	XORQ AX, AX

chan:
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS (DI)(AX*1), Y2
	VFMADD231PS (DX)(AX*1), Y0, Y2
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R10
	JLT  chan

	ADDQ R10, DI
	ADDQ R9, SI
	DECQ CX
	JNZ  pix
	VZEROUPPER
	RET

// func dw3x3AVX2(dst, r0, r1, r2, f *float32, npix, ch, step int)
// dst[p*ch+j] = sum over ky, kx < 3 of rky[p*step+kx*ch+j] * f[(3ky+kx)*ch+j]
// for p < npix, j < ch; ch % 8 == 0, npix > 0. The taps are summed in
// the order dwAccumAVX2 would sum them into a cleared dst.
TEXT ·dw3x3AVX2(SB), NOSPLIT, $0-64
	MOVQ ch+48(FP), R10
	SHLQ $2, R10
	MOVQ step+56(FP), R9
	SHLQ $2, R9
	XORQ R8, R8

dwblock:
	MOVQ f+32(FP), DX
	ADDQ R8, DX
	VMOVUPS (DX), Y0
	ADDQ R10, DX
	VMOVUPS (DX), Y1
	ADDQ R10, DX
	VMOVUPS (DX), Y2
	ADDQ R10, DX
	VMOVUPS (DX), Y3
	ADDQ R10, DX
	VMOVUPS (DX), Y4
	ADDQ R10, DX
	VMOVUPS (DX), Y5
	ADDQ R10, DX
	VMOVUPS (DX), Y6
	ADDQ R10, DX
	VMOVUPS (DX), Y7
	ADDQ R10, DX
	VMOVUPS (DX), Y8
	MOVQ dst+0(FP), DI
	ADDQ R8, DI
	MOVQ r0+8(FP), SI
	ADDQ R8, SI
	MOVQ r1+16(FP), R11
	ADDQ R8, R11
	MOVQ r2+24(FP), R12
	ADDQ R8, R12
	MOVQ npix+40(FP), CX

dwpixel:
	VMULPS (SI), Y0, Y9
	VFMADD231PS (SI)(R10*1), Y1, Y9
	VFMADD231PS (SI)(R10*2), Y2, Y9
	VFMADD231PS (R11), Y3, Y9
	VFMADD231PS (R11)(R10*1), Y4, Y9
	VFMADD231PS (R11)(R10*2), Y5, Y9
	VFMADD231PS (R12), Y6, Y9
	VFMADD231PS (R12)(R10*1), Y7, Y9
	VFMADD231PS (R12)(R10*2), Y8, Y9
	VMOVUPS Y9, (DI)
	ADDQ R9, SI
	ADDQ R9, R11
	ADDQ R9, R12
	ADDQ R10, DI
	DECQ CX
	JNZ  dwpixel

	ADDQ $32, R8
	CMPQ R8, R10
	JLT  dwblock
	VZEROUPPER
	RET

// func addAVX2(dst, a, b *float32, n int)
// dst[i] = a[i] + b[i] for i < n, n % 8 == 0, n > 0.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX

addloop:
	VMOVUPS (SI)(AX*1), Y0
	VADDPS (DX)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  addloop
	VZEROUPPER
	RET

// func addReluAVX2(dst, a, b *float32, n int)
// dst[i] = max(a[i] + b[i], 0) for i < n, n % 8 == 0, n > 0.
TEXT ·addReluAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
	VXORPS Y1, Y1, Y1

addreluloop:
	VMOVUPS (SI)(AX*1), Y0
	VADDPS (DX)(AX*1), Y0, Y0
	VMAXPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  addreluloop
	VZEROUPPER
	RET

// func leakyAVX2(x *float32, n int, slope float32)
// x[i] = max(x[i], slope*x[i]) for i < n, n % 8 == 0, n > 0; with
// slope 0 this is ReLU.
TEXT ·leakyAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	VBROADCASTSS slope+16(FP), Y1
	XORQ AX, AX

leakyloop:
	VMOVUPS (DI)(AX*1), Y0
	VMULPS Y1, Y0, Y2
	VMAXPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  leakyloop
	VZEROUPPER
	RET

// func pool2RowAVX2(dst, r0, r1 *float32, npix, ch, step int)
// dst[p*ch+j] = max(r0[p*step+j], r0[p*step+ch+j], r1[p*step+j],
// r1[p*step+ch+j]) for p < npix, j < ch; ch % 8 == 0.
TEXT ·pool2RowAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ npix+24(FP), CX
	MOVQ ch+32(FP), R10
	SHLQ $2, R10
	MOVQ step+40(FP), R9
	SHLQ $2, R9

poolpix:
	XORQ AX, AX
	LEAQ (SI)(R10*1), R11
	LEAQ (DX)(R10*1), R12

poolchan:
	VMOVUPS (SI)(AX*1), Y0
	VMAXPS (R11)(AX*1), Y0, Y0
	VMOVUPS (DX)(AX*1), Y1
	VMAXPS (R12)(AX*1), Y1, Y1
	VMAXPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R10
	JLT  poolchan

	ADDQ R10, DI
	ADDQ R9, SI
	ADDQ R9, DX
	DECQ CX
	JNZ  poolpix
	VZEROUPPER
	RET
