package controlpoint

import (
	"fmt"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/gena"
)

// An InstanceChange is what a LastChange value reports for one instance of
// a service: the variables that changed, in document order.
type InstanceChange struct {
	InstanceID uint32
	Vars       []Change
}

// A Change is one variable a LastChange value reports.
type Change struct {
	Name string
	// Channel is RenderingControl's channel attribute, such as "Master";
	// "" when absent.
	Channel string
	// Value is the val attribute decoded with the data type the service's
	// SCPD gives the variable; the text itself when there is no SCPD, it
	// does not list the variable, or the text does not decode.
	Value any
	// Text is the val attribute as written, unescaped.
	Text string
}

// ParseLastChange reads the value of svc's LastChange variable, as an
// Event's Var carries it: the aggregated changes of AVTransport and
// RenderingControl (UPnP AV Architecture), an Event element with an
// InstanceID element per instance and an element per changed variable
// with its value in a val attribute. svc may be nil; then values stay text.
//
// The value comes from the device and is read with the XML bounds of event
// bodies (depth 32, 50,000 tokens, no DTD). Errors: a value that is not an
// Event, XML that is not well formed or exceeds the bounds, and an
// InstanceID that is not a ui4; each wraps the cause.
func ParseLastChange(svc *Service, value string) ([]InstanceChange, error) {
	changes, err := gena.ParseLastChange(value)
	if err != nil {
		return nil, fmt.Errorf("controlpoint: LastChange: %w", err)
	}
	out := make([]InstanceChange, len(changes))
	for i, c := range changes {
		id, err := upnp.TypeUI4.Decode(c.InstanceID)
		if err != nil {
			return nil, fmt.Errorf("controlpoint: LastChange: InstanceID: %w", err)
		}
		out[i] = InstanceChange{InstanceID: id.(uint32), Vars: make([]Change, len(c.Vars))}
		for j, v := range c.Vars {
			out[i].Vars[j] = Change{Name: v.Name, Channel: v.Channel, Value: decodeVar(svc, v.Name, v.Value), Text: v.Value}
		}
	}
	return out, nil
}
