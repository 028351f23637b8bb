package gena

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// Namespaces of the LastChange Event element.
const (
	NamespaceAVT = "urn:schemas-upnp-org:metadata-1-0/AVT/" // AVTransport
	NamespaceRCS = "urn:schemas-upnp-org:metadata-1-0/RCS/" // RenderingControl
)

// An InstanceChange is what a LastChange value reports for one instance of
// a service: the variables that changed, in document order. The zero value
// is an instance "" with no changes.
type InstanceChange struct {
	InstanceID string // the val attribute of InstanceID, as written
	Vars       []VarChange
}

// A VarChange is one changed variable of an instance. The zero VarChange is
// not valid to write: Name must be an XML name.
type VarChange struct {
	Name    string // the element's local name, such as TransportState
	Value   string // its val attribute, unescaped
	Channel string // its channel attribute (RenderingControl), "" when absent
}

// ParseLastChange reads the value of a LastChange variable, already
// unescaped from its property, as ParsePropertySet returns it:
//
//	<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0"><TransportState val="PLAYING"/>...</InstanceID></Event>
//
// The root must be an Event; each of its InstanceID children gives an
// InstanceChange, each element inside one a VarChange. Element and
// attribute names (Event, InstanceID, val, channel) are matched in any
// case, with any prefix and namespace; other attributes, elements below
// the variables, text, comments and elements other than InstanceID are
// ignored, and a missing attribute reads as "". An encoding named by an XML
// declaration is ignored: the value is already text. Reading stops at the
// end of the Event. XML inside a val attribute, such as the DIDL-Lite of
// AVTransportURIMetaData, stays text: read it with its own bounds.
//
// The value is attacker-controlled XML and is read with the bounds of
// ParsePropertySet. Errors wrap ErrNotLastChange, a *xml.SyntaxError,
// upnp.ErrTooDeep, upnp.ErrTooManyTokens or upnp.ErrDTD.
func ParseLastChange(value string) ([]InstanceChange, error) {
	r := newStringReader(value)
	var (
		changes    []InstanceChange
		inInstance bool // the open element at depth 2 is an InstanceID
	)
	for {
		tok, err := r.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no root element", ErrNotLastChange)
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch d := r.depth(); {
			case d == 1:
				if !strings.EqualFold(t.Name.Local, "Event") {
					return nil, fmt.Errorf("%w: root element <%s>", ErrNotLastChange, qname(t.Name))
				}
			case d == 2:
				inInstance = strings.EqualFold(t.Name.Local, "InstanceID")
				if inInstance {
					changes = append(changes, InstanceChange{InstanceID: attrValue(t, "val")})
				}
			case d == 3 && inInstance:
				if err := checkName(t.Name.Local); err != nil {
					return nil, r.wrap(err)
				}
				c := &changes[len(changes)-1]
				c.Vars = append(c.Vars, VarChange{
					Name:    t.Name.Local,
					Value:   attrValue(t, "val"),
					Channel: attrValue(t, "channel"),
				})
			}
		case xml.EndElement:
			if r.depth() == 0 {
				return changes, nil
			}
		}
	}
}

// AppendLastChange appends to b the LastChange value that reports changes
// (the device side of LastChange aggregation), in the namespace ns (such
// as NamespaceAVT; "" writes no xmlns attribute):
//
//	<Event xmlns="ns"><InstanceID val="0"><TransportState val="PLAYING"/><Volume val="40" channel="Master"/></InstanceID></Event>
//
// A channel attribute is written when Channel is not "". The result is
// text for the LastChange property, which AppendPropertySet escapes once
// more. If a variable name is not an XML name without a colon, or a value
// holds a character XML cannot carry, it returns b unchanged and an error
// wrapping ErrInvalidName or ErrInvalidChar.
func AppendLastChange(b []byte, ns string, changes []InstanceChange) ([]byte, error) {
	n := len(ns) + 40
	for _, c := range changes {
		n += len(c.InstanceID) + 30
		for _, v := range c.Vars {
			n += len(v.Name) + len(v.Value) + len(v.Channel) + 25
		}
	}
	b0 := b
	b = slices.Grow(b, n)
	var ok bool
	b = append(b, "<Event"...)
	if ns != "" {
		b = append(b, ` xmlns="`...)
		if b, ok = xmlsafe.AppendEscaped(b, ns, true, false); !ok {
			return b0, fmt.Errorf("gena: LastChange namespace %q: %w", ns, ErrInvalidChar)
		}
		b = append(b, '"')
	}
	b = append(b, '>')
	for _, c := range changes {
		b = append(b, `<InstanceID val="`...)
		if b, ok = xmlsafe.AppendEscaped(b, c.InstanceID, true, false); !ok {
			return b0, fmt.Errorf("gena: InstanceID %q: %w", c.InstanceID, ErrInvalidChar)
		}
		b = append(b, `">`...)
		for _, v := range c.Vars {
			if !xmlsafe.IsName(v.Name) {
				return b0, fmt.Errorf("gena: variable %q: %w", v.Name, ErrInvalidName)
			}
			b = append(b, '<')
			b = append(b, v.Name...)
			b = append(b, ` val="`...)
			if b, ok = xmlsafe.AppendEscaped(b, v.Value, true, false); !ok {
				return b0, fmt.Errorf("gena: variable %s: %w", v.Name, ErrInvalidChar)
			}
			if v.Channel != "" {
				b = append(b, `" channel="`...)
				if b, ok = xmlsafe.AppendEscaped(b, v.Channel, true, false); !ok {
					return b0, fmt.Errorf("gena: variable %s channel: %w", v.Name, ErrInvalidChar)
				}
			}
			b = append(b, `"/>`...)
		}
		b = append(b, "</InstanceID>"...)
	}
	return append(b, "</Event>"...), nil
}
