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

// Parse parses b into m, which it overwrites entirely, and returns the error
// Parse would. On error m is Reset. It reuses the array behind m.Extra for
// the new unknown headers, so a copy of m made before the call sees its
// Extra change: copy Extra too to keep it; with no unknown headers, Extra is
// empty but may keep that array. The caller may reuse b.
func (p *Parser) Parse(m *Message, b []byte) error {
	x := m.Extra[:0]
	*m = Message{}
	if len(b) > MaxDatagram {
		m.Reset()
		return errDatagramTooLarge()
	}
	if len(b) == 0 {
		m.Reset()
		return &ParseError{Line: 1, Reason: reasonEmpty}
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
	extra, ok := m.parseFast(s, x)
	if !ok {
		*m = Message{}
		if cap(extra) > cap(x) {
			x = extra[:0]
		}
		var err error
		if extra, err = m.parse(s, x); err != nil {
			m.Reset()
			return err
		}
	}
	m.Extra = extra
	return nil
}
