package gena

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// Bounds of the streaming reader, shared with internal/xmlsafe.
const (
	maxDepth  = xmlsafe.DefaultMaxDepth
	maxTokens = xmlsafe.DefaultMaxTokens
)

// A reader walks the tokens of a document with encoding/xml's RawToken,
// matches end tags to start tags (RawToken does not, and leaves namespaces
// unresolved), and enforces the bounds as it goes: depth, token count
// (attributes count as tokens), no DTD.
type reader struct {
	d      *xml.Decoder
	tokens int
	stack  []string // qualified names of the open elements
	buf    [8]string
}

const bom = "\uFEFF"

// newReader returns a reader of the document b: bytes as received, whose
// XML declaration may name a single-byte encoding.
func newReader(b []byte) *reader {
	return newReaderFrom(bytes.NewReader(bytes.TrimPrefix(b, []byte(bom))), xmlsafe.CharsetReader)
}

// newStringReader returns a reader of the document s, a string already
// decoded (the value of a property): an encoding its XML declaration names
// no longer applies.
func newStringReader(s string) *reader {
	return newReaderFrom(strings.NewReader(strings.TrimPrefix(s, bom)), func(_ string, input io.Reader) (io.Reader, error) {
		return input, nil
	})
}

// newReaderFrom returns a reader of in, which must implement io.ByteReader
// for the decoder not to buffer it again.
func newReaderFrom(in io.Reader, charset func(string, io.Reader) (io.Reader, error)) *reader {
	r := new(reader)
	r.d = xml.NewDecoder(in)
	r.d.CharsetReader = charset
	r.stack = r.buf[:0]
	return r
}

// depth is the number of open elements; inside the root element it is 1.
func (r *reader) depth() int { return len(r.stack) }

// next returns the next token. A StartElement is open (depth counts it)
// and an EndElement closed (depth no longer counts it) when next returns
// them. At the end of the input it returns io.EOF if no element is open;
// every other error is wrapped with the position.
func (r *reader) next() (xml.Token, error) {
	tok, err := r.d.RawToken()
	if err == io.EOF {
		if len(r.stack) == 0 {
			return nil, io.EOF
		}
		err = &xml.SyntaxError{Msg: "unexpected EOF: <" + r.stack[len(r.stack)-1] + "> not closed"}
	}
	if err == nil {
		err = r.check(tok)
	}
	if err != nil {
		return nil, r.wrap(err)
	}
	return tok, nil
}

// wrap adds the position of the last token read to err: the line to an
// *xml.SyntaxError, line and column to the others.
func (r *reader) wrap(err error) error {
	line, col := r.d.InputPos()
	if se := (*xml.SyntaxError)(nil); errors.As(err, &se) {
		se.Line = line
		return fmt.Errorf("gena: %w", err)
	}
	return fmt.Errorf("gena: %w (line %d, column %d)", err, line, col)
}

func (r *reader) check(tok xml.Token) error {
	r.tokens++
	switch t := tok.(type) {
	case xml.StartElement:
		r.tokens += len(t.Attr)
		if len(r.stack) == maxDepth {
			return upnp.ErrTooDeep
		}
		r.stack = append(r.stack, qname(t.Name))
	case xml.EndElement:
		if len(r.stack) == 0 {
			return &xml.SyntaxError{Msg: "unexpected </" + qname(t.Name) + ">"}
		}
		top := r.stack[len(r.stack)-1]
		if q := qname(t.Name); q != top {
			return &xml.SyntaxError{Msg: "<" + top + "> closed by </" + q + ">"}
		}
		r.stack = r.stack[:len(r.stack)-1]
	case xml.Directive:
		return upnp.ErrDTD
	}
	if r.tokens > maxTokens {
		return upnp.ErrTooManyTokens
	}
	return nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// attrValue returns the value of the first attribute of t whose local name
// is name in any case, with any prefix but xmlns.
func attrValue(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space != "xmlns" && strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}

// appendStart and appendEnd write tags back as RawToken read them.
func appendStart(b []byte, t xml.StartElement) []byte {
	b = append(b, '<')
	b = append(b, qname(t.Name)...)
	for _, a := range t.Attr {
		b = append(b, ' ')
		b = append(b, qname(a.Name)...)
		b = append(b, `="`...)
		b, _ = xmlsafe.AppendEscaped(b, a.Value, true, true)
		b = append(b, '"')
	}
	return append(b, '>')
}

func appendEnd(b []byte, t xml.EndElement) []byte {
	b = append(b, "</"...)
	b = append(b, qname(t.Name)...)
	return append(b, '>')
}

// "<a:>" as local names with a colon.
func checkName(local string) error {
	if !xmlsafe.IsName(local) {
		return &xml.SyntaxError{Msg: "invalid element name " + local}
	}
	return nil
}
