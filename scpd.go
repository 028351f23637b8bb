package upnp

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"math/big"
	"strings"

	"github.com/beevik/etree"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// ServiceNamespace is the XML namespace of service descriptions (SCPDs).
const ServiceNamespace = "urn:schemas-upnp-org:service-1-0"

// Argument directions.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// An SCPD is a service description (UDA section 2, Service description): a
// service's actions and state variables.
//
// ParseSCPD fills it from any document; Validate checks what UDA requires;
// Marshal writes it. String fields hold values trimmed of surrounding white
// space, "" when absent. The zero SCPD is not valid.
type SCPD struct {
	// ConfigID is the configId attribute (UDA 1.1), 0 to 16777215; -1 or
	// any negative number means absent. Note that the zero value, 0, is
	// written.
	ConfigID       int
	SpecVersion    SpecVersion
	Actions        []Action
	StateVariables []StateVariable
}

// An Action is an action of a service, with its arguments in order.
type Action struct {
	Name      string
	Arguments []Argument
}

// An Argument is an argument of an action. Its data type and allowed values
// are those of its related state variable.
type Argument struct {
	Name                 string
	Direction            string // DirectionIn or DirectionOut
	RelatedStateVariable string
	RetVal               bool // the return value: the first out argument, if any
}

// A StateVariable is a state variable of a service.
//
// AllowedValues (for strings) and Range (for numbers) constrain its values;
// Check, Decode and Encode apply them.
type StateVariable struct {
	Name     string
	DataType DataType
	Default  string // the defaultValue, "" when absent
	// AllowedValues is the allowedValueList, nil when absent.
	AllowedValues []string
	// Range is the allowedValueRange, nil when absent.
	Range *AllowedRange
	// SendEvents reports whether the variable is evented. The attribute's
	// UDA default is "yes", and ParseSCPD sets SendEvents when it is
	// absent; the zero value, false, is written as sendEvents="no".
	SendEvents bool
	// Multicast reports whether events are multicast (UDA 2.0).
	Multicast bool
}

// An AllowedRange is an allowedValueRange: values from Minimum to Maximum
// inclusive, in steps of Step from Minimum when Step is set. The bounds are
// in the variable's data type's format; bounds that do not decode are
// ignored by Check.
type AllowedRange struct {
	Minimum, Maximum, Step string
}

var scpdVocabulary = newVocabulary(
	"scpd", "specVersion", "actionList", "action", "name", "argumentList",
	"argument", "direction", "relatedStateVariable", "retval",
	"serviceStateTable", "stateVariable", "dataType", "defaultValue",
	"allowedValueList", "allowedValue", "allowedValueRange", "minimum", "maximum", "step",
)

// ParseSCPD reads a service description. Like ParseDescription it is
// lenient, bounded, and fails only when the document's root element is not
// scpd (ErrNotSCPD); call Validate for UDA's checks. Data type names and
// argument directions are read in any case, and sendEvents and multicast
// take yes/no, true/false or 1/0.
func ParseSCPD(b []byte) (*SCPD, error) {
	doc, err := xmlsafe.Parse(b, xmlsafe.Limits{})
	if err != nil {
		return nil, fmt.Errorf("upnp: parse SCPD: %w", err)
	}
	re := doc.Root()
	if re == nil || scpdVocabulary.name(re) != "scpd" {
		return nil, fmt.Errorf("%w: no <scpd> element", ErrNotSCPD)
	}
	s := &SCPD{ConfigID: readConfigID(re)}
	for _, c := range re.ChildElements() {
		switch scpdVocabulary.name(c) {
		case "specVersion":
			s.SpecVersion = readSpecVersion(c)
		case "actionList":
			for _, ac := range c.ChildElements() {
				if scpdVocabulary.name(ac) == "action" {
					s.Actions = append(s.Actions, readAction(ac))
				}
			}
		case "serviceStateTable":
			for _, vc := range c.ChildElements() {
				if scpdVocabulary.name(vc) == "stateVariable" {
					s.StateVariables = append(s.StateVariables, readStateVariable(vc))
				}
			}
		}
	}
	return s, nil
}

func readAction(e *etree.Element) Action {
	var a Action
	for _, c := range e.ChildElements() {
		switch scpdVocabulary.name(c) {
		case "name":
			a.Name = text(c)
		case "argumentList":
			for _, ac := range c.ChildElements() {
				if scpdVocabulary.name(ac) == "argument" {
					a.Arguments = append(a.Arguments, readArgument(ac))
				}
			}
		}
	}
	return a
}

func readArgument(e *etree.Element) Argument {
	var a Argument
	for _, c := range e.ChildElements() {
		switch scpdVocabulary.name(c) {
		case "name":
			a.Name = text(c)
		case "direction":
			a.Direction = strings.ToLower(text(c))
		case "relatedStateVariable":
			a.RelatedStateVariable = text(c)
		case "retval":
			a.RetVal = true
		}
	}
	return a
}

func readStateVariable(e *etree.Element) StateVariable {
	v := StateVariable{SendEvents: true}
	if s, ok := attr(e, "sendEvents"); ok {
		v.SendEvents = yes(s, true)
	}
	if s, ok := attr(e, "multicast"); ok {
		v.Multicast = yes(s, false)
	}
	for _, c := range e.ChildElements() {
		switch scpdVocabulary.name(c) {
		case "name":
			v.Name = text(c)
		case "dataType":
			v.DataType = parseDataType(text(c))
		case "defaultValue":
			v.Default = text(c)
		case "allowedValueList":
			v.AllowedValues = []string{}
			for _, ac := range c.ChildElements() {
				if scpdVocabulary.name(ac) == "allowedValue" {
					v.AllowedValues = append(v.AllowedValues, text(ac))
				}
			}
		case "allowedValueRange":
			v.Range = &AllowedRange{}
			for _, rc := range c.ChildElements() {
				switch scpdVocabulary.name(rc) {
				case "minimum":
					v.Range.Minimum = text(rc)
				case "maximum":
					v.Range.Maximum = text(rc)
				case "step":
					v.Range.Step = text(rc)
				}
			}
		}
	}
	return v
}

// yes reads a yes/no attribute leniently; anything unrecognized is def.
func yes(s string, def bool) bool {
	switch strings.ToLower(trimXML(s)) {
	case "yes", "true", "1":
		return true
	case "no", "false", "0":
		return false
	}
	return def
}

// Action returns the action named name, or nil.
func (s *SCPD) Action(name string) *Action {
	for i := range s.Actions {
		if s.Actions[i].Name == name {
			return &s.Actions[i]
		}
	}
	return nil
}

// StateVariable returns the state variable named name, or nil.
func (s *SCPD) StateVariable(name string) *StateVariable {
	for i := range s.StateVariables {
		if s.StateVariables[i].Name == name {
			return &s.StateVariables[i]
		}
	}
	return nil
}

// In returns an iterator over a's in arguments, in order.
func (a *Action) In() iter.Seq[*Argument] { return a.args(DirectionIn) }

// Out returns an iterator over a's out arguments, in order.
func (a *Action) Out() iter.Seq[*Argument] { return a.args(DirectionOut) }

func (a *Action) args(dir string) iter.Seq[*Argument] {
	return func(yield func(*Argument) bool) {
		for i := range a.Arguments {
			if a.Arguments[i].Direction == dir && !yield(&a.Arguments[i]) {
				return
			}
		}
	}
}

// Validate checks what UDA requires of a service description: a
// specVersion of 1.0 or later, a configId in range, unique non-empty action
// and state variable names, non-empty argument names unique per direction,
// directions in or out with all in arguments first, retval only on the
// first out argument, related state variables that exist, at least one
// state variable, valid data types, an allowedValueList only on strings and
// an allowedValueRange only on numbers with a valid minimum, maximum and
// positive step, and allowed and default values that decode. It returns all
// problems found, joined with errors.Join, or nil.
func (s *SCPD) Validate() error {
	errs := []error{checkHeader("SCPD", s.ConfigID, s.SpecVersion)}
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("upnp: SCPD: "+format, args...))
	}
	vars := make(map[string]bool)
	if len(s.StateVariables) == 0 {
		bad("no state variables")
	}
	for i := range s.StateVariables {
		v := &s.StateVariables[i]
		if v.Name == "" {
			bad("state variable %d has no name", i+1)
		} else if vars[v.Name] {
			bad("state variable %q defined twice", v.Name)
		}
		vars[v.Name] = true
		if err := v.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	actions := make(map[string]bool)
	for _, a := range s.Actions {
		if a.Name == "" {
			bad("action with no name")
		} else if actions[a.Name] {
			bad("action %q defined twice", a.Name)
		}
		actions[a.Name] = true
		// Names are unique per direction: in and out arguments travel in
		// different messages, and miniupnpd's WANIPConnection:2 has
		// NewExternalPort both ways.
		args := make(map[Argument]bool)
		seenOut := false
		for i, g := range a.Arguments {
			key := Argument{Name: g.Name, Direction: g.Direction}
			switch {
			case g.Name == "":
				bad("action %q: argument %d has no name", a.Name, i+1)
			case args[key]:
				bad("action %q: %s argument %q defined twice", a.Name, g.Direction, g.Name)
			}
			args[key] = true
			switch g.Direction {
			case DirectionIn:
				if seenOut {
					bad("action %q: in argument %q after an out argument", a.Name, g.Name)
				}
				if g.RetVal {
					bad("action %q: retval on in argument %q", a.Name, g.Name)
				}
			case DirectionOut:
				if g.RetVal && seenOut {
					bad("action %q: retval on %q, not the first out argument", a.Name, g.Name)
				}
				seenOut = true
			default:
				bad("action %q: argument %q has direction %q", a.Name, g.Name, g.Direction)
			}
			if !vars[g.RelatedStateVariable] {
				bad("action %q: argument %q: no state variable %q", a.Name, g.Name, g.RelatedStateVariable)
			}
		}
	}
	return errors.Join(errs...)
}

func (v *StateVariable) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("upnp: SCPD: state variable %q: "+format, append([]any{v.Name}, args...)...))
	}
	t := v.DataType
	if !t.Valid() {
		bad("unknown data type %q", string(t))
		return errors.Join(errs...)
	}
	if v.AllowedValues != nil {
		if t != TypeString {
			bad("allowedValueList on data type %s", t)
		}
		if len(v.AllowedValues) == 0 {
			bad("empty allowedValueList")
		}
		for _, a := range v.AllowedValues {
			if _, err := t.Decode(a); err != nil {
				bad("allowed value: %v", err)
			}
		}
	}
	if v.Range != nil {
		if !t.numeric() {
			bad("allowedValueRange on data type %s", t)
		} else {
			lo, errLo := t.Decode(v.Range.Minimum)
			hi, errHi := t.Decode(v.Range.Maximum)
			if errLo != nil || errHi != nil {
				bad("bad allowedValueRange minimum %q or maximum %q", v.Range.Minimum, v.Range.Maximum)
			} else if compare(lo, hi) > 0 {
				bad("allowedValueRange minimum %q above maximum %q", v.Range.Minimum, v.Range.Maximum)
			}
			if v.Range.Step != "" {
				if st, err := t.Decode(v.Range.Step); err != nil || compare(st, zeroOf(st)) <= 0 {
					bad("bad allowedValueRange step %q", v.Range.Step)
				}
			}
		}
	}
	if v.Default != "" {
		if _, err := v.Decode(v.Default); err != nil {
			bad("defaultValue: %v", err)
		}
	}
	return errors.Join(errs...)
}

// Check reports whether x, a value of the variable's data type's Go type
// or any value its Encode accepts, is allowed by the variable's
// AllowedValues and Range. It returns nil or a *ValueError: OutOfRange is
// set for a value outside Range (UPnP error 601), not for one missing from
// AllowedValues (600).
func (v *StateVariable) Check(x any) error {
	_, err := v.Encode(x)
	return err
}

// Decode decodes s with the variable's data type (see DataType.Decode) and
// checks the value with Check.
func (v *StateVariable) Decode(s string) (any, error) {
	x, err := v.DataType.Decode(s)
	if err != nil {
		return nil, err
	}
	if err := v.check(x, s); err != nil {
		return nil, err
	}
	return x, nil
}

// Encode checks x with Check and encodes it with the variable's data type
// (see DataType.Encode).
func (v *StateVariable) Encode(x any) (string, error) {
	s, err := v.DataType.Encode(x)
	if err != nil {
		return "", err
	}
	d, err := v.DataType.Decode(s) // canonical Go value, whatever x's type
	if err != nil {
		return "", err
	}
	if err := v.check(d, s); err != nil {
		return "", err
	}
	return s, nil
}

// check checks d, a decoded value whose wire form is s, against the
// variable's constraints.
func (v *StateVariable) check(d any, s string) error {
	t := v.DataType
	if len(v.AllowedValues) > 0 {
		enc, err := t.Encode(d)
		if err != nil {
			return err
		}
		ok := false
		for _, a := range v.AllowedValues {
			if a == enc {
				ok = true
				break
			}
			if t != TypeString {
				if ae, err := t.Encode(a); err == nil && ae == enc {
					ok = true
					break
				}
			}
		}
		if !ok {
			return &ValueError{Type: t, Value: s, Reason: "not in the allowedValueList of " + v.Name}
		}
	}
	if v.Range != nil && t.numeric() {
		out := func() error {
			return &ValueError{Type: t, Value: s, OutOfRange: true,
				Reason: fmt.Sprintf("outside the allowedValueRange of %s (%s to %s, step %q)", v.Name, v.Range.Minimum, v.Range.Maximum, v.Range.Step)}
		}
		lo, errLo := t.Decode(v.Range.Minimum)
		if errLo == nil && compare(d, lo) < 0 {
			return out()
		}
		if hi, err := t.Decode(v.Range.Maximum); err == nil && compare(d, hi) > 0 {
			return out()
		}
		if v.Range.Step != "" && errLo == nil {
			if st, err := t.Decode(v.Range.Step); err == nil && !onStep(d, lo, st) {
				return out()
			}
		}
	}
	return nil
}

// Numbers, for allowedValueRange. Values are the Go types Decode returns
// for numeric data types; integers are compared exactly.

func bigInt(x any) (*big.Int, bool) {
	switch n := x.(type) {
	case uint8:
		return new(big.Int).SetUint64(uint64(n)), true
	case uint16:
		return new(big.Int).SetUint64(uint64(n)), true
	case uint32:
		return new(big.Int).SetUint64(uint64(n)), true
	case uint64:
		return new(big.Int).SetUint64(n), true
	case int8:
		return big.NewInt(int64(n)), true
	case int16:
		return big.NewInt(int64(n)), true
	case int32:
		return big.NewInt(int64(n)), true
	case int64:
		return big.NewInt(n), true
	}
	return nil, false
}

func float(x any) float64 {
	switch n := x.(type) {
	case float32:
		return float64(n)
	case float64:
		return n
	}
	return math.NaN()
}

func zeroOf(x any) any {
	if _, ok := bigInt(x); ok {
		return int64(0)
	}
	return 0.0
}

// compare returns -1, 0 or 1 as a is less than, equal to or greater than b.
func compare(a, b any) int {
	if x, ok := bigInt(a); ok {
		if y, ok := bigInt(b); ok {
			return x.Cmp(y)
		}
	}
	x, y := float(a), float(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// onStep reports whether x is lo plus a whole number of steps. Floats are
// allowed a relative error of 1e-9 of a step.
func onStep(x, lo, step any) bool {
	if xi, ok := bigInt(x); ok {
		li, _ := bigInt(lo)
		si, _ := bigInt(step)
		if si == nil || si.Sign() <= 0 || li == nil {
			return true
		}
		d := new(big.Int).Sub(xi, li)
		return d.Mod(d, si).Sign() == 0
	}
	xf, lf, sf := float(x), float(lo), float(step)
	if !(sf > 0) || math.IsInf(sf, 0) {
		return true
	}
	k := (xf - lf) / sf
	return math.Abs(k-math.Round(k)) <= 1e-9*math.Max(1, math.Abs(k))
}

// Marshal writes s as a canonical UDA service description: namespace
// ServiceNamespace, the configId attribute unless negative, elements in UDA
// order, sendEvents always written and multicast when set, indented with
// two spaces. It returns Validate's error if s is not valid, and an error
// if a value holds characters XML cannot carry.
func (s *SCPD) Marshal() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	w, re := newWriter("scpd", ServiceNamespace, s.ConfigID, s.SpecVersion)
	if len(s.Actions) > 0 {
		al := re.CreateElement("actionList")
		for _, a := range s.Actions {
			ae := al.CreateElement("action")
			w.elem(ae, "name", a.Name)
			if len(a.Arguments) == 0 {
				continue
			}
			gl := ae.CreateElement("argumentList")
			for _, g := range a.Arguments {
				ge := gl.CreateElement("argument")
				w.elem(ge, "name", g.Name)
				w.elem(ge, "direction", g.Direction)
				if g.RetVal {
					ge.CreateElement("retval")
				}
				w.elem(ge, "relatedStateVariable", g.RelatedStateVariable)
			}
		}
	}
	st := re.CreateElement("serviceStateTable")
	for _, v := range s.StateVariables {
		ve := st.CreateElement("stateVariable")
		ve.CreateAttr("sendEvents", yesNo(v.SendEvents))
		if v.Multicast {
			ve.CreateAttr("multicast", "yes")
		}
		w.elem(ve, "name", v.Name)
		w.elem(ve, "dataType", string(v.DataType))
		w.opt(ve, "defaultValue", v.Default)
		if v.AllowedValues != nil {
			l := ve.CreateElement("allowedValueList")
			for _, a := range v.AllowedValues {
				w.elem(l, "allowedValue", a)
			}
		}
		if v.Range != nil {
			r := ve.CreateElement("allowedValueRange")
			w.elem(r, "minimum", v.Range.Minimum)
			w.elem(r, "maximum", v.Range.Maximum)
			w.opt(r, "step", v.Range.Step)
		}
	}
	return w.bytes()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
