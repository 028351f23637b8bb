package gena_test

import (
	"encoding/xml"
	"testing"

	"github.com/seedb72249f9/upnp/internal/gena"
)

// github.com/huin/goupnp (v1.3.1) has no eventing, so there is nothing of
// it to compare with. The encoding/xml.Unmarshal sub-benchmark is for scale
// only: the usual struct-tag decoding of a property set, which is neither
// bounded nor lenient about several variables per property in the same way.

var benchBodies = []struct{ name, file string }{
	{"LastChange-AVTransport-initial", "testdata/events/gmediarender-AVTransport-seq0.xml"},
	{"LastChange-AVTransport-metadata", "testdata/events/gmediarender-AVTransport-seq3.xml"},
	{"LastChange-RenderingControl-initial", "testdata/events/gmediarender-RenderingControl-seq0.xml"},
	{"miniupnpd-WANIPConnection", "testdata/events/miniupnpd-WANIPConnection-seq0.xml"},
}

type xmlPropertySet struct {
	Properties []struct {
		Vars []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	} `xml:"property"`
}

func BenchmarkParsePropertySet(b *testing.B) {
	for _, bc := range benchBodies {
		body := readFile(b, bc.file)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := gena.ParsePropertySet(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	body := readFile(b, benchBodies[0].file)
	b.Run(benchBodies[0].name+"/encoding-xml-Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var ps xmlPropertySet
			if err := xml.Unmarshal(body, &ps); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParseLastChange(b *testing.B) {
	for _, bc := range benchBodies[:3] {
		props, err := gena.ParsePropertySet(readFile(b, bc.file))
		if err != nil {
			b.Fatal(err)
		}
		value := props[0].Value
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := gena.ParseLastChange(value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendPropertySet(b *testing.B) {
	for _, bc := range benchBodies {
		props, err := gena.ParsePropertySet(readFile(b, bc.file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				if buf, err = gena.AppendPropertySet(buf[:0], props); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkAppendLastChangeEvent is the device's path for a LastChange
// event: the Event XML from the changes, then the property set around it.
func BenchmarkAppendLastChangeEvent(b *testing.B) {
	for _, bc := range benchBodies[:3] {
		props, err := gena.ParsePropertySet(readFile(b, bc.file))
		if err != nil {
			b.Fatal(err)
		}
		changes, err := gena.ParseLastChange(props[0].Value)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var value, body []byte
			for b.Loop() {
				if value, err = gena.AppendLastChange(value[:0], gena.NamespaceAVT, changes); err != nil {
					b.Fatal(err)
				}
				if body, err = gena.AppendPropertySet(body[:0], []gena.Property{{Name: "LastChange", Value: string(value)}}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(body)))
		})
	}
}

func BenchmarkMulticast(b *testing.B) {
	ev := &gena.MulticastEvent{USN: lightUSN, SVCID: lightSVCID, LVL: gena.LevelInfo, SEQ: 7, BootID: 1,
		Props: []gena.Property{{"Status", "1"}, {"LoadLevelStatus", "100"}}}
	datagram, err := gena.AppendMulticast(nil, ev)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			if buf, err = gena.AppendMulticast(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("Parse", func(b *testing.B) {
		b.SetBytes(int64(len(datagram)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gena.ParseMulticast(datagram); err != nil {
				b.Fatal(err)
			}
		}
	})
}
