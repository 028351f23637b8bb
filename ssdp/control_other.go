//go:build !amd64 || purego

package ssdp

func lineBlocks(s string) (ctl, colon int) { return lineBlocksGo(s) }

func markAll(s string, m *lineMarks) { markBlocksGo(s[:min(len(s), fastMax)], m) }
