package ssdp

import (
	"os"
	"path/filepath"
	"testing"
)

var (
	sinkMessage *Message
	sinkString  string
)

// BenchmarkParseParts splits what Parse does with the benchmark's search
// response into its parts (docs/benchmarks.md): the one allocation with the
// copy, the fast path on a Message that is not on the heap, and, for scale,
// the Message alone and a string copy of the datagram.
func BenchmarkParseParts(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "packets", "response-libupnp-v4.ssdp"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("alloc+copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, _, buf := allocMessage(len(data))
			copy(buf, data)
			sinkMessage = m
		}
	})
	b.Run("parseFast", func(b *testing.B) {
		s := string(data)
		var m Message
		var x [inlineExtra]Header
		b.ReportAllocs()
		for b.Loop() {
			m = Message{}
			if _, ok := m.parseFast(s, x[:0]); !ok {
				b.Fatal("parseFast refused the response")
			}
		}
	})
	b.Run("message-alone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			q := new(struct {
				m Message
				x [inlineExtra]Header
			})
			sinkMessage = &q.m
		}
	})
	b.Run("string-copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkString = string(data)
		}
	})
}
