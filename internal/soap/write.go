package soap

import (
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/seedb72249f9/upnp"
)

// An Arg is one argument of an action, in or out: its name and its value as
// text, unescaped (the XML escaping is the codec's business). The writers
// reject the zero Arg, whose name is empty.
type Arg struct {
	Name  string
	Value string
}

const (
	envelopeStart = `<?xml version="1.0"?>` + "\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>`
	envelopeEnd = `</s:Body></s:Envelope>`
	faultStart  = `<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>` +
		`<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>`
	faultEnd = `</errorDescription></UPnPError></detail></s:Fault>`
)

// AppendRequest appends to b the control request that invokes action of
// serviceType with the in arguments args, in order (UDA section 3.2.1):
//
//	<?xml version="1.0"?>
//	<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:action xmlns:u="serviceType"><arg>value</arg>...</u:action></s:Body></s:Envelope>
//
// Values are escaped (&, <, > and carriage return; quotes are left alone
// for the benefit of naive peers). If a name is not an XML name without a
// colon, the service type is empty, or a value holds a character XML cannot
// carry, it returns b unchanged and an error wrapping ErrInvalidName or
// ErrInvalidChar.
func AppendRequest(b []byte, serviceType, action string, args []Arg) ([]byte, error) {
	return appendAction(b, serviceType, action, "", args)
}

// AppendResponse appends to b the response of a successful action with the
// out arguments out, in order, in a <u:actionResponse xmlns:u="serviceType">
// element (UDA section 3.2.2). Its errors are AppendRequest's.
func AppendResponse(b []byte, serviceType, action string, out []Arg) ([]byte, error) {
	return appendAction(b, serviceType, action, "Response", out)
}

func appendAction(b []byte, serviceType, action, suffix string, args []Arg) ([]byte, error) {
	if !isName(action) {
		return b, fmt.Errorf("soap: action %q: %w", action, ErrInvalidName)
	}
	if serviceType == "" {
		return b, fmt.Errorf("soap: empty service type: %w", ErrInvalidName)
	}
	n := len(envelopeStart) + len(envelopeEnd) + 2*(len(action)+len(suffix)) + len(serviceType) + 20
	for _, a := range args {
		n += 2*len(a.Name) + len(a.Value) + 5
	}
	b0 := b
	b = slices.Grow(b, n)
	b = append(b, envelopeStart...)
	b = append(b, "<u:"...)
	b = append(b, action...)
	b = append(b, suffix...)
	b = append(b, ` xmlns:u="`...)
	b, ok := appendEscaped(b, serviceType, true, false)
	if !ok {
		return b0, fmt.Errorf("soap: service type %q: %w", serviceType, ErrInvalidChar)
	}
	b = append(b, `">`...)
	for _, a := range args {
		if !isName(a.Name) {
			return b0, fmt.Errorf("soap: argument %q: %w", a.Name, ErrInvalidName)
		}
		b = append(b, '<')
		b = append(b, a.Name...)
		b = append(b, '>')
		if b, ok = appendEscaped(b, a.Value, false, false); !ok {
			return b0, fmt.Errorf("soap: argument %s: %w", a.Name, ErrInvalidChar)
		}
		b = append(b, "</"...)
		b = append(b, a.Name...)
		b = append(b, '>')
	}
	b = append(b, "</u:"...)
	b = append(b, action...)
	b = append(b, suffix...)
	b = append(b, '>')
	b = append(b, envelopeEnd...)
	return b, nil
}

// AppendFault appends to b the SOAP fault that reports a UPnP error (UDA
// section 3.2.2): faultcode s:Client, faultstring UPnPError, and a UPnPError
// detail with code and description, which defaults to
// upnp.ErrorDescription(code) when empty. Characters XML cannot carry in
// description become U+FFFD. The response goes out with HTTP status 500.
func AppendFault(b []byte, code int, description string) []byte {
	if description == "" {
		description = upnp.ErrorDescription(code)
	}
	b = slices.Grow(b, len(envelopeStart)+len(faultStart)+len(faultEnd)+len(envelopeEnd)+len(description)+40)
	b = append(b, envelopeStart...)
	b = append(b, faultStart...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, "</errorCode><errorDescription>"...)
	b, _ = appendEscaped(b, description, false, true)
	b = append(b, faultEnd...)
	b = append(b, envelopeEnd...)
	return b
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
				esc = "&#xA;" // attributes only: a literal one reads back as a space
			case '\t':
				esc = "&#x9;"
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
// encoding/xml reads names (XML 1.0 fourth edition), so that whatever this
// package writes it also reads, and the reverse.
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
