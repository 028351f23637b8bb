package upnp_test

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp"
)

// Fuzz targets, seeded from testdata; findings stay in testdata/fuzz as
// regressions. Run one with, for example:
//
//	go test -run XXX -fuzz FuzzParseDescription -fuzztime 45s .

func FuzzParseDescription(f *testing.F) {
	files, _ := filepath.Glob("testdata/descriptions/*/description.xml")
	golden, _ := filepath.Glob("testdata/golden/*.description.xml")
	for _, name := range append(files, golden...) {
		f.Add(readFile(f, name))
	}
	f.Add(lenient(`<d:root xmlns:d="urn:schemas-upnp-org:device-1-0" configId="1">`, `</d:root>`, minimalDevice))
	f.Add([]byte(`<ROOT><URLBase>http://h/</URLBase><Device><UDN>uuid:1</UDN></Device></ROOT>`))
	base, _ := url.Parse("http://10.0.0.1:80/desc.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := upnp.ParseDescription(b)
		if err != nil {
			return
		}
		for d := range r.Device.All() {
			for _, s := range d.Services {
				_, _ = r.ResolveURL(base, s.ControlURL)
				_ = r.Device.FindService(s.ServiceID)
			}
			_ = r.Device.FindDevice(d.UDN)
		}
		if r.Validate() != nil {
			if _, err := r.Marshal(); err == nil {
				t.Fatal("Marshal wrote a description Validate rejects")
			}
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a valid description: %v", err)
		}
		r2, err := upnp.ParseDescription(out)
		if err != nil {
			t.Fatalf("ParseDescription(Marshal()): %v\n%s", err, out)
		}
		if diff := cmp.Diff(r, r2); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

func FuzzParseSCPD(f *testing.F) {
	files, _ := filepath.Glob("testdata/descriptions/*/*.scpd.xml")
	golden, _ := filepath.Glob("testdata/golden/*.scpd.xml")
	for _, name := range append(files, golden...) {
		f.Add(readFile(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := upnp.ParseSCPD(b)
		if err != nil {
			return
		}
		for i := range s.StateVariables {
			v := &s.StateVariables[i]
			_, _ = v.Decode(v.Default) // must not panic, whatever the SCPD says
			if v.Range != nil {
				_, _ = v.Decode(v.Range.Maximum)
			}
		}
		if s.Validate() != nil {
			if _, err := s.Marshal(); err == nil {
				t.Fatal("Marshal wrote an SCPD Validate rejects")
			}
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a valid SCPD: %v", err)
		}
		s2, err := upnp.ParseSCPD(out)
		if err != nil {
			t.Fatalf("ParseSCPD(Marshal()): %v\n%s", err, out)
		}
		if diff := cmp.Diff(s, s2); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

// FuzzDecode checks every data type: what Decode accepts, Encode writes,
// and the canonical form is a fixed point of decoding and encoding; Encode
// of the string itself agrees.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		"0", "255", "-129", "18446744073709551616", " 42 ", "+7", "1.5E+38", "-0.0001",
		"99999999999999.9999", "NaN", "a", " ", "2024-02-29", "2024-01-02T03:04:05.123+05:30",
		"24:00:00", "23:59:59Z", "Yes", "aGVsbG8", "DEADbeef", "http://10.0.0.1/a?b#c",
		"uuid:4d696e69-444c-164e-9d41-027700000002", "",
	}
	// Values from the captured SCPDs: defaults, allowed values, bounds.
	files, _ := filepath.Glob("testdata/descriptions/*/*.scpd.xml")
	for _, name := range files {
		s, err := upnp.ParseSCPD(readFile(f, name))
		if err != nil {
			f.Fatal(err)
		}
		for _, v := range s.StateVariables {
			seeds = append(seeds, v.Default)
			seeds = append(seeds, v.AllowedValues...)
			if v.Range != nil {
				seeds = append(seeds, v.Range.Minimum, v.Range.Maximum, v.Range.Step)
			}
		}
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, i uint8, s string) {
		typ := allTypes[int(i)%len(allTypes)]
		checkFixedPoint(t, typ, s)
		v, err := typ.Decode(s)
		enc, encErr := typ.Encode(s)
		if (err == nil) != (encErr == nil) {
			t.Fatalf("%s: Decode(%q) err %v but Encode(%q) err %v", typ, s, err, s, encErr)
		}
		if err != nil {
			return
		}
		enc2, _ := typ.Encode(v)
		if enc != enc2 {
			t.Fatalf("%s: Encode(%q) = %q but Encode(Decode()) = %q", typ, s, enc, enc2)
		}
	})
}
