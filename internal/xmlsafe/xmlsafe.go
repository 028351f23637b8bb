// Package xmlsafe reads untrusted XML within fixed bounds.
//
// encoding/xml processes no DTD, but its token reader has no limit on input
// size, nesting depth or token count, and etree's tree operations recurse
// (SECURITY.md, CVE-2021-28302). Check walks the tokens of a document with
// encoding/xml's Decoder and enforces all three limits, and rejects DTDs,
// before any tree is built; Parse runs Check and then builds the etree tree.
//
// The same Check applies to XML carried inside a SOAP string argument, such as
// a DIDL-Lite result or a LastChange event: unescape the string, then call
// Check([]byte(s), lim) or Parse.
package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Default limits, from SECURITY.md.
const (
	DefaultMaxBytes  = 1 << 20
	DefaultMaxDepth  = 32
	DefaultMaxTokens = 50_000
)

// Errors Check and Parse return, wrapped with the position where reading
// stopped; test for them with errors.Is. A malformed document yields an
// *xml.SyntaxError (with its line) or etree.ErrXML instead.
var (
	ErrTooLarge      = errors.New("xml: document too large")
	ErrTooDeep       = errors.New("xml: elements nested too deep")
	ErrTooManyTokens = errors.New("xml: too many tokens")
	ErrDTD           = errors.New("xml: DTD or other <! declaration not allowed")
)

// Limits bounds what Check accepts. The zero value means the defaults.
type Limits struct {
	// MaxBytes is the largest input accepted, in bytes; 0 means DefaultMaxBytes.
	MaxBytes int
	// MaxDepth is the deepest element nesting accepted (a lone root element
	// has depth 1); 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxTokens caps the tokens (elements, end tags, character data,
	// comments, processing instructions, and attributes) in a document;
	// 0 means DefaultMaxTokens.
	MaxTokens int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = DefaultMaxTokens
	}
	return l
}

// Check reads every token of b and returns an error if b breaks a limit of
// lim, holds a DTD or any other <!...> declaration, or is not well formed as
// far as encoding/xml's token reader can tell: element names are not
// matched to end tags (Parse does that), but unclosed elements are errors. A UTF-8 byte order mark and the ISO-8859-1, US-ASCII and
// windows-1252 encodings are accepted.
func Check(b []byte, lim Limits) error {
	lim = lim.withDefaults()
	if len(b) > lim.MaxBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), lim.MaxBytes)
	}
	d := newDecoder(b)
	depth, tokens := 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if depth != 0 {
				line, _ := d.InputPos()
				return &xml.SyntaxError{Msg: "unexpected EOF: unclosed element", Line: line}
			}
			return nil
		}
		if err != nil {
			return err
		}
		tokens++
		switch t := tok.(type) {
		case xml.StartElement:
			tokens += len(t.Attr)
			depth++
			if depth > lim.MaxDepth {
				return posError(d, ErrTooDeep)
			}
		case xml.EndElement:
			depth--
			if depth < 0 {
				line, _ := d.InputPos()
				return &xml.SyntaxError{Msg: "unexpected end element </" + t.Name.Local + ">", Line: line}
			}
		case xml.Directive:
			return posError(d, ErrDTD)
		}
		if tokens > lim.MaxTokens {
			return posError(d, ErrTooManyTokens)
		}
	}
}

// Parse runs Check on b and then builds its etree document. Element.Space
// holds the namespace prefix as written; callers matching UPnP vocabulary
// should compare Element.Tag, the local name.
func Parse(b []byte, lim Limits) (*etree.Document, error) {
	if err := Check(b, lim); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{
		CharsetReader: CharsetReader,
		MaxDepth:      lim.withDefaults().MaxDepth,
	}
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	return doc, nil
}

// ReadAll reads r to its end, up to lim.MaxBytes (default DefaultMaxBytes);
// more than that is ErrTooLarge. Use it on HTTP bodies before Check or Parse.
func ReadAll(r io.Reader, lim Limits) ([]byte, error) {
	limit := lim.withDefaults().MaxBytes
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

func newDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = CharsetReader
	return d
}

func posError(d *xml.Decoder, err error) error {
	line, col := d.InputPos()
	return fmt.Errorf("%w (line %d, column %d)", err, line, col)
}

// CharsetReader converts the single-byte encodings real devices declare
// (ISO-8859-1, US-ASCII, windows-1252) to UTF-8, for xml.Decoder's field of
// the same name. Other names pass the input through unchanged, so the
// decoder rejects it if it is not UTF-8.
func CharsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		return &latin1Reader{r: input}, nil
	case "windows-1252", "cp1252":
		return &latin1Reader{r: input, cp1252: true}, nil
	}
	return input, nil
}

// cp1252 maps windows-1252 bytes 0x80..0x9F; 0 means undefined (kept as the
// ISO-8859-1 C1 control).
var cp1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

type latin1Reader struct {
	r      io.Reader
	cp1252 bool
	buf    [512]byte
	conv   []byte // conversion buffer
	out    []byte // the part of conv not yet returned
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.out) == 0 {
		n, err := l.r.Read(l.buf[:])
		if n == 0 {
			return 0, err
		}
		l.conv = l.conv[:0]
		for _, c := range l.buf[:n] {
			r := rune(c)
			if l.cp1252 && c >= 0x80 && c <= 0x9F && cp1252[c-0x80] != 0 {
				r = cp1252[c-0x80]
			}
			l.conv = utf8.AppendRune(l.conv, r)
		}
		l.out = l.conv
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}
