//go:build amd64 && !purego

#include "textflag.h"

// func clampAVX2(x *float32, n int, hi float32)
// x[i] = min(max(x[i], 0), hi) for i < n, n % 8 == 0, n > 0.
TEXT ·clampAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	VBROADCASTSS hi+16(FP), Y1
	VXORPS Y2, Y2, Y2
	XORQ AX, AX

clamploop:
	VMOVUPS (DI)(AX*1), Y0
	VMAXPS Y2, Y0, Y0
	VMINPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  clamploop
	VZEROUPPER
	RET

// func biasClampAVX2(x, bias *float32, npix, ch int, hi float32)
// x[p*ch+j] = min(max(x[p*ch+j]+bias[j], 0), hi) for p < npix, j < ch;
// ch % 8 == 0, ch > 0, npix > 0.
TEXT ·biasClampAVX2(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), DI
	MOVQ bias+8(FP), SI
	MOVQ npix+16(FP), CX
	MOVQ ch+24(FP), R10
	SHLQ $2, R10
	VBROADCASTSS hi+32(FP), Y1
	VXORPS Y2, Y2, Y2

biaspix:
	XORQ AX, AX

biaschan:
	VMOVUPS (DI)(AX*1), Y0
	VADDPS (SI)(AX*1), Y0, Y0
	VMAXPS Y2, Y0, Y0
	VMINPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	CMPQ AX, R10
	JLT  biaschan
	ADDQ R10, DI
	DECQ CX
	JNZ  biaspix
	VZEROUPPER
	RET
