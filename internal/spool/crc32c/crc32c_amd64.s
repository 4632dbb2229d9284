#include "textflag.h"

// func cpuHasSSE42() bool
TEXT ·cpuHasSSE42(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	SHRL $20, CX
	ANDL $1, CX
	MOVB CX, ret+0(FP)
	RET

// func crc32cSSE42(crc uint32, p []byte) uint32
TEXT ·crc32cSSE42(SB), NOSPLIT, $0-36
	MOVL crc+0(FP), AX
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	NOTL AX

words:
	CMPQ CX, $8
	JB   bytes
	CRC32Q (SI), AX
	ADDQ $8, SI
	SUBQ $8, CX
	JMP  words

bytes:
	TESTQ CX, CX
	JZ    done
	CRC32B (SI), AX
	INCQ  SI
	DECQ  CX
	JMP   bytes

done:
	NOTL AX
	MOVL AX, ret+32(FP)
	RET

// func crc32cTriple(crc uint32, p []byte, k, rounds int) (a, b, c uint32)
TEXT ·crc32cTriple(SB), NOSPLIT, $0-60
	MOVL crc+0(FP), AX
	XORL CX, CX
	XORL DX, DX
	MOVQ p_base+8(FP), R8
	MOVQ k+32(FP), R11
	LEAQ (R8)(R11*1), R9
	LEAQ (R9)(R11*1), R10
	MOVQ rounds+40(FP), R12

triple:
	CRC32Q (R8), AX
	CRC32Q (R9), CX
	CRC32Q (R10), DX
	CRC32Q 8(R8), AX
	CRC32Q 8(R9), CX
	CRC32Q 8(R10), DX
	CRC32Q 16(R8), AX
	CRC32Q 16(R9), CX
	CRC32Q 16(R10), DX
	ADDQ $24, R8
	ADDQ $24, R9
	ADDQ $24, R10
	DECQ R12
	JNZ  triple

	MOVL AX, a+48(FP)
	MOVL CX, b+52(FP)
	MOVL DX, c+56(FP)
	RET
