//go:build !purego

#include "textflag.h"

// func lineBlocks(s string) (ctl, colon int)
//
// See control_amd64.go. SSE2 only: PMINUB against 0x1f and PCMPEQB find the
// bytes below 0x20, PCMPEQB against 0x7f the DEL and against ':' the colon.
TEXT ·lineBlocks(SB), NOSPLIT, $0-32
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), CX
	ANDQ $~15, CX
	MOVQ $0x1f1f1f1f1f1f1f1f, AX
	MOVQ AX, X1
	PUNPCKLQDQ X1, X1
	MOVQ $0x7f7f7f7f7f7f7f7f, AX
	MOVQ AX, X2
	PUNPCKLQDQ X2, X2
	MOVQ $0x3a3a3a3a3a3a3a3a, AX
	MOVQ AX, X4
	PUNPCKLQDQ X4, X4
	MOVQ $-1, R8
	XORQ DX, DX

loop:
	CMPQ DX, CX
	JGE done
	MOVOU (SI)(DX*1), X0
	MOVOU X0, X3
	PMINUB X1, X3
	PCMPEQB X0, X3
	MOVOU X0, X5
	PCMPEQB X2, X5
	POR X5, X3
	PMOVMSKB X3, BX
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
