package soap

import (
	"bytes"
	"unicode/utf8"
)

// scan is the fast reader: it reads body in place, with no allocation but
// the message's own strings, and feeds the builder the same tokens
// encoding/xml's RawToken would. It handles what peers send (UTF-8, ASCII
// names, the five predefined entities and character references, CDATA,
// comments, processing instructions) and gives up, returning false, on
// anything else and on every error, for decode to read the body again and
// report. Where it accepts a document, it must accept it exactly as decode
// does.
func (m *message) scan(s []byte, request bool) bool {
	b := newBuilder(request, len(s))
	defer b.free()
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := bytes.IndexByte(s[i:], '<')
			if j < 0 {
				return false // text up to EOF: the envelope is not closed
			}
			if !b.scanText(s[i:i+j], textMode) {
				return false
			}
			i += j
			continue
		}
		if i+1 >= len(s) {
			return false
		}
		switch s[i+1] {
		case '/':
			qname, _, _, n := scanName(s[i+2:], true)
			if n == 0 {
				return false
			}
			j := skipSpace(s, i+2+n)
			if j >= len(s) || s[j] != '>' {
				return false
			}
			done, err := b.end(qname)
			if err != nil {
				return false
			}
			if done {
				*m = b.m
				return true
			}
			i = j + 1

		case '?':
			j, ok := scanProcInst(s, i)
			if !ok || b.other() != nil {
				return false
			}
			i = j

		case '!':
			switch {
			case bytes.HasPrefix(s[i:], []byte("<!--")):
				k := bytes.Index(s[i+4:], []byte("--"))
				if k < 0 || i+4+k+2 >= len(s) || s[i+4+k+2] != '>' {
					return false
				}
				if b.other() != nil {
					return false
				}
				i += 4 + k + 3
			case bytes.HasPrefix(s[i:], []byte("<![CDATA[")):
				k := bytes.Index(s[i+9:], []byte("]]>"))
				if k < 0 {
					return false
				}
				if !b.scanText(s[i+9:i+9+k], cdataMode) {
					return false
				}
				i += 9 + k + 3
			default:
				return false // a DTD or other declaration: decode reports it
			}

		default:
			qname, space, local, n := scanName(s[i+1:], true)
			if n == 0 {
				return false
			}
			j := i + 1 + n
			attrs := b.attrs[:0]
			vals := b.scratch[:0]
			empty := false
			for {
				j = skipSpace(s, j)
				if j >= len(s) {
					return false
				}
				if s[j] == '>' {
					j++
					break
				}
				if s[j] == '/' {
					if j+1 >= len(s) || s[j+1] != '>' {
						return false
					}
					empty = true
					j += 2
					break
				}
				_, aspace, alocal, n := scanName(s[j:], true)
				if n == 0 {
					return false
				}
				j = skipSpace(s, j+n)
				if j >= len(s) || s[j] != '=' {
					return false
				}
				j = skipSpace(s, j+1)
				if j >= len(s) || s[j] != '"' && s[j] != '\'' {
					return false
				}
				k := bytes.IndexByte(s[j+1:], s[j])
				if k < 0 {
					return false
				}
				off := len(vals)
				var ok bool
				if vals, ok = unescape(vals, s[j+1:j+1+k], attrMode, true); !ok {
					return false
				}
				attrs = append(attrs, attr{aspace, alocal, vals[off:]})
				j += 1 + k + 1
			}
			b.attrs, b.scratch = attrs, vals // keep any growth
			if b.start(qname, space, local, attrs) != nil {
				return false
			}
			if empty {
				done, err := b.end(qname)
				if err != nil {
					return false
				}
				if done {
					*m = b.m
					return true
				}
			}
			i = j
		}
	}
	return false
}

// skipSpace returns the index of the first byte at or after i in s that is
// not XML white space.
func skipSpace(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

// scanName reads an ASCII XML name at the start of s, as encoding/xml's
// nsname would (qualified: split at its one colon), and returns its length;
// 0 means no name or one the fast reader leaves to decode.
func scanName(s []byte, qualified bool) (qname, space, local []byte, n int) {
	if len(s) == 0 || s[0] >= utf8.RuneSelf || nameClass[s[0]]&nameStart == 0 {
		return nil, nil, nil, 0
	}
	colon := -1
	if s[0] == ':' {
		colon = 0
	}
	for n = 1; n < len(s); n++ {
		c := s[n]
		if c >= utf8.RuneSelf {
			return nil, nil, nil, 0
		}
		if nameClass[c]&nameChar == 0 {
			break
		}
		if c == ':' {
			if colon >= 0 && qualified {
				return nil, nil, nil, 0
			}
			colon = n
		}
	}
	qname = s[:n]
	if !qualified || colon <= 0 || colon == n-1 { // no prefix, or an empty part
		return qname, nil, qname, n
	}
	return qname, s[:colon], s[colon+1 : n], n
}

// scanProcInst reads the processing instruction at s[i:] and returns the
// index after it. An XML declaration with a version other than 1.0 or an
// encoding other than UTF-8 is left to decode.
func scanProcInst(s []byte, i int) (int, bool) {
	target, _, _, n := scanName(s[i+2:], false)
	if n == 0 {
		return 0, false
	}
	j := skipSpace(s, i+2+n)
	k := bytes.Index(s[j:], []byte("?>"))
	if k < 0 {
		return 0, false
	}
	if string(target) == "xml" {
		content := s[j : j+k]
		if v := procInst("version=", content); v != nil && string(v) != "1.0" {
			return 0, false
		}
		if e := procInst("encoding=", content); e != nil && !bytes.EqualFold(e, []byte("utf-8")) {
			return 0, false
		}
	}
	return j + k + 2, true
}

// procInst returns the value of param (given with its "=") in the content
// of an XML declaration, found the way encoding/xml finds it, or nil.
func procInst(param string, s []byte) []byte {
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := bytes.Index(sub, []byte(param))
		if k < 0 || len(param)+k >= len(sub) {
			return nil
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return nil
	}
	j := bytes.IndexByte(s[i:], sep)
	if j <= 0 {
		return nil
	}
	return s[i : i+j]
}

// Byte classes for names: nameClass[c] tells whether an ASCII byte may
// start or continue a name.
const (
	nameStart = 1 << iota
	nameChar
)

var nameClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', c == '_', c == ':':
			t[c] = nameStart | nameChar
		case '0' <= c && c <= '9', c == '-', c == '.':
			t[c] = nameChar
		}
	}
	return t
}()

// Byte classes for text: textClass[c] is plain for the bytes that stand for
// themselves in text and attribute values.
const (
	plain   = iota
	special // & \r ]: unescape looks closer
	high    // the first byte of a multi-byte character, or invalid
	bad     // control characters and <
)

var textClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = high
		case c == '&' || c == '\r' || c == ']':
			t[c] = special
		case c == '<' || c < ' ' && c != '\t' && c != '\n':
			t[c] = bad
		}
	}
	return t
}()

const (
	textMode = iota
	attrMode
	cdataMode
)

// unescape appends to dst the text of raw as encoding/xml reads it in mode:
// entities and character references resolved (but in CDATA), \r and \r\n
// turned into \n; with keep false it only checks raw. It returns false
// wherever encoding/xml would report an error: bad entities, characters XML
// does not allow, invalid UTF-8, "]]>" in text, "<" in a value.
func unescape(dst, raw []byte, mode int, keep bool) ([]byte, bool) {
	last := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		switch textClass[c] {
		case plain:
			i++
		case high:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 || !inCharRange(r) {
				return nil, false
			}
			i += size
		case bad:
			if c != '<' || mode != cdataMode {
				return nil, false
			}
			i++
		default: // special
			switch {
			case c == ']':
				if mode == textMode && i+2 < len(raw) && raw[i+1] == ']' && raw[i+2] == '>' {
					return nil, false
				}
				i++
			case c == '\r':
				if keep {
					dst = append(dst, raw[last:i]...)
					dst = append(dst, '\n')
				}
				if i++; i < len(raw) && raw[i] == '\n' {
					i++
				}
				last = i
			case mode == cdataMode: // &
				i++
			default: // &
				r, n := entity(raw[i:])
				if n == 0 {
					return nil, false
				}
				if keep {
					dst = append(dst, raw[last:i]...)
					dst = utf8.AppendRune(dst, r)
				}
				i += n
				last = i
			}
		}
	}
	if keep {
		dst = append(dst, raw[last:]...)
	}
	return dst, true
}

// entity reads the entity or character reference at the start of s and
// returns its character and length, or 0 if it is not one encoding/xml
// resolves to a character XML allows.
func entity(s []byte) (rune, int) {
	if len(s) > 2 && s[1] == '#' {
		i, base := 2, rune(10)
		if s[i] == 'x' {
			i, base = 3, 16
		}
		start := i
		var r rune
		for ; i < len(s); i++ {
			c := s[i]
			var d rune
			switch {
			case '0' <= c && c <= '9':
				d = rune(c - '0')
			case base == 16 && 'a' <= c && c <= 'f':
				d = rune(c-'a') + 10
			case base == 16 && 'A' <= c && c <= 'F':
				d = rune(c-'A') + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			if r = r*base + d; r > utf8.MaxRune {
				return 0, 0
			}
		}
		if i == start || i >= len(s) || s[i] != ';' {
			return 0, 0
		}
		if 0xD800 <= r && r <= 0xDFFF {
			r = utf8.RuneError // as string(rune(r)) makes it
		}
		if !inCharRange(r) {
			return 0, 0
		}
		return r, i + 1
	}
	switch {
	case bytes.HasPrefix(s, []byte("&lt;")):
		return '<', 4
	case bytes.HasPrefix(s, []byte("&gt;")):
		return '>', 4
	case bytes.HasPrefix(s, []byte("&amp;")):
		return '&', 5
	case bytes.HasPrefix(s, []byte("&quot;")):
		return '"', 6
	case bytes.HasPrefix(s, []byte("&apos;")):
		return '\'', 6
	}
	return 0, 0
}

// inCharRange reports whether r is a character XML 1.0 allows, as
// encoding/xml decides it.
func inCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
