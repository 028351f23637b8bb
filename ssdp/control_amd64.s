//go:build !purego

#include "textflag.h"

// CONSTANTS fills X1 with 0x1f, X2 with 0x7f and X4 with ':' in every byte
// (AX is clobbered): what both routines compare each 16-byte block against.
#define CONSTANTS \
	MOVQ $0x1f1f1f1f1f1f1f1f, AX \
	MOVQ AX, X1 \
	PUNPCKLQDQ X1, X1 \
	MOVQ $0x7f7f7f7f7f7f7f7f, AX \
	MOVQ AX, X2 \
	PUNPCKLQDQ X2, X2 \
	MOVQ $0x3a3a3a3a3a3a3a3a, AX \
	MOVQ AX, X4 \
	PUNPCKLQDQ X4, X4

// CONTROLS16 loads the 16 bytes at SI+DX into X0 and sets bit i of BX when
// byte i is a control character: below 0x20 (PMINUB against 0x1f, then
// PCMPEQB) or 0x7f. X3 and X5 are clobbered.
#define CONTROLS16 \
	MOVOU (SI)(DX*1), X0 \
	MOVOU X0, X3 \
	PMINUB X1, X3 \
	PCMPEQB X0, X3 \
	MOVOU X0, X5 \
	PCMPEQB X2, X5 \
	POR X5, X3 \
	PMOVMSKB X3, BX

// func lineBlocks(s string) (ctl, colon int)
//
// See control_amd64.go. SSE2 only: PMINUB against 0x1f and PCMPEQB find the
// bytes below 0x20, PCMPEQB against 0x7f the DEL and against ':' the colon.
TEXT ·lineBlocks(SB), NOSPLIT, $0-32
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), CX
	ANDQ $~15, CX
	CONSTANTS
	MOVQ $-1, R8
	XORQ DX, DX

loop:
	CMPQ DX, CX
	JGE done
	CONTROLS16
	TESTQ R8, R8
	JGE control
	PCMPEQB X4, X0
	PMOVMSKB X0, DI
	TESTL DI, DI
	JZ control
	BSFL DI, DI
	LEAQ (DX)(DI*1), R8

control:
	TESTL BX, BX
	JNZ found
	ADDQ $16, DX
	JMP loop

found:
	BSFL BX, BX
	ADDQ BX, DX

done:
	MOVQ DX, ctl+16(FP)
	MOVQ R8, colon+24(FP)
	RET

// func markBlocks(s string, m *lineMarks, avx2 bool)
//
// See control_amd64.go. The same three comparisons as lineBlocks give, for
// each block, a mask of its control characters and one of its colons, stored
// at the block's place in m.ctl and m.colon (m.colon starts at byte 128).
// With avx2 it reads 64 bytes at a time, then a last 32 bytes, then a last
// 16-byte block with SSE2.
TEXT ·markBlocks(SB), NOSPLIT, $0-25
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), CX
	MOVQ m+16(FP), DI
	ANDQ $~15, CX
	XORQ DX, DX
	CONSTANTS
	CMPB avx2+24(FP), $0
	JEQ sse2

	VPBROADCASTQ X1, Y1
	VPBROADCASTQ X2, Y2
	VPBROADCASTQ X4, Y4
	XORQ R8, R8 // DX/8: where the masks of the block at DX go
	MOVQ CX, R9
	ANDQ $~63, R9
	JZ avx2one

avx2two: // 64 bytes a step
	VMOVDQU (SI)(DX*1), Y0
	VMOVDQU 32(SI)(DX*1), Y6
	VPMINUB Y1, Y0, Y3
	VPCMPEQB Y0, Y3, Y3
	VPCMPEQB Y2, Y0, Y5
	VPOR Y5, Y3, Y3
	VPMINUB Y1, Y6, Y7
	VPCMPEQB Y6, Y7, Y7
	VPCMPEQB Y2, Y6, Y5
	VPOR Y5, Y7, Y7
	VPCMPEQB Y4, Y0, Y0
	VPCMPEQB Y4, Y6, Y6
	VPMOVMSKB Y3, AX
	VPMOVMSKB Y7, BX
	MOVL AX, (DI)(R8*1)
	MOVL BX, 4(DI)(R8*1)
	VPMOVMSKB Y0, AX
	VPMOVMSKB Y6, BX
	MOVL AX, 128(DI)(R8*1)
	MOVL BX, 132(DI)(R8*1)
	ADDQ $64, DX
	ADDQ $8, R8
	CMPQ DX, R9
	JLT avx2two

avx2one: // a last 32 bytes, if there are
	MOVQ CX, R9
	ANDQ $~31, R9
	CMPQ DX, R9
	JGE avx2done
	VMOVDQU (SI)(DX*1), Y0
	VPMINUB Y1, Y0, Y3
	VPCMPEQB Y0, Y3, Y3
	VPCMPEQB Y2, Y0, Y5
	VPOR Y5, Y3, Y3
	VPMOVMSKB Y3, BX
	VPCMPEQB Y4, Y0, Y0
	VPMOVMSKB Y0, AX
	MOVL BX, (DI)(R8*1)
	MOVL AX, 128(DI)(R8*1)
	ADDQ $32, DX

avx2done:
	// Clear the upper halves of the Y registers: SSE code after AVX code
	// that left them dirty runs slowly on many processors.
	VZEROUPPER

sse2:
	CMPQ DX, CX
	JGE done16
	CONTROLS16
	PCMPEQB X4, X0
	PMOVMSKB X0, AX
	MOVQ DX, R8
	SHRQ $3, R8
	MOVW BX, (DI)(R8*1)
	MOVW AX, 128(DI)(R8*1)
	ADDQ $16, DX
	JMP sse2

done16:
	RET
