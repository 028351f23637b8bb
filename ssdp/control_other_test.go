//go:build !amd64 || purego

package ssdp

// markVariants returns the implementations of markAll this machine can run.
func markVariants() map[string]func(string, *lineMarks) {
	return map[string]func(string, *lineMarks){"go": markBlocksGo}
}
