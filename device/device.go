package device

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/seedb72249f9/upnp"
)

// A Device is a UPnP device: the root of a tree or an embedded device.
// Type, FriendlyName, Manufacturer and ModelName are required. Build the tree
// before serving it and do not change it afterwards; state lives in Services.
type Device struct {
	Type             string // device type, e.g. urn:schemas-upnp-org:device:BinaryLight:1
	FriendlyName     string
	Manufacturer     string
	ManufacturerURL  string
	ModelDescription string
	ModelName        string
	ModelNumber      string
	ModelURL         string
	SerialNumber     string
	UPC              string
	// UDN is "uuid:" and a UUID. Give a stable one so control points know the
	// device across restarts; zero means a random one chosen by the Server.
	UDN      string
	Icons    []Icon
	Services []*Service
	Devices  []*Device // embedded devices
}

// An Icon is an image a control point may show for the device.
type Icon struct {
	MIMEType             string // e.g. image/png
	Width, Height, Depth int
	Data                 []byte
}

// All returns an iterator over d and its embedded devices, depth first, d first.
func (d *Device) All() iter.Seq[*Device] {
	return func(yield func(*Device) bool) { d.walk(yield) }
}

func (d *Device) walk(yield func(*Device) bool) bool {
	if !yield(d) {
		return false
	}
	for _, e := range d.Devices {
		if !e.walk(yield) {
			return false
		}
	}
	return true
}

// Handler runs an action. It gets the in arguments decoded to the Go types of
// their state variables' data types (see upnp.DataType) and returns the out
// arguments by name, as values of those types or convertible ones. To answer
// with a UPnP error, return a *upnp.Error; any other error answers 501
// Action Failed (the error itself is only logged). A Handler may read and set
// state variables through r.Service.
type Handler func(ctx context.Context, r *Request) (map[string]any, error)

// A Request is one action invocation.
type Request struct {
	Device  *Device
	Service *Service
	Action  *upnp.Action
	// Args are the in arguments, decoded, by name.
	Args map[string]any
	// RemoteAddr is the control point's address, as http.Request.RemoteAddr.
	RemoteAddr string
}

// A Service is one service of a device: its SCPD, the handlers of its actions
// and the values of its state variables. It is safe for concurrent use once
// served.
type Service struct {
	Type string // service type, e.g. urn:schemas-upnp-org:service:SwitchPower:1
	// ID is the serviceId; zero means one made from Type:
	// urn:upnp-org:serviceId:NAME for standard types, urn:DOMAIN:serviceId:NAME
	// for vendor ones.
	ID string
	// SCPD defines the actions and state variables. Required.
	SCPD *upnp.SCPD
	// Handlers run the actions, by action name. An action without a handler
	// answers 602 Optional Action Not Implemented.
	Handlers map[string]Handler
	// Moderation rate-limits the events of state variables, by name
	// (maximumRate and minimumDelta, UDA 1.1 2.3 and 4.3); see Moderation.
	// Variables not in the map are evented at every change. Set it before
	// the Service is served and do not change it afterwards.
	Moderation map[string]Moderation

	mu       sync.RWMutex
	values   map[string]string // current values of the state variables, wire form
	evBase   map[string]string // moderated variables: the value last evented
	onChange func(s *Service, changed []string)
}

// id returns the serviceId: ID, or one made from the type: a standard
// urn:schemas-upnp-org:service:X:v gets urn:upnp-org:serviceId:X, a vendor
// urn:DOMAIN:service:X:v gets urn:DOMAIN:serviceId:X.
func (s *Service) id() string {
	if s.ID != "" {
		return s.ID
	}
	parts := strings.Split(s.Type, ":")
	if len(parts) != 5 {
		return "urn:upnp-org:serviceId:" + s.Type
	}
	domain := parts[1]
	if domain == "schemas-upnp-org" {
		domain = "upnp-org"
	}
	return "urn:" + domain + ":serviceId:" + parts[3]
}

// init sets every state variable to its default value (or its type's zero,
// or the first allowed value) unless already set.
func (s *Service) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]string{}
	}
	for i := range s.SCPD.StateVariables {
		v := &s.SCPD.StateVariables[i]
		if _, ok := s.values[v.Name]; ok {
			continue
		}
		s.values[v.Name] = initialValue(v)
	}
}

func initialValue(v *upnp.StateVariable) string {
	if v.Default != "" {
		if x, err := v.DataType.Decode(v.Default); err == nil {
			if s, err := v.DataType.Encode(x); err == nil {
				return s
			}
		}
		return v.Default
	}
	if len(v.AllowedValues) > 0 {
		return v.AllowedValues[0]
	}
	if v.Range != nil && v.Range.Minimum != "" {
		return v.Range.Minimum
	}
	switch v.DataType {
	case upnp.TypeString, upnp.TypeURI, upnp.TypeBinBase64, upnp.TypeBinHex, upnp.TypeChar, upnp.TypeUUID,
		upnp.TypeDate, upnp.TypeDateTime, upnp.TypeDateTimeTZ, upnp.TypeTime, upnp.TypeTimeTZ:
		return ""
	}
	return "0"
}

// ErrNoVariable is returned for a state variable the SCPD does not define.
var ErrNoVariable = errors.New("device: no such state variable")

// Get returns the current value of the state variable name, decoded to its
// data type's Go type, or ErrNoVariable.
func (s *Service) Get(name string) (any, error) {
	sv := s.SCPD.StateVariable(name)
	if sv == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoVariable, name)
	}
	s.init()
	s.mu.RLock()
	raw := s.values[name]
	s.mu.RUnlock()
	if raw == "" && sv.DataType != upnp.TypeString {
		return nil, nil
	}
	return sv.DataType.Decode(raw)
}

// Value returns the current value of the state variable name in wire form
// ("" for an unknown variable).
func (s *Service) Value(name string) string {
	s.init()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.values[name]
}

// Set changes state variables: pairs of name and value, the value of the
// variable's Go type, a convertible one, or a string in wire form. Values are
// checked against the data type and the allowed values or range; nothing is
// changed if any is wrong. Changed evented variables are published to
// subscribers as one event.
func (s *Service) Set(nameValues ...any) error {
	if len(nameValues)%2 != 0 {
		return errors.New("device: Set needs name, value pairs")
	}
	s.init()
	enc := make([]string, 0, len(nameValues)/2)
	for i := 0; i < len(nameValues); i += 2 {
		name, ok := nameValues[i].(string)
		if !ok {
			return fmt.Errorf("device: Set: argument %d is not a variable name", i)
		}
		sv := s.SCPD.StateVariable(name)
		if sv == nil {
			return fmt.Errorf("%w: %q", ErrNoVariable, name)
		}
		w, err := sv.Encode(nameValues[i+1])
		if err != nil {
			return fmt.Errorf("device: Set %s: %w", name, err)
		}
		enc = append(enc, w)
	}
	s.mu.Lock()
	var changed []string
	for i := 0; i < len(nameValues); i += 2 {
		name := nameValues[i].(string)
		if old := s.values[name]; old != enc[i/2] {
			s.noteBase(name, old)
			s.values[name] = enc[i/2]
			changed = append(changed, name)
		}
	}
	hook := s.onChange
	s.mu.Unlock()
	if hook != nil && len(changed) > 0 {
		hook(s, changed)
	}
	return nil
}

// StateHandler is a Handler for actions that only move values in and out of
// state variables: it stores each in argument in its related state variable,
// then answers each out argument with its related variable's value. It is how
// a simulated device answers (upnp serve mock), and suits simple Get/Set pairs.
func StateHandler(_ context.Context, r *Request) (map[string]any, error) {
	var pairs []any
	for a := range r.Action.In() {
		pairs = append(pairs, a.RelatedStateVariable, r.Args[a.Name])
	}
	if len(pairs) > 0 {
		if err := r.Service.Set(pairs...); err != nil {
			return nil, &upnp.Error{Code: upnp.CodeArgumentValueInvalid}
		}
	}
	out := map[string]any{}
	for a := range r.Action.Out() {
		out[a.Name] = r.Service.Value(a.RelatedStateVariable)
	}
	return out, nil
}

// validate checks the tree before serving.
func validate(root *Device) error {
	udns := map[string]bool{}
	for d := range root.All() {
		switch {
		case d.Type == "" || d.FriendlyName == "" || d.Manufacturer == "" || d.ModelName == "":
			return fmt.Errorf("device: %q needs Type, FriendlyName, Manufacturer and ModelName", d.FriendlyName)
		case !strings.HasPrefix(d.UDN, "uuid:"):
			return fmt.Errorf("device: %s: UDN %q does not start with uuid:", d.Type, d.UDN)
		case udns[d.UDN]:
			return fmt.Errorf("device: UDN %s used twice", d.UDN)
		}
		udns[d.UDN] = true
		ids := map[string]bool{}
		for _, s := range d.Services {
			if s.Type == "" || s.SCPD == nil {
				return fmt.Errorf("device: %s: a service needs Type and SCPD", d.Type)
			}
			if ids[s.id()] {
				return fmt.Errorf("device: %s: serviceId %s used twice", d.Type, s.id())
			}
			ids[s.id()] = true
			if err := s.SCPD.Validate(); err != nil {
				return fmt.Errorf("device: %s: %w", s.Type, err)
			}
			for name := range s.Handlers {
				if s.SCPD.Action(name) == nil {
					return fmt.Errorf("device: %s: handler for %q, which the SCPD does not define", s.Type, name)
				}
			}
		}
	}
	return nil
}

// servicePaths gives every service of the tree its URL base, /dev/N/NAME/,
// where N numbers the devices in All order and NAME is the serviceId after
// "serviceId:" (made unique within the device if two ids share it).
func servicePaths(root *Device) map[*Service]string {
	paths := map[*Service]string{}
	i := 0
	for d := range root.All() {
		used := map[string]bool{}
		for j, s := range d.Services {
			id := s.id()
			if k := strings.Index(strings.ToLower(id), "serviceid:"); k >= 0 {
				id = id[k+len("serviceid:"):]
			}
			name := url.PathEscape(id)
			if name == "" || used[name] {
				name += "-" + strconv.Itoa(j)
			}
			used[name] = true
			paths[s] = "/dev/" + strconv.Itoa(i) + "/" + name + "/"
		}
		i++
	}
	return paths
}
