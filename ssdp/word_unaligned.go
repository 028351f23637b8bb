//go:build 386 || amd64 || arm64

package ssdp

import "unsafe"

// wordAt returns the eight bytes at p as a little-endian number. These
// machines are little-endian and load a word from any address, so it is one
// load; elsewhere (word_other.go) it goes through encoding/binary.
func wordAt(p unsafe.Pointer) uint64 { return *(*uint64)(p) }
