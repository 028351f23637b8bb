//go:build !purego

package ssdp

// markVariants returns the implementations of markAll this machine can run.
func markVariants() map[string]func(string, *lineMarks) {
	v := map[string]func(string, *lineMarks){
		"go":   markBlocksGo,
		"sse2": func(s string, m *lineMarks) { markBlocks(s, m, false) },
	}
	if hasAVX2 {
		v["avx2"] = func(s string, m *lineMarks) { markBlocks(s, m, true) }
	}
	return v
}
