package upnp

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/huin/goupnp/soap"
)

// A DataType is the dataType of a state variable (UDA section 2, Service
// description): the wire format of the variable, of the action arguments
// related to it and of its events. The zero DataType is not valid.
//
// Decode reads a value leniently and Encode writes one strictly. The Go type of
// each data type's values:
//
//	ui1 ui2 ui4 ui8             uint8 uint16 uint32 uint64
//	i1 i2 i4 i8                 int8 int16 int32 int64
//	int                         int64
//	r4                          float32
//	r8 number float fixed.14.4  float64
//	char                        rune
//	string                      string
//	date dateTime dateTime.tz   time.Time
//	time time.tz                TimeOfDay
//	boolean                     bool
//	bin.base64 bin.hex          []byte
//	uri                         *url.URL
//	uuid                        string (canonical 8-4-4-4-12 lower-case form)
//
// Values without a time zone (date, dateTime, time, and dateTime.tz without
// an offset) are local time: Decode returns them in time.Local and Encode
// converts to time.Local.
type DataType string

// The UDA data types. UI8 and I8 are UDA 2.0 additions.
const (
	TypeUI1        DataType = "ui1"
	TypeUI2        DataType = "ui2"
	TypeUI4        DataType = "ui4"
	TypeUI8        DataType = "ui8"
	TypeI1         DataType = "i1"
	TypeI2         DataType = "i2"
	TypeI4         DataType = "i4"
	TypeI8         DataType = "i8"
	TypeInt        DataType = "int"
	TypeR4         DataType = "r4"
	TypeR8         DataType = "r8"
	TypeNumber     DataType = "number"
	TypeFixed14_4  DataType = "fixed.14.4"
	TypeFloat      DataType = "float"
	TypeChar       DataType = "char"
	TypeString     DataType = "string"
	TypeDate       DataType = "date"
	TypeDateTime   DataType = "dateTime"
	TypeDateTimeTZ DataType = "dateTime.tz"
	TypeTime       DataType = "time"
	TypeTimeTZ     DataType = "time.tz"
	TypeBoolean    DataType = "boolean"
	TypeBinBase64  DataType = "bin.base64"
	TypeBinHex     DataType = "bin.hex"
	TypeURI        DataType = "uri"
	TypeUUID       DataType = "uuid"
)

// TimeOfDay is the Go type of the time and time.tz data types: the time since
// midnight, and for time.tz the UTC offset in seconds when HasOffset is set.
// It is goupnp's soap.TimeOfDay, so values pass between the two libraries
// unconverted.
type TimeOfDay = soap.TimeOfDay

var dataTypes = map[DataType]bool{
	TypeUI1: true, TypeUI2: true, TypeUI4: true, TypeUI8: true,
	TypeI1: true, TypeI2: true, TypeI4: true, TypeI8: true, TypeInt: true,
	TypeR4: true, TypeR8: true, TypeNumber: true, TypeFixed14_4: true, TypeFloat: true,
	TypeChar: true, TypeString: true,
	TypeDate: true, TypeDateTime: true, TypeDateTimeTZ: true, TypeTime: true, TypeTimeTZ: true,
	TypeBoolean: true, TypeBinBase64: true, TypeBinHex: true, TypeURI: true, TypeUUID: true,
}

// foldedTypes maps lower-cased names to data types, for reading sloppy SCPDs.
var foldedTypes = func() map[string]DataType {
	m := make(map[string]DataType, len(dataTypes))
	for t := range dataTypes {
		m[strings.ToLower(string(t))] = t
	}
	return m
}()

// parseDataType returns the data type named s, ignoring case and surrounding
// white space; an unknown name is returned trimmed, and is not Valid.
func parseDataType(s string) DataType {
	s = trimXML(s)
	if dataTypes[DataType(s)] {
		return DataType(s)
	}
	if t, ok := foldedTypes[strings.ToLower(s)]; ok {
		return t
	}
	return DataType(s)
}

// Valid reports whether t is one of the UDA data types, spelled exactly.
func (t DataType) Valid() bool { return dataTypes[t] }

// numeric reports whether t is an integer or floating point type, the types
// allowedValueRange applies to.
func (t DataType) numeric() bool { return t.integer() || t.float() }

func (t DataType) integer() bool {
	switch t {
	case TypeUI1, TypeUI2, TypeUI4, TypeUI8, TypeI1, TypeI2, TypeI4, TypeI8, TypeInt:
		return true
	}
	return false
}

func (t DataType) float() bool {
	switch t {
	case TypeR4, TypeR8, TypeNumber, TypeFixed14_4, TypeFloat:
		return true
	}
	return false
}

// A ValueError reports a value that is not valid for its data type or state
// variable. A device answers it with UPnP error 601 (Argument Value Out of
// Range) when OutOfRange is set, else 600 (Argument Value Invalid); Code
// returns that code.
type ValueError struct {
	Type       DataType
	Value      string // the value as received, or fmt's rendering of a Go value
	Reason     string
	OutOfRange bool // the value is well formed but outside the type's or the variable's range
}

// Error returns "upnp: <type> value "<value>": <reason>", the value cut
// to 64 bytes.
func (e *ValueError) Error() string {
	v := e.Value
	if len(v) > 64 {
		v = v[:61] + "..."
	}
	return fmt.Sprintf("upnp: %s value %q: %s", e.Type, v, e.Reason)
}

// Code returns CodeArgumentValueOutOfRange or CodeArgumentValueInvalid.
func (e *ValueError) Code() int {
	if e.OutOfRange {
		return CodeArgumentValueOutOfRange
	}
	return CodeArgumentValueInvalid
}

func (t DataType) invalid(s, reason string) error {
	return &ValueError{Type: t, Value: s, Reason: reason}
}

func (t DataType) outOfRange(s string) error {
	return &ValueError{Type: t, Value: s, Reason: "out of range", OutOfRange: true}
}

// trimXML trims XML white space (space, tab, CR, LF).
func trimXML(s string) string { return strings.Trim(s, " \t\r\n") }

// Decode parses s, a value in t's wire format, into t's Go type (see
// DataType). It is lenient: it ignores white space around the value (but
// keeps it in string and, where it is the whole value, char), accepts
// boolean 0/1/true/false/yes/no in any case, a leading + on unsigned
// integers, fractional seconds, a time zone on date/time types that have
// none, white space inside bin.base64 and bin.hex and missing base64
// padding, a "uuid:" prefix on uuid, and fixed.14.4 values with more than
// four decimals. It returns a *ValueError for a bad value and an error
// wrapping ErrUnknownDataType if t is not Valid.
func (t DataType) Decode(s string) (any, error) {
	switch t {
	case TypeString:
		if !validXMLText(s) {
			return nil, t.invalid(s, "not valid UTF-8 XML text")
		}
		return s, nil
	case TypeChar:
		return t.decodeChar(s)
	}
	v := trimXML(s)
	switch t {
	case TypeUI1:
		return decodeUint(t, v, s, soap.UnmarshalUi1)
	case TypeUI2:
		return decodeUint(t, v, s, soap.UnmarshalUi2)
	case TypeUI4:
		return decodeUint(t, v, s, soap.UnmarshalUi4)
	case TypeUI8:
		return decodeUint(t, v, s, soap.UnmarshalUi8)
	case TypeI1:
		return decodeInt(t, v, s, soap.UnmarshalI1)
	case TypeI2:
		return decodeInt(t, v, s, soap.UnmarshalI2)
	case TypeI4:
		return decodeInt(t, v, s, soap.UnmarshalI4)
	case TypeI8, TypeInt:
		return decodeInt(t, v, s, soap.UnmarshalInt)
	case TypeR4:
		if !isDecimalFloat(v) {
			return nil, t.invalid(s, "not a decimal number")
		}
		f, err := soap.UnmarshalR4(v)
		if err != nil {
			return nil, t.outOfRange(s) // ParseFloat's syntax was checked above
		}
		return f, nil
	case TypeR8, TypeNumber, TypeFloat, TypeFixed14_4:
		if !isDecimalFloat(v) {
			return nil, t.invalid(s, "not a decimal number")
		}
		f, err := soap.UnmarshalR8(v)
		if err != nil || t == TypeFixed14_4 && !fixed14_4InRange(f) {
			return nil, t.outOfRange(s)
		}
		return f, nil
	case TypeBoolean:
		b, err := soap.UnmarshalBoolean(strings.ToLower(v))
		if err != nil {
			return nil, t.invalid(s, "not 0, 1, true, false, yes or no")
		}
		return b, nil
	case TypeDate, TypeDateTime, TypeDateTimeTZ:
		tm, err := parseDateTime(t, v)
		if err != nil {
			return nil, t.invalid(s, err.Error())
		}
		if !t.yearInRange(tm) {
			return nil, t.outOfRange(s)
		}
		return tm, nil
	case TypeTime, TypeTimeTZ:
		tod, err := parseTimeOfDay(v)
		if err != nil {
			return nil, t.invalid(s, err.Error())
		}
		return tod, nil
	case TypeBinBase64:
		v = stripXMLSpace(v)
		b, err := soap.UnmarshalBinBase64(v)
		if err != nil && len(v)%4 != 0 {
			b, err = base64.RawStdEncoding.DecodeString(v)
		}
		if err != nil {
			return nil, t.invalid(s, "not base64")
		}
		return b, nil
	case TypeBinHex:
		b, err := soap.UnmarshalBinHex(stripXMLSpace(v))
		if err != nil {
			return nil, t.invalid(s, "not hexadecimal")
		}
		return b, nil
	case TypeURI:
		if !validXMLText(v) {
			return nil, t.invalid(s, "not valid UTF-8 XML text")
		}
		u, err := soap.UnmarshalURI(v)
		if err != nil {
			return nil, t.invalid(s, "not a URI")
		}
		return u, nil
	case TypeUUID:
		u, ok := parseUUID(v)
		if !ok {
			return nil, t.invalid(s, "not 32 hexadecimal digits")
		}
		return u, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownDataType, string(t))
}

func decodeUint[T uint8 | uint16 | uint32 | uint64](t DataType, v, orig string, parse func(string) (T, error)) (any, error) {
	v = strings.TrimPrefix(v, "+")
	if neg, ok := strings.CutPrefix(v, "-"); ok && allDigits(neg) {
		if strings.Trim(neg, "0") == "" {
			return T(0), nil // -0
		}
		return nil, t.outOfRange(orig)
	}
	if !allDigits(v) {
		return nil, t.invalid(orig, "not an unsigned integer")
	}
	n, err := parse(v)
	if err != nil {
		return nil, t.outOfRange(orig) // all digits: only the range can fail
	}
	return n, nil
}

func decodeInt[T int8 | int16 | int32 | int64](t DataType, v, orig string, parse func(string) (T, error)) (any, error) {
	digits := v
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if !allDigits(digits) {
		return nil, t.invalid(orig, "not an integer")
	}
	n, err := parse(v)
	if err != nil {
		return nil, t.outOfRange(orig)
	}
	return n, nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimalFloat reports whether s has the UDA float syntax: an optional
// sign, digits with an optional "." and fraction, and an optional exponent
// (E or e, optional sign, digits). It rejects what strconv.ParseFloat also
// takes: Inf, NaN, hexadecimal and underscores.
func isDecimalFloat(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	mant := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		mant++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			mant++
		}
	}
	if mant == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// fixed14_4InRange reports whether f has at most 14 digits before the
// decimal point once rounded to 4 decimals. Values within 1/64 of ±1e14
// round to ±1e14 in float64 and so are out of range.
func fixed14_4InRange(f float64) bool {
	return !math.IsNaN(f) && math.Abs(math.Round(f*1e4)/1e4) < 1e14
}

func (t DataType) decodeChar(s string) (any, error) {
	if utf8.RuneCountInString(s) != 1 {
		s = trimXML(s)
	}
	if !utf8.ValidString(s) {
		return nil, t.invalid(s, "not valid UTF-8")
	}
	r, err := soap.UnmarshalChar(s)
	if err != nil || !isXMLChar(r) {
		return nil, t.invalid(s, "not a single character")
	}
	return r, nil
}

// stripXMLSpace removes all XML white space from s, as line-wrapped
// bin.base64 values have.
func stripXMLSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

// parseUUID returns s, 32 hexadecimal digits with optional hyphens (UDA: "optional
// embedded hyphens are ignored"), an optional "uuid:" prefix and optional
// braces, in the canonical lower-case 8-4-4-4-12 form.
func parseUUID(s string) (string, bool) {
	if len(s) >= 5 && strings.EqualFold(s[:5], "uuid:") {
		s = s[5:]
	}
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		s = s[1 : len(s)-1]
	}
	var hex [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
			continue
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			c += 'a' - 'A'
		default:
			return "", false
		}
		if n == len(hex) {
			return "", false
		}
		hex[n] = c
		n++
	}
	if n != len(hex) {
		return "", false
	}
	h := string(hex[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// validXMLText reports whether s is valid UTF-8 made only of characters XML
// 1.0 allows, so that it can be written in an XML document.
func validXMLText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !isXMLChar(r) {
			return false
		}
		i += n
	}
	return true
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// Date and time parsing. goupnp's parsers let month 13 or February 30
// through (time.Date normalizes them) and reject fractional seconds, so
// these are our own.

// parseDateTime reads "YYYY-MM-DD" (or "YYYYMMDD", "YYYY-MM", "YYYY") and,
// for dateTime and dateTime.tz, an optional "Thh:mm[:ss[.f]]" (or a space
// instead of T) and an optional zone "Z", "±hh", "±hhmm" or "±hh:mm".
func parseDateTime(t DataType, s string) (time.Time, error) {
	date, rest, hasTime := s, "", false
	if i := strings.IndexAny(s, "T "); i >= 0 {
		date, rest, hasTime = s[:i], s[i+1:], true
		if t == TypeDate {
			return time.Time{}, fmt.Errorf("date with a time")
		}
	}
	y, m, d, ok := parseDate(date)
	if !ok {
		return time.Time{}, fmt.Errorf("not an ISO 8601 date")
	}
	loc := time.Local
	var c clock
	if hasTime {
		hms, zone := splitZone(rest)
		var err error
		if c, err = parseClock(hms); err != nil {
			return time.Time{}, err
		}
		if zone != "" {
			off, ok := parseZone(zone)
			if !ok {
				return time.Time{}, fmt.Errorf("bad time zone")
			}
			loc = zoneLocation(off)
		}
	}
	return time.Date(y, time.Month(m), d, c.h, c.m, c.s, c.ns, loc), nil
}

// yearInRange reports whether tm is written with a year from 0 to 9999: in
// its own zone for dateTime.tz, in local time for date and dateTime, which
// have no zone. A date with a zone, such as year 0 at +00:10, can fall
// outside once moved to local time.
func (t DataType) yearInRange(tm time.Time) bool {
	if t != TypeDateTimeTZ {
		tm = tm.In(time.Local)
	}
	y := tm.Year()
	return y >= 0 && y <= 9999
}

func zoneLocation(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	return time.FixedZone("", off)
}

func parseDate(s string) (y, m, d int, ok bool) {
	m, d = 1, 1
	switch {
	case len(s) == 4:
	case len(s) == 7 && s[4] == '-':
		m = atoi2(s[5:7])
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		m, d = atoi2(s[5:7]), atoi2(s[8:10])
	case len(s) == 8:
		m, d = atoi2(s[4:6]), atoi2(s[6:8])
	default:
		return 0, 0, 0, false
	}
	if !allDigits(s[:4]) {
		return 0, 0, 0, false
	}
	y, _ = strconv.Atoi(s[:4])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// atoi2 returns the value of two ASCII digits, or -1.
func atoi2(s string) int {
	if len(s) != 2 || !allDigits(s) {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// splitZone splits a trailing "Z", "+..." or "-..." zone off a time.
func splitZone(s string) (clock, zone string) {
	if i := strings.IndexAny(s, "Zz+-"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// A clock is a time of day; h is 24 only for 24:00:00.
type clock struct{ h, m, s, ns int }

func (c clock) duration() time.Duration {
	return time.Duration(c.h)*time.Hour + time.Duration(c.m)*time.Minute +
		time.Duration(c.s)*time.Second + time.Duration(c.ns)
}

// parseClock reads "hh:mm[:ss[.f]]" or "hhmm[ss]", up to 24:00:00.
func parseClock(s string) (clock, error) {
	frac := ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i+1:]
		if !allDigits(frac) {
			return clock{}, fmt.Errorf("bad fraction of a second")
		}
	}
	h, m, sec := -1, 0, 0
	switch {
	case len(s) == 5 && s[2] == ':':
		h, m = atoi2(s[:2]), atoi2(s[3:5])
	case len(s) == 8 && s[2] == ':' && s[5] == ':':
		h, m, sec = atoi2(s[:2]), atoi2(s[3:5]), atoi2(s[6:8])
	case len(s) == 4:
		h, m = atoi2(s[:2]), atoi2(s[2:4])
	case len(s) == 6:
		h, m, sec = atoi2(s[:2]), atoi2(s[2:4]), atoi2(s[4:6])
	}
	if h < 0 || m < 0 || sec < 0 {
		return clock{}, fmt.Errorf("not an ISO 8601 time")
	}
	if frac != "" && len(s) < 6 {
		return clock{}, fmt.Errorf("fraction without seconds")
	}
	ns := 0
	for i, scale := 0, int(1e8); i < len(frac) && i < 9; i, scale = i+1, scale/10 {
		ns += int(frac[i]-'0') * scale
	}
	if m > 59 || sec > 59 || h > 24 || h == 24 && (m > 0 || sec > 0 || ns > 0) {
		return clock{}, fmt.Errorf("time out of range")
	}
	return clock{h, m, sec, ns}, nil
}

// parseZone reads "Z", "±hh", "±hhmm" or "±hh:mm" into seconds east of UTC.
func parseZone(s string) (int, bool) {
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) < 3 || s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	h, m := atoi2(s[1:3]), 0
	switch rest := s[3:]; {
	case rest == "":
	case len(rest) == 3 && rest[0] == ':':
		m = atoi2(rest[1:])
	case len(rest) == 2:
		m = atoi2(rest)
	default:
		return 0, false
	}
	if h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// parseTimeOfDay reads a time or time.tz value: a clock and optional zone.
func parseTimeOfDay(s string) (TimeOfDay, error) {
	hms, zone := splitZone(s)
	c, err := parseClock(hms)
	if err != nil {
		return TimeOfDay{}, err
	}
	tod := TimeOfDay{FromMidnight: c.duration()}
	if zone != "" {
		off, ok := parseZone(zone)
		if !ok {
			return TimeOfDay{}, fmt.Errorf("bad time zone")
		}
		tod.HasOffset, tod.Offset = true, off
	}
	return tod, nil
}

// Encode writes v in t's wire format. It is strict: it writes the canonical
// form (boolean as 0 or 1, uuid in lower-case 8-4-4-4-12 form, whole seconds,
// four decimals for fixed.14.4) and checks the value against the type's range.
//
// v may be a value of t's Go type (see DataType) or of a convertible type:
// any integer kind for integer types, any integer or float kind for float
// types, a bool kind for boolean, a time.Time for time and time.tz, a url.URL
// for uri, a [16]byte for uuid; named types with these underlying kinds are
// accepted. A string (or string kind) is taken as a value in wire format: it
// is checked with Decode and written in canonical form, so Encode(" 1 ") for
// ui4 is "1" and for bin.hex a string must be hexadecimal.
//
// It returns a *ValueError for a bad value (OutOfRange set when v is outside
// the type's range) or an unsupported Go type, and an error wrapping
// ErrUnknownDataType if t is not Valid.
func (t DataType) Encode(v any) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("%w %q", ErrUnknownDataType, string(t))
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return "", t.invalid("<nil>", "nil value")
	}
	if rv.Kind() == reflect.String {
		d, err := t.Decode(rv.String())
		if err != nil {
			return "", err
		}
		v, rv = d, reflect.ValueOf(d)
	}
	show := func() string { return fmt.Sprint(v) }
	switch {
	case t.integer():
		return t.encodeInt(rv, show)
	case t.float():
		return t.encodeFloat(rv, show)
	}
	switch t {
	case TypeChar:
		if rv.Kind() != reflect.Int32 {
			break
		}
		r := rune(rv.Int())
		if !utf8.ValidRune(r) || !isXMLChar(r) {
			return "", t.invalid(show(), "not a character XML can carry")
		}
		return soap.MarshalChar(r)
	case TypeString:
		if rv.Kind() == reflect.String { // already checked by Decode
			return rv.String(), nil
		}
	case TypeBoolean:
		if rv.Kind() == reflect.Bool {
			return soap.MarshalBoolean(rv.Bool())
		}
	case TypeDate, TypeDateTime, TypeDateTimeTZ:
		tm, ok := v.(time.Time)
		if !ok {
			break
		}
		if !t.yearInRange(tm) {
			return "", t.outOfRange(show())
		}
		if t != TypeDateTimeTZ {
			tm = tm.In(time.Local)
		}
		switch t {
		case TypeDate:
			return soap.MarshalDate(tm)
		case TypeDateTime:
			return soap.MarshalDateTime(tm)
		}
		return soap.MarshalDateTimeTz(tm)
	case TypeTime, TypeTimeTZ:
		var tod TimeOfDay
		switch x := v.(type) {
		case TimeOfDay:
			tod = x
		case time.Time:
			_, off := x.Zone()
			h, m, s := x.Clock()
			tod = TimeOfDay{
				FromMidnight: time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second,
				HasOffset:    true,
				Offset:       off,
			}
		default:
			return "", t.unsupported(v)
		}
		if tod.FromMidnight < 0 || tod.FromMidnight > 24*time.Hour ||
			tod.HasOffset && (tod.Offset <= -24*3600 || tod.Offset >= 24*3600) {
			return "", t.outOfRange(show())
		}
		tod.FromMidnight = tod.FromMidnight.Truncate(time.Second)
		if t == TypeTime {
			return soap.MarshalTimeOfDay(tod)
		}
		tod.Offset -= tod.Offset % 60 // goupnp writes whole minutes
		return soap.MarshalTimeOfDayTz(tod)
	case TypeBinBase64, TypeBinHex:
		if rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() != reflect.Uint8 {
			break
		}
		b := rv.Bytes()
		if t == TypeBinHex {
			return soap.MarshalBinHex(b)
		}
		return soap.MarshalBinBase64(b)
	case TypeURI:
		var u *url.URL
		switch x := v.(type) {
		case *url.URL:
			u = x
		case url.URL:
			u = &x
		}
		if u == nil {
			break
		}
		s := u.String()
		if !validXMLText(s) {
			return "", t.invalid(s, "not valid UTF-8 XML text")
		}
		return s, nil
	case TypeUUID:
		if rv.Kind() == reflect.Array && rv.Len() == 16 && rv.Type().Elem().Kind() == reflect.Uint8 {
			var b [16]byte
			for i := range b {
				b[i] = byte(rv.Index(i).Uint())
			}
			s, _ := parseUUID(hex.EncodeToString(b[:]))
			return s, nil
		}
		// a string was decoded above into canonical form
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return "", t.unsupported(v)
}

func (t DataType) unsupported(v any) error {
	return t.invalid(fmt.Sprint(v), fmt.Sprintf("cannot encode Go type %T", v))
}

func (t DataType) encodeInt(rv reflect.Value, show func() string) (string, error) {
	var neg bool
	var mag uint64 // the absolute value
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := rv.Int()
		neg, mag = n < 0, uint64(n)
		if neg {
			mag = -mag
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		mag = rv.Uint()
	default:
		return "", t.unsupported(rv.Interface())
	}
	var maxPos, maxNeg uint64 // the largest magnitudes allowed
	switch t {
	case TypeUI1:
		maxPos = math.MaxUint8
	case TypeUI2:
		maxPos = math.MaxUint16
	case TypeUI4:
		maxPos = math.MaxUint32
	case TypeUI8:
		maxPos = math.MaxUint64
	case TypeI1:
		maxPos, maxNeg = math.MaxInt8, -math.MinInt8
	case TypeI2:
		maxPos, maxNeg = math.MaxInt16, -math.MinInt16
	case TypeI4:
		maxPos, maxNeg = math.MaxInt32, -math.MinInt32
	default: // i8, int
		maxPos, maxNeg = math.MaxInt64, 1<<63
	}
	if neg && mag > maxNeg || !neg && mag > maxPos {
		return "", t.outOfRange(show())
	}
	// Write through goupnp's codecs, which format each type.
	switch t {
	case TypeUI1:
		return soap.MarshalUi1(uint8(mag))
	case TypeUI2:
		return soap.MarshalUi2(uint16(mag))
	case TypeUI4:
		return soap.MarshalUi4(uint32(mag))
	case TypeUI8:
		return soap.MarshalUi8(mag)
	}
	n := int64(mag)
	if neg {
		n = -n
	}
	switch t {
	case TypeI1:
		return soap.MarshalI1(int8(n))
	case TypeI2:
		return soap.MarshalI2(int16(n))
	case TypeI4:
		return soap.MarshalI4(int32(n))
	}
	return soap.MarshalInt(n)
}

func (t DataType) encodeFloat(rv reflect.Value, show func() string) (string, error) {
	var f float64
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		f = rv.Float()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f = float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f = float64(rv.Uint())
	default:
		return "", t.unsupported(rv.Interface())
	}
	if math.IsNaN(f) {
		return "", t.invalid(show(), "NaN")
	}
	switch t {
	case TypeR4:
		if math.Abs(f) > math.MaxFloat32 {
			return "", t.outOfRange(show())
		}
		return soap.MarshalR4(float32(f))
	case TypeFixed14_4:
		if !fixed14_4InRange(f) {
			return "", t.outOfRange(show())
		}
		return soap.MarshalFixed14_4(f)
	}
	if math.IsInf(f, 0) {
		return "", t.outOfRange(show())
	}
	return soap.MarshalR8(f)
}
