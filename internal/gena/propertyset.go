package gena

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// ContentType is the CONTENT-TYPE of event messages, unicast and multicast
// (UDA section 4.3).
const ContentType = `text/xml; charset="utf-8"`

// MaxBody is the default cap on an event body, in bytes (SECURITY.md).
const MaxBody = 64 << 10

// A Property is one evented state variable and its new value, as text,
// unescaped (the XML escaping is the codec's business). The zero Property
// is not valid to write: Name must be an XML name.
type Property struct {
	Name  string
	Value string
}

const (
	propertySetStart = `<?xml version="1.0"?>` + "\n" +
		`<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">`
	propertySetEnd = `</e:propertyset>`
	propertyStart  = `<e:property><`
	propertyEnd    = `></e:property>`
)

// AppendPropertySet appends to b the body of an event message carrying
// props, in order, one e:property each (UDA section 4.3.2):
//
//	<?xml version="1.0"?>
//	<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><Name>value</Name></e:property>...</e:propertyset>
//
// Values are escaped (&, <, > and carriage return). If a name is not an XML
// name without a colon or a value holds a character XML cannot carry, it
// returns b unchanged and an error wrapping ErrInvalidName or
// ErrInvalidChar. Beyond growing b it does not allocate.
func AppendPropertySet(b []byte, props []Property) ([]byte, error) {
	n := len(propertySetStart) + len(propertySetEnd)
	for _, p := range props {
		n += len(propertyStart) + len(propertyEnd) + 2*len(p.Name) + len(p.Value) + 3
	}
	b0 := b
	b = slices.Grow(b, n)
	b = append(b, propertySetStart...)
	for _, p := range props {
		if !xmlsafe.IsName(p.Name) {
			return b0, fmt.Errorf("gena: variable %q: %w", p.Name, ErrInvalidName)
		}
		b = append(b, propertyStart...)
		b = append(b, p.Name...)
		b = append(b, '>')
		var ok bool
		if b, ok = xmlsafe.AppendEscaped(b, p.Value, false, false); !ok {
			return b0, fmt.Errorf("gena: variable %s: %w", p.Name, ErrInvalidChar)
		}
		b = append(b, "</"...)
		b = append(b, p.Name...)
		b = append(b, propertyEnd...)
	}
	return append(b, propertySetEnd...), nil
}

// ParsePropertySet reads the body of an event message (UDA section 4.3.2)
// and returns its variables in document order, repeats included. The root
// must be a propertyset; each element inside one of its property children
// is a variable (several per property are accepted), named by its local
// name. Prefixes, namespaces, attributes, comments, processing
// instructions, other elements and text outside variables are ignored.
// Reading stops at the end of the root element.
//
// A value is the text of its element, entities and CDATA resolved, not
// trimmed; for an element that holds elements, the inner XML as the
// package documentation describes.
//
// Errors wrap ErrNotPropertySet, a *xml.SyntaxError, upnp.ErrTooDeep,
// upnp.ErrTooManyTokens or upnp.ErrDTD. The body's size is not checked:
// read it with ReadBody.
func ParsePropertySet(body []byte) ([]Property, error) {
	r := newReader(body)
	var (
		props  []Property
		inProp bool   // the open element at depth 2 is a property
		name   string // the variable at depth 3
		buf    []byte // its value so far: text, or inner XML if nested
		nested bool   // the variable holds elements
	)
	for {
		tok, err := r.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no root element", ErrNotPropertySet)
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch d := r.depth(); {
			case d == 1:
				if !strings.EqualFold(t.Name.Local, "propertyset") {
					return nil, fmt.Errorf("%w: root element <%s>", ErrNotPropertySet, qname(t.Name))
				}
			case d == 2:
				inProp = strings.EqualFold(t.Name.Local, "property")
			case !inProp:
			case d == 3:
				if err := checkName(t.Name.Local); err != nil {
					return nil, r.wrap(err)
				}
				name, buf, nested = t.Name.Local, buf[:0], false
			default:
				if !nested {
					text := string(buf)
					buf, _ = xmlsafe.AppendEscaped(buf[:0], text, false, true)
					nested = true
				}
				buf = appendStart(buf, t)
			}
		case xml.EndElement:
			switch d := r.depth(); {
			case d == 0:
				return props, nil
			case !inProp || d < 2:
			case d == 2:
				props = append(props, Property{Name: name, Value: string(buf)})
			default:
				buf = appendEnd(buf, t)
			}
		case xml.CharData:
			switch {
			case !inProp || r.depth() < 3:
			case nested:
				buf, _ = xmlsafe.AppendEscaped(buf, string(t), false, true)
			default:
				buf = append(buf, t...)
			}
		}
	}
}

// ReadBody reads r to its end, up to max bytes (MaxBody if max <= 0), for
// ParsePropertySet. A longer body is an error wrapping upnp.ErrTooLarge;
// errors from r are returned as they are.
func ReadBody(r io.Reader, max int) ([]byte, error) {
	if max <= 0 {
		max = MaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("gena: body longer than %d bytes: %w", max, upnp.ErrTooLarge)
	}
	return b, nil
}
