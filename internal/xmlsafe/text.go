package xmlsafe

import (
	"encoding/xml"
	"strings"
	"unicode/utf8"
)

// The writers of package soap and package gena escape text and check names
// with these, so that what one side writes the other reads exactly.

// AppendEscaped appends s escaped as character data or, if attr, as a
// double-quoted attribute value. A character XML 1.0 cannot carry makes it
// return false, or, if replace, is written as U+FFFD.
func AppendEscaped(b []byte, s string, attr, replace bool) ([]byte, bool) {
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

// IsName reports whether s is an XML name without a colon, exactly as
// encoding/xml reads names, so that whatever our writers write our readers
// also read, and the reverse.
func IsName(s string) bool {
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
