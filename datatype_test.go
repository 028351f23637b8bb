package upnp_test

import (
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp"
)

// Outcomes of a decode or encode.
const (
	ok = iota
	invalid
	outOfRange
)

func outcome(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return ok
	}
	var ve *upnp.ValueError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *upnp.ValueError", err, err)
	}
	if ve.OutOfRange {
		if ve.Code() != upnp.CodeArgumentValueOutOfRange {
			t.Errorf("Code() = %d", ve.Code())
		}
		return outOfRange
	}
	if ve.Code() != upnp.CodeArgumentValueInvalid {
		t.Errorf("Code() = %d", ve.Code())
	}
	return invalid
}

var outcomeName = map[int]string{ok: "ok", invalid: "invalid", outOfRange: "out of range"}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func tod(h, m, s int) time.Duration {
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
}

func TestDecode(t *testing.T) {
	local := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.Local)
	}
	plus2 := time.FixedZone("", 2*3600)
	minus530 := time.FixedZone("", -(5*3600 + 30*60))
	tests := []struct {
		typ  upnp.DataType
		in   string
		want any // when ok
		res  int
	}{
		// Unsigned integers: bounds, spacing, signs, garbage.
		{upnp.TypeUI1, "0", uint8(0), ok},
		{upnp.TypeUI1, "255", uint8(255), ok},
		{upnp.TypeUI1, "256", nil, outOfRange},
		{upnp.TypeUI1, "-1", nil, outOfRange},
		{upnp.TypeUI1, "-0", uint8(0), ok},
		{upnp.TypeUI1, "+7", uint8(7), ok},
		{upnp.TypeUI1, " \n\t 42 \r\n", uint8(42), ok},
		{upnp.TypeUI1, "007", uint8(7), ok},
		{upnp.TypeUI1, "", nil, invalid},
		{upnp.TypeUI1, "1.0", nil, invalid},
		{upnp.TypeUI1, "0x10", nil, invalid},
		{upnp.TypeUI1, "1_0", nil, invalid},
		{upnp.TypeUI1, "4 2", nil, invalid},
		{upnp.TypeUI1, "++1", nil, invalid},
		{upnp.TypeUI2, "65535", uint16(65535), ok},
		{upnp.TypeUI2, "65536", nil, outOfRange},
		{upnp.TypeUI4, "4294967295", uint32(4294967295), ok},
		{upnp.TypeUI4, "4294967296", nil, outOfRange},
		{upnp.TypeUI4, "abc", nil, invalid},
		{upnp.TypeUI8, "18446744073709551615", uint64(math.MaxUint64), ok},
		{upnp.TypeUI8, "18446744073709551616", nil, outOfRange},
		{upnp.TypeUI8, "99999999999999999999999999999", nil, outOfRange},
		// Signed integers.
		{upnp.TypeI1, "-128", int8(-128), ok},
		{upnp.TypeI1, "127", int8(127), ok},
		{upnp.TypeI1, "+127", int8(127), ok},
		{upnp.TypeI1, "128", nil, outOfRange},
		{upnp.TypeI1, "-129", nil, outOfRange},
		{upnp.TypeI1, "-", nil, invalid},
		{upnp.TypeI2, "-32768", int16(-32768), ok},
		{upnp.TypeI2, "32768", nil, outOfRange},
		{upnp.TypeI4, "-2147483648", int32(math.MinInt32), ok},
		{upnp.TypeI4, "2147483647", int32(math.MaxInt32), ok},
		{upnp.TypeI4, "2147483648", nil, outOfRange},
		{upnp.TypeI4, " -5 ", int32(-5), ok},
		{upnp.TypeI8, "-9223372036854775808", int64(math.MinInt64), ok},
		{upnp.TypeI8, "9223372036854775808", nil, outOfRange},
		{upnp.TypeInt, "9223372036854775807", int64(math.MaxInt64), ok},
		{upnp.TypeInt, "-9223372036854775809", nil, outOfRange},
		{upnp.TypeInt, "1e3", nil, invalid},
		// Floats.
		{upnp.TypeR4, "3.4028235E+38", float32(math.MaxFloat32), ok},
		{upnp.TypeR4, "3.5E+38", nil, outOfRange},
		{upnp.TypeR4, "-1.5", float32(-1.5), ok},
		{upnp.TypeR4, "1.17549435E-38", float32(1.17549435e-38), ok},
		{upnp.TypeR8, "1.79769313486232E308", nil, outOfRange},
		{upnp.TypeR8, "1.7976931348623157E308", math.MaxFloat64, ok},
		{upnp.TypeR8, "4.94065645841247E-324", 5e-324, ok},
		{upnp.TypeR8, " 0.5 ", 0.5, ok},
		{upnp.TypeR8, ".5", 0.5, ok},
		{upnp.TypeR8, "5.", 5.0, ok},
		{upnp.TypeR8, "-00012.50e+01", -125.0, ok},
		{upnp.TypeR8, "1e", nil, invalid},
		{upnp.TypeR8, ".", nil, invalid},
		{upnp.TypeR8, "NaN", nil, invalid},
		{upnp.TypeR8, "Inf", nil, invalid},
		{upnp.TypeR8, "-infinity", nil, invalid},
		{upnp.TypeR8, "0x1p3", nil, invalid},
		{upnp.TypeR8, "1_000", nil, invalid},
		{upnp.TypeR8, "1,5", nil, invalid},
		{upnp.TypeNumber, "42", 42.0, ok},
		{upnp.TypeFloat, "-1E-3", -0.001, ok},
		{upnp.TypeFixed14_4, "12345678901234.1234", 12345678901234.1234, ok},
		{upnp.TypeFixed14_4, "-99999999999999.99", -99999999999999.99, ok},
		{upnp.TypeFixed14_4, "100000000000000", nil, outOfRange},
		{upnp.TypeFixed14_4, "1e14", nil, outOfRange},
		{upnp.TypeFixed14_4, "1.23456", 1.23456, ok}, // extra decimals: lenient
		{upnp.TypeFixed14_4, "abc", nil, invalid},
		// char and string.
		{upnp.TypeChar, "a", 'a', ok},
		{upnp.TypeChar, "€", '€', ok},
		{upnp.TypeChar, " ", ' ', ok},
		{upnp.TypeChar, " x\n", 'x', ok},
		{upnp.TypeChar, "ab", nil, invalid},
		{upnp.TypeChar, "", nil, invalid},
		{upnp.TypeChar, "\xff", nil, invalid},
		{upnp.TypeChar, "\x01", nil, invalid},
		{upnp.TypeString, " keep  spaces ", " keep  spaces ", ok},
		{upnp.TypeString, "", "", ok},
		{upnp.TypeString, "a\x00b", nil, invalid},
		{upnp.TypeString, "\xc3", nil, invalid},
		// Dates and times.
		{upnp.TypeDate, "2024-02-29", local(2024, 2, 29, 0, 0, 0, 0), ok},
		{upnp.TypeDate, "20240229", local(2024, 2, 29, 0, 0, 0, 0), ok},
		{upnp.TypeDate, "2024-07", local(2024, 7, 1, 0, 0, 0, 0), ok},
		{upnp.TypeDate, "2024", local(2024, 1, 1, 0, 0, 0, 0), ok},
		{upnp.TypeDate, " 1999-12-31 ", local(1999, 12, 31, 0, 0, 0, 0), ok},
		{upnp.TypeDate, "2023-02-29", nil, invalid},
		{upnp.TypeDate, "2024-13-01", nil, invalid},
		{upnp.TypeDate, "2024-00-10", nil, invalid},
		{upnp.TypeDate, "2024-01-02T10:00:00", nil, invalid},
		{upnp.TypeDate, "24-01-02", nil, invalid},
		{upnp.TypeDate, "yesterday", nil, invalid},
		{upnp.TypeDateTime, "2024-01-02T03:04:05", local(2024, 1, 2, 3, 4, 5, 0), ok},
		{upnp.TypeDateTime, "2024-01-02T03:04", local(2024, 1, 2, 3, 4, 0, 0), ok},
		{upnp.TypeDateTime, "2024-01-02 03:04:05", local(2024, 1, 2, 3, 4, 5, 0), ok},
		{upnp.TypeDateTime, "2024-01-02T03:04:05.25", local(2024, 1, 2, 3, 4, 5, 250_000_000), ok},
		{upnp.TypeDateTime, "2024-01-02T03:04:05.1234567891", local(2024, 1, 2, 3, 4, 5, 123_456_789), ok},
		{upnp.TypeDateTime, "2024-01-02", local(2024, 1, 2, 0, 0, 0, 0), ok},
		{upnp.TypeDateTime, "2024-01-02T24:00:00", local(2024, 1, 3, 0, 0, 0, 0), ok},
		{upnp.TypeDateTime, "2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ok},
		{upnp.TypeDateTime, "2024-01-02T24:00:01", nil, invalid},
		{upnp.TypeDateTime, "2024-01-02T03:60:00", nil, invalid},
		{upnp.TypeDateTime, "2024-01-02T03:04:60", nil, invalid},
		{upnp.TypeDateTime, "2024-01-02T03:04:05.", nil, invalid},
		{upnp.TypeDateTime, "2024-01-02T3:04:05", nil, invalid},
		{upnp.TypeDateTime, "2024-01-02T", nil, invalid},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05+02:00", time.Date(2024, 1, 2, 3, 4, 5, 0, plus2), ok},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05+0200", time.Date(2024, 1, 2, 3, 4, 5, 0, plus2), ok},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05+02", time.Date(2024, 1, 2, 3, 4, 5, 0, plus2), ok},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05-05:30", time.Date(2024, 1, 2, 3, 4, 5, 0, minus530), ok},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ok},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05", local(2024, 1, 2, 3, 4, 5, 0), ok},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05+24:00", nil, invalid},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05+02:60", nil, invalid},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05 +02:00", nil, invalid},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05+2", nil, invalid},
		{upnp.TypeTime, "03:04:05", upnp.TimeOfDay{FromMidnight: tod(3, 4, 5)}, ok},
		{upnp.TypeTime, "030405", upnp.TimeOfDay{FromMidnight: tod(3, 4, 5)}, ok},
		{upnp.TypeTime, "03:04", upnp.TimeOfDay{FromMidnight: tod(3, 4, 0)}, ok},
		{upnp.TypeTime, "00:00:00", upnp.TimeOfDay{}, ok},
		{upnp.TypeTime, "24:00:00", upnp.TimeOfDay{FromMidnight: 24 * time.Hour}, ok},
		{upnp.TypeTime, "23:59:59.5", upnp.TimeOfDay{FromMidnight: tod(23, 59, 59) + 500*time.Millisecond}, ok},
		{upnp.TypeTime, "25:00:00", nil, invalid},
		{upnp.TypeTime, "12:00:00Z", upnp.TimeOfDay{FromMidnight: tod(12, 0, 0), HasOffset: true}, ok},
		{upnp.TypeTime, "noon", nil, invalid},
		{upnp.TypeTimeTZ, "03:04:05-01:00", upnp.TimeOfDay{FromMidnight: tod(3, 4, 5), HasOffset: true, Offset: -3600}, ok},
		{upnp.TypeTimeTZ, "03:04:05", upnp.TimeOfDay{FromMidnight: tod(3, 4, 5)}, ok},
		{upnp.TypeTimeTZ, "03:04:05+", nil, invalid},
		// Booleans: 0/1/true/false/yes/no in any case.
		{upnp.TypeBoolean, "1", true, ok},
		{upnp.TypeBoolean, "0", false, ok},
		{upnp.TypeBoolean, "true", true, ok},
		{upnp.TypeBoolean, "TRUE", true, ok},
		{upnp.TypeBoolean, "False", false, ok},
		{upnp.TypeBoolean, "yes", true, ok},
		{upnp.TypeBoolean, "No", false, ok},
		{upnp.TypeBoolean, " 1\n", true, ok},
		{upnp.TypeBoolean, "2", nil, invalid},
		{upnp.TypeBoolean, "", nil, invalid},
		{upnp.TypeBoolean, "on", nil, invalid},
		// Binary.
		{upnp.TypeBinBase64, "aGVsbG8=", []byte("hello"), ok},
		{upnp.TypeBinBase64, "aGVs\nbG8=\n", []byte("hello"), ok},
		{upnp.TypeBinBase64, "aGVsbG8", []byte("hello"), ok},
		{upnp.TypeBinBase64, "", []byte{}, ok},
		{upnp.TypeBinBase64, "a!==", nil, invalid},
		{upnp.TypeBinHex, "DEADbeef", []byte{0xde, 0xad, 0xbe, 0xef}, ok},
		{upnp.TypeBinHex, "de ad", []byte{0xde, 0xad}, ok},
		{upnp.TypeBinHex, "abc", nil, invalid},
		{upnp.TypeBinHex, "zz", nil, invalid},
		// uri and uuid.
		{upnp.TypeURI, "http://10.0.0.1:8200/MediaItems/28.mp3", mustURL("http://10.0.0.1:8200/MediaItems/28.mp3"), ok},
		{upnp.TypeURI, " urn:x ", mustURL("urn:x"), ok},
		{upnp.TypeURI, "http://[::1", nil, invalid},
		{upnp.TypeURI, "http://a\x7fb/", nil, invalid},
		{upnp.TypeUUID, "4D696E69-444C-164E-9D41-027700000002", "4d696e69-444c-164e-9d41-027700000002", ok},
		{upnp.TypeUUID, "4d696e69444c164e9d41027700000002", "4d696e69-444c-164e-9d41-027700000002", ok},
		{upnp.TypeUUID, "uuid:4d696e69-444c-164e-9d41-027700000002", "4d696e69-444c-164e-9d41-027700000002", ok},
		{upnp.TypeUUID, "{4d696e69-444c-164e-9d41-027700000002}", "4d696e69-444c-164e-9d41-027700000002", ok},
		{upnp.TypeUUID, "4d696e69-444c-164e-9d41-0277000000", nil, invalid},
		{upnp.TypeUUID, "4d696e69-444c-164e-9d41-02770000000200", nil, invalid},
		{upnp.TypeUUID, "4d696e69-444c-164e-9d41-02770000000g", nil, invalid},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.in, func(t *testing.T) {
			got, err := tt.typ.Decode(tt.in)
			if res := outcome(t, err); res != tt.res {
				t.Fatalf("Decode(%q) = %v, %v; want %s", tt.in, got, err, outcomeName[tt.res])
			}
			if tt.res != ok {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b *url.URL) bool { return a.String() == b.String() })); diff != "" {
				t.Errorf("Decode(%q) (-want +got):\n%s", tt.in, diff)
			}
			if tm, isTime := got.(time.Time); isTime {
				_, wantOff := tt.want.(time.Time).Zone()
				if _, off := tm.Zone(); off != wantOff {
					t.Errorf("zone offset = %d, want %d", off, wantOff)
				}
			}
		})
	}
}

func TestEncode(t *testing.T) {
	type myBool bool
	type volume uint16
	type proto string
	utc := time.Date(2024, 1, 2, 3, 4, 5, 999, time.UTC)
	tests := []struct {
		typ  upnp.DataType
		in   any
		want string
		res  int
	}{
		{upnp.TypeUI1, uint8(255), "255", ok},
		{upnp.TypeUI1, 255, "255", ok},
		{upnp.TypeUI1, 256, "", outOfRange},
		{upnp.TypeUI1, -1, "", outOfRange},
		{upnp.TypeUI1, " 7 ", "7", ok},
		{upnp.TypeUI1, "300", "", outOfRange},
		{upnp.TypeUI1, "x", "", invalid},
		{upnp.TypeUI1, 1.0, "", invalid},
		{upnp.TypeUI2, volume(40), "40", ok},
		{upnp.TypeUI4, uint64(math.MaxUint32), "4294967295", ok},
		{upnp.TypeUI4, uint64(math.MaxUint32) + 1, "", outOfRange},
		{upnp.TypeUI8, uint64(math.MaxUint64), "18446744073709551615", ok},
		{upnp.TypeUI8, int64(-1), "", outOfRange},
		{upnp.TypeI1, -128, "-128", ok},
		{upnp.TypeI1, int64(-129), "", outOfRange},
		{upnp.TypeI1, uint8(128), "", outOfRange},
		{upnp.TypeI2, int16(-32768), "-32768", ok},
		{upnp.TypeI4, math.MaxInt32, "2147483647", ok},
		{upnp.TypeI4, int64(math.MaxInt32) + 1, "", outOfRange},
		{upnp.TypeI8, int64(math.MinInt64), "-9223372036854775808", ok},
		{upnp.TypeInt, uint64(math.MaxInt64), "9223372036854775807", ok},
		{upnp.TypeInt, uint64(math.MaxInt64) + 1, "", outOfRange},
		{upnp.TypeR4, float32(1.5), "1.5", ok},
		{upnp.TypeR4, 1e39, "", outOfRange},
		{upnp.TypeR4, 7, "7", ok},
		{upnp.TypeR8, 0.001, "0.001", ok},
		{upnp.TypeR8, 1e21, "1E+21", ok},
		{upnp.TypeR8, math.Inf(1), "", outOfRange},
		{upnp.TypeR8, math.NaN(), "", invalid},
		{upnp.TypeR8, " 2.50 ", "2.5", ok},
		{upnp.TypeNumber, uint64(3), "3", ok},
		{upnp.TypeFloat, -0.5, "-0.5", ok},
		{upnp.TypeFixed14_4, 1.23456, "1.2346", ok},
		{upnp.TypeFixed14_4, 99999999999999.0, "99999999999999.0000", ok},
		{upnp.TypeFixed14_4, 1e14, "", outOfRange},
		{upnp.TypeFixed14_4, "5", "5.0000", ok},
		{upnp.TypeChar, 'x', "x", ok},
		{upnp.TypeChar, "€", "€", ok},
		{upnp.TypeChar, rune(0), "", invalid},
		{upnp.TypeChar, rune(0xD800), "", invalid},
		{upnp.TypeChar, 120, "", invalid}, // an int is not a rune
		{upnp.TypeString, " as is ", " as is ", ok},
		{upnp.TypeString, proto("TCP"), "TCP", ok},
		{upnp.TypeString, "bad\x00", "", invalid},
		{upnp.TypeString, 5, "", invalid},
		{upnp.TypeBoolean, true, "1", ok},
		{upnp.TypeBoolean, false, "0", ok},
		{upnp.TypeBoolean, myBool(true), "1", ok},
		{upnp.TypeBoolean, "yes", "1", ok},
		{upnp.TypeBoolean, "FALSE", "0", ok},
		{upnp.TypeBoolean, "maybe", "", invalid},
		{upnp.TypeBoolean, 1, "", invalid},
		{upnp.TypeDate, time.Date(2024, 2, 29, 23, 0, 0, 0, time.Local), "2024-02-29", ok},
		{upnp.TypeDate, "20240229", "2024-02-29", ok},
		{upnp.TypeDateTime, time.Date(2024, 1, 2, 3, 4, 5, 999, time.Local), "2024-01-02T03:04:05", ok},
		{upnp.TypeDateTime, time.Date(10000, 1, 1, 0, 0, 0, 0, time.Local), "", outOfRange},
		{upnp.TypeDateTime, "2024-01-02T03:04:05.5", "2024-01-02T03:04:05", ok},
		{upnp.TypeDateTimeTZ, utc, "2024-01-02T03:04:05+00:00", ok},
		{upnp.TypeDateTimeTZ, time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", -5*3600-1800)), "2024-01-02T03:04:05-05:30", ok},
		{upnp.TypeDateTimeTZ, "2024-01-02T03:04:05+0200", "2024-01-02T03:04:05+02:00", ok},
		{upnp.TypeDateTimeTZ, 5, "", invalid},
		{upnp.TypeTime, upnp.TimeOfDay{FromMidnight: tod(3, 4, 5) + 999}, "03:04:05", ok},
		{upnp.TypeTime, upnp.TimeOfDay{FromMidnight: 24 * time.Hour}, "24:00:00", ok},
		{upnp.TypeTime, upnp.TimeOfDay{FromMidnight: 24*time.Hour + 1}, "", outOfRange},
		{upnp.TypeTime, upnp.TimeOfDay{FromMidnight: -1}, "", outOfRange},
		{upnp.TypeTime, upnp.TimeOfDay{FromMidnight: tod(1, 0, 0), HasOffset: true, Offset: 3600}, "01:00:00", ok},
		{upnp.TypeTime, utc, "03:04:05", ok},
		{upnp.TypeTimeTZ, upnp.TimeOfDay{FromMidnight: tod(1, 0, 0), HasOffset: true, Offset: -3600}, "01:00:00-01:00", ok},
		{upnp.TypeTimeTZ, upnp.TimeOfDay{FromMidnight: tod(1, 0, 0), HasOffset: true}, "01:00:00Z", ok},
		{upnp.TypeTimeTZ, upnp.TimeOfDay{FromMidnight: tod(1, 0, 0), HasOffset: true, Offset: -30}, "01:00:00Z", ok},
		{upnp.TypeTimeTZ, upnp.TimeOfDay{FromMidnight: tod(1, 0, 0), HasOffset: true, Offset: 24 * 3600}, "", outOfRange},
		{upnp.TypeTimeTZ, upnp.TimeOfDay{FromMidnight: tod(1, 0, 0)}, "01:00:00", ok},
		{upnp.TypeTimeTZ, "01:00+05:45", "01:00:00+05:45", ok},
		{upnp.TypeBinBase64, []byte("hello"), "aGVsbG8=", ok},
		{upnp.TypeBinBase64, "aGVs bG8", "aGVsbG8=", ok},
		{upnp.TypeBinBase64, []byte{}, "", ok},
		{upnp.TypeBinHex, []byte{0xDE, 0xAD}, "dead", ok},
		{upnp.TypeBinHex, "DEAD", "dead", ok},
		{upnp.TypeBinHex, "hello", "", invalid},
		{upnp.TypeURI, mustURL("http://a/b?c=d"), "http://a/b?c=d", ok},
		{upnp.TypeURI, *mustURL("http://a/b"), "http://a/b", ok},
		{upnp.TypeURI, " http://a/b ", "http://a/b", ok},
		{upnp.TypeURI, (*url.URL)(nil), "", invalid},
		{upnp.TypeUUID, "4D696E69444C164E9D41027700000002", "4d696e69-444c-164e-9d41-027700000002", ok},
		{upnp.TypeUUID, [16]byte{0x4d, 0x69, 0x6e, 0x69, 0x44, 0x4c, 0x16, 0x4e, 0x9d, 0x41, 0x02, 0x77, 0, 0, 0, 2}, "4d696e69-444c-164e-9d41-027700000002", ok},
		{upnp.TypeUUID, "nope", "", invalid},
		{upnp.TypeUI4, nil, "", invalid},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			got, err := tt.typ.Encode(tt.in)
			if res := outcome(t, err); res != tt.res {
				t.Fatalf("Encode(%#v) = %q, %v; want %s", tt.in, got, err, outcomeName[tt.res])
			}
			if got != tt.want {
				t.Errorf("Encode(%#v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUnknownDataType(t *testing.T) {
	for _, typ := range []upnp.DataType{"", "String", "int32", "dateTime.TZ"} {
		if typ.Valid() {
			t.Errorf("%q.Valid() = true", typ)
		}
		if _, err := typ.Decode("1"); !errors.Is(err, upnp.ErrUnknownDataType) {
			t.Errorf("%q.Decode: err = %v, want ErrUnknownDataType", typ, err)
		}
		if _, err := typ.Encode("1"); !errors.Is(err, upnp.ErrUnknownDataType) {
			t.Errorf("%q.Encode: err = %v, want ErrUnknownDataType", typ, err)
		}
	}
}

var allTypes = []upnp.DataType{
	upnp.TypeUI1, upnp.TypeUI2, upnp.TypeUI4, upnp.TypeUI8,
	upnp.TypeI1, upnp.TypeI2, upnp.TypeI4, upnp.TypeI8, upnp.TypeInt,
	upnp.TypeR4, upnp.TypeR8, upnp.TypeNumber, upnp.TypeFixed14_4, upnp.TypeFloat,
	upnp.TypeChar, upnp.TypeString,
	upnp.TypeDate, upnp.TypeDateTime, upnp.TypeDateTimeTZ, upnp.TypeTime, upnp.TypeTimeTZ,
	upnp.TypeBoolean, upnp.TypeBinBase64, upnp.TypeBinHex, upnp.TypeURI, upnp.TypeUUID,
}

func TestValid(t *testing.T) {
	if len(allTypes) != 26 {
		t.Fatalf("%d types", len(allTypes))
	}
	for _, typ := range allTypes {
		if !typ.Valid() {
			t.Errorf("%q.Valid() = false", typ)
		}
	}
}

// TestEncodeDecodedIsFixedPoint checks, for samples of every type, that the
// canonical form Encode writes decodes to a value that encodes the same.
func TestEncodeDecodedIsFixedPoint(t *testing.T) {
	samples := []string{
		"0", "1", "-1", "255", "-128", "65535", "4294967295", "18446744073709551615",
		"1.5", "-2.25e3", "3.4028235E+38", "12345678901234.5678", "a", " ", "€",
		"2024-02-29", "2024-01-02T03:04:05.5", "2024-01-02T03:04:05-05:30",
		"24:00:00", "23:59:59+01:00", "yes", "aGVsbG8=", "DEAD", "http://a/b c",
		"4d696e69-444c-164e-9d41-027700000002", "",
	}
	for _, typ := range allTypes {
		for _, s := range samples {
			checkFixedPoint(t, typ, s)
		}
	}
}

func checkFixedPoint(t *testing.T, typ upnp.DataType, s string) {
	t.Helper()
	v, err := typ.Decode(s)
	if err != nil {
		return
	}
	enc, err := typ.Encode(v)
	if err != nil {
		t.Fatalf("%s: Decode(%q) = %#v, but Encode: %v", typ, s, v, err)
	}
	v2, err := typ.Decode(enc)
	if err != nil {
		t.Fatalf("%s: Decode(Encode(Decode(%q))) = Decode(%q): %v", typ, s, enc, err)
	}
	enc2, err := typ.Encode(v2)
	if err != nil || enc2 != enc {
		t.Fatalf("%s: %q encodes to %q, then to %q, %v", typ, s, enc, enc2, err)
	}
	if strings.ContainsAny(enc, "\x00") {
		t.Fatalf("%s: %q encodes to %q", typ, s, enc)
	}
}
