//go:build !(386 || amd64 || arm64)

package ssdp

import (
	"encoding/binary"
	"unsafe"
)

// wordAt returns the eight bytes at p as a little-endian number, whatever
// the machine's byte order and alignment rules.
func wordAt(p unsafe.Pointer) uint64 { return binary.LittleEndian.Uint64((*[8]byte)(p)[:]) }
