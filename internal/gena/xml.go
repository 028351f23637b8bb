package gena

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

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
		b, _ = appendEscaped(b, a.Value, true, true)
		b = append(b, '"')
	}
	return append(b, '>')
}

func appendEnd(b []byte, t xml.EndElement) []byte {
	b = append(b, "</"...)
	b = append(b, qname(t.Name)...)
	return append(b, '>')
}

// appendEscaped appends s escaped as character data or, if attr, as a
// double-quoted attribute value. A character XML 1.0 cannot carry makes it
// return false, or, if replace, is written as U+FFFD.
func appendEscaped(b []byte, s string, attr, replace bool) ([]byte, bool) {
	pass := &textPass
	if attr {
		pass = &attrPass
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if pass[c] {
				i++
				continue
			}
			var esc string
			switch c {
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;" // also keeps "]]>" out of text
			case '\r':
				esc = "&#xD;" // a literal one would read back as \n
			case '"':
				esc = "&quot;"
			case '\n':
				esc = "&#xA;" // attributes only: some parsers read a literal one as a space
			case '\t':
				esc = "&#x9;" // attributes only, likewise
			default: // other control characters
				if !replace {
					return b, false
				}
				esc = "\uFFFD"
			}
			b = append(b, s[last:i]...)
			b = append(b, esc...)
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			if !replace {
				return b, false
			}
			b = append(b, s[last:i]...)
			b = append(b, "\uFFFD"...)
			last = i + size
		}
		i += size
	}
	return append(b, s[last:]...), true
}

// textPass and attrPass tell the ASCII characters that stand for themselves
// in character data and in a double-quoted attribute value.
var textPass, attrPass = func() (text, attr [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		text[c] = c != '&' && c != '<' && c != '>'
		attr[c] = text[c] && c != '"'
	}
	text['\t'], text['\n'] = true, true
	return text, attr
}()

// isName reports whether s is an XML name without a colon, exactly as
// encoding/xml reads names, so that whatever this package writes it also
// reads, and the reverse.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', c == '_':
		case '0' <= c && c <= '9', c == '-', c == '.':
			if i == 0 {
				return false
			}
		case c >= utf8.RuneSelf:
			return isNameSlow(s)
		default:
			return false
		}
	}
	return true
}

// isNameSlow checks a name with non-ASCII characters by letting
// encoding/xml read it, since its character tables are not exported.
func isNameSlow(s string) bool {
	if strings.ContainsAny(s, ":<>/=&\"' \t\r\n") || !utf8.ValidString(s) {
		return false
	}
	d := xml.NewDecoder(strings.NewReader("<" + s + "/>"))
	tok, err := d.RawToken()
	if err != nil {
		return false
	}
	start, ok := tok.(xml.StartElement)
	return ok && start.Name.Space == "" && start.Name.Local == s && len(start.Attr) == 0
}

// checkName returns a syntax error unless local, the local name of an
// element read, is a name the writers accept: encoding/xml reads "<:a>" and
// "<a:>" as local names with a colon.
func checkName(local string) error {
	if !isName(local) {
		return &xml.SyntaxError{Msg: "invalid element name " + local}
	}
	return nil
}
