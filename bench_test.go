package upnp_test

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/huin/goupnp"
	"github.com/huin/goupnp/scpd"
	"github.com/seedb72249f9/upnp"
)

// The goupnp sub-benchmarks decode the same bytes the way goupnp does after
// fetching (goupnp.go requestXml: an xml.Decoder into goupnp.RootDevice or
// scpd.SCPD), without the bounds checks our parsers add.

func BenchmarkParseDescription(b *testing.B) {
	in := readFile(b, "testdata/descriptions/gmediarender-MediaRenderer1/description.xml")
	b.Run("upnp", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := upnp.ParseDescription(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goupnp", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			var root goupnp.RootDevice
			d := xml.NewDecoder(bytes.NewReader(in))
			d.CharsetReader = goupnp.CharsetReaderDefault
			if err := d.Decode(&root); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParseSCPD(b *testing.B) {
	in := readFile(b, "testdata/descriptions/gmediarender-MediaRenderer1/AVTransport-1.scpd.xml")
	b.Run("upnp", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := upnp.ParseSCPD(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goupnp", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			var s scpd.SCPD
			d := xml.NewDecoder(bytes.NewReader(in))
			if err := d.Decode(&s); err != nil {
				b.Fatal(err)
			}
			s.Clean()
		}
	})
}

func BenchmarkMarshalDescription(b *testing.B) {
	r := parseDescription(b, "testdata/descriptions/gmediarender-MediaRenderer1/description.xml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = upnp.TypeUI4.Decode("604800")
		_, _ = upnp.TypeBoolean.Decode("1")
		_, _ = upnp.TypeString.Decode("urn:schemas-upnp-org:service:AVTransport:1")
	}
}
