package ssdp_test

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	goupnpssdp "github.com/huin/goupnp/ssdp"

	"github.com/seedb72249f9/upnp/ssdp"
)

// benchPackets are the real datagrams the benchmarks read; docs/benchmarks.md
// reports the results.
var benchPackets = []struct{ name, file string }{
	{"response", "response-libupnp-v4.ssdp"},     // 480 bytes, 10 headers, 3 of them unknown
	{"notify", "notify-miniupnpd-alive-v4.ssdp"}, // 406 bytes, 11 headers, 2 unknown, BOOTID and CONFIGID
	{"msearch", "msearch-gssdp-v4.ssdp"},         // 150 bytes, 5 headers in mixed case
}

func benchPacket(b *testing.B, file string) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(packetDir, file))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkParse(b *testing.B) {
	for _, p := range benchPackets {
		b.Run(p.name, func(b *testing.B) {
			data := benchPacket(b, p.file)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ssdp.Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParser is BenchmarkParse with a Parser and a Message reused from
// one datagram to the next, as a reading loop would.
func BenchmarkParser(b *testing.B) {
	for _, p := range benchPackets {
		b.Run(p.name, func(b *testing.B) {
			data := benchPacket(b, p.file)
			var ps ssdp.Parser
			m := new(ssdp.Message) // on the heap, as a reader's would be
			sinkMessage = m
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := ps.Parse(m, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var sinkMessage *ssdp.Message

func BenchmarkAppend(b *testing.B) {
	for _, p := range benchPackets {
		b.Run(p.name, func(b *testing.B) {
			data := benchPacket(b, p.file)
			m, err := ssdp.Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, 1500)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if buf, err = m.Append(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// goupnpTrailingWhitespace and goupnpCRLF are copied from goupnp v1.3.1
// httpu/serve.go, where they are unexported.
var (
	goupnpTrailingWhitespace = regexp.MustCompile(" +\r\n")
	goupnpCRLF               = []byte("\r\n")
)

// goupnpReadRequest is what goupnp v1.3.1's httpu.Server.Serve does with each
// datagram it receives (NOTIFY and M-SEARCH) before calling its Handler.
func goupnpReadRequest(buf []byte) (*http.Request, error) {
	reqBuf := goupnpTrailingWhitespace.ReplaceAllLiteral(buf, goupnpCRLF)
	return http.ReadRequest(bufio.NewReader(bytes.NewBuffer(reqBuf)))
}

// BenchmarkGoupnp measures github.com/huin/goupnp v1.3.1 reading the same
// datagrams as BenchmarkParse, the way it does on the network:
//
//   - response: httpu.HTTPUClient.DoWithContext's
//     http.ReadResponse(bufio.NewReader(bytes.NewBuffer(b)), req), with req the
//     M-SEARCH that ssdp.SSDPRawSearch builds.
//   - notify, msearch: httpu.Server.Serve's trailing-white-space regexp, then
//     http.ReadRequest.
//   - notify+registry: the same, then ssdp.Registry.ServeMessage, goupnp's
//     handler for NOTIFY: it parses CACHE-CONTROL, LOCATION, BOOTID, CONFIGID
//     and SEARCHPORT and stores an Entry keyed by USN (no listeners attached).
func BenchmarkGoupnp(b *testing.B) {
	for _, p := range benchPackets {
		b.Run(p.name, func(b *testing.B) {
			data := benchPacket(b, p.file)
			m, err := ssdp.Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			if m.Kind != ssdp.KindResponse {
				for b.Loop() {
					if _, err := goupnpReadRequest(data); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			req := &http.Request{ // as goupnp's ssdp.prepareRequest
				Method: "M-SEARCH",
				Host:   "239.255.255.250:1900",
				URL:    &url.URL{Opaque: "*"},
				Header: http.Header{
					"HOST": {"239.255.255.250:1900"},
					"MX":   {"2"},
					"MAN":  {`"ssdp:discover"`},
					"ST":   {m.ST},
				},
			}
			for b.Loop() {
				if _, err := http.ReadResponse(bufio.NewReader(bytes.NewBuffer(data)), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("notify+registry", func(b *testing.B) {
		data := benchPacket(b, "notify-miniupnpd-alive-v4.ssdp")
		reg := goupnpssdp.NewRegistry()
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r, err := goupnpReadRequest(data)
			if err != nil {
				b.Fatal(err)
			}
			r.RemoteAddr = "10.77.0.14:59552"
			reg.ServeMessage(r)
		}
		if len(reg.GetService(ssdp.RootDevice)) != 1 {
			b.Fatal("goupnp's registry did not store the advertisement")
		}
	})
}
