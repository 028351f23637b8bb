//go:build !purego

package ssdp

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
