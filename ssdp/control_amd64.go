//go:build !purego

package ssdp

import "golang.org/x/sys/cpu"

// lineBlocks reads the whole 16-byte blocks of s, len(s) rounded down to a
// multiple of 16, up to the first control character (a byte below 0x20, or
// 0x7f). It returns that character's index, or the length of the blocks if
// there is none, and the index of the first ':' in the blocks it read, or -1;
// that colon may come after the control character, in the same block.
//
// It is written in assembly with SSE2, which every amd64 processor has;
// lineBlocksGo is the same in Go (FuzzLineBlocks checks that they agree).
//
//go:noescape
func lineBlocks(s string) (ctl, colon int)

// markBlocks marks, in m, the control characters and colons of the whole
// 16-byte blocks of s (len(s) <= fastMax). It is written in assembly, with
// AVX2 when avx2 is true (the processor must have it) and SSE2 otherwise;
// markBlocksGo is the same in Go (FuzzMarks checks that the three agree).
//
//go:noescape
func markBlocks(s string, m *lineMarks, avx2 bool)

// hasAVX2 reports whether markBlocks may use AVX2 here.
var hasAVX2 = cpu.X86.HasAVX2

// markAll is markBlocks for the whole 16-byte blocks of s; it never lets the
// assembly see more than fastMax bytes, which would write past m.
func markAll(s string, m *lineMarks) { markBlocks(s[:min(len(s), fastMax)], m, hasAVX2) }
