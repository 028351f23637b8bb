package ssdp

import "unsafe"

// parserBuffer is the size of the buffers a Parser copies datagrams into.
const parserBuffer = 16 << 10

const _ uint = parserBuffer - MaxDatagram // a fresh buffer holds any datagram

// A Parser parses datagrams as Parse does, for a reader that handles many:
// it parses into a Message the caller reuses, and copies each datagram into
// a buffer shared with the datagrams parsed before it, so that it makes no
// allocation of its own in the steady state, one 16 KiB buffer every 16 KiB
// of datagrams instead of one object per datagram (docs/benchmarks.md
// measures it).
//
// The price is memory held. Every string of a Message it parsed points into
// a shared buffer, and keeping any one string keeps that whole buffer alive,
// with the other datagrams in it: a caller that keeps values for long, as a
// cache does, should copy them (strings.Clone), or use Parse. The strings
// themselves never change: a Parser never writes to a buffer again once a
// datagram is in it.
//
// The zero Parser is ready to use. A Parser is not safe for concurrent use:
// give each reading goroutine its own.
type Parser struct {
	free []byte // the unused end of the current buffer
}

// Parse parses b into m, which must not be nil, and returns the error the
// package's Parse function would; it never panics on input. It overwrites
// all of m. On error m is Reset, except that Extra keeps its array.
//
// The new unknown headers go into the array behind m.Extra, up to its
// capacity, so a copy of m made before the call sees its Extra change: copy
// Extra (slices.Clone) as well to keep a Message, or to hand it to another
// goroutine, which would otherwise race with the next Parse. With no unknown
// headers, Extra is empty but keeps its array. The caller may reuse b.
func (p *Parser) Parse(m *Message, b []byte) error {
	// x is the array for the new headers; its first written entries may hold
	// headers (the rest is clear), which must be cleared unless overwritten,
	// or they would keep an older buffer alive.
	x := m.Extra[:0]
	written := len(m.Extra)
	*m = Message{}
	fail := func(err error) error {
		clear(x[:written])
		m.Reset()
		m.Extra = x
		return err
	}
	if len(b) > MaxDatagram {
		return fail(errDatagramTooLarge())
	}
	if len(b) == 0 {
		return fail(&ParseError{Line: 1, Reason: reasonEmpty})
	}
	if len(p.free) < len(b) {
		p.free = make([]byte, parserBuffer) // MaxDatagram fits
	}
	// The capacity is cut to the datagram: nothing may append into the
	// rest, which later datagrams take.
	buf := p.free[:len(b):len(b)]
	p.free = p.free[len(b):]
	copy(buf, b)
	s := unsafe.String(unsafe.SliceData(buf), len(buf))
	// grew notes the headers written, and a new array if roomFor made one
	// (it copies the entries so far; the old array is m's no more).
	grew := func(extra []Header) {
		if cap(extra) > cap(x) {
			x, written = extra[:0], 0
		}
		written = max(written, len(extra))
	}
	extra, ok := m.parseFast(s, x)
	grew(extra)
	if !ok {
		*m = Message{}
		var err error
		if extra, err = m.parse(s, x); err != nil {
			written = cap(x) // parse may have written any of it
			return fail(err)
		}
		grew(extra)
	}
	clear(x[len(extra):written])
	m.Extra = extra
	return nil
}
