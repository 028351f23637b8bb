package soap_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	goupnpsoap "github.com/huin/goupnp/soap"
	"github.com/seedb72249f9/upnp/internal/soap"
)

// The goupnp sub-benchmarks do the same work with github.com/huin/goupnp's
// soap package (v1.3.1), which has only a control point side: decoding a
// response the way PerformActionCtx does (xml.Decoder.Decode into its
// envelope struct, then xml.Unmarshal of the action's inner XML into the
// out-argument struct), and a whole PerformActionCtx call over an in-memory
// http.RoundTripper (no sockets) against our AppendRequest + ParseResponse
// over the same transport.

const rcType = "urn:schemas-upnp-org:service:RenderingControl:1"

var setVolumeArgs = []soap.Arg{{"InstanceID", "0"}, {"Channel", "Master"}, {"DesiredVolume", "40"}}

func BenchmarkParseRequest(b *testing.B) {
	setVolume, err := soap.AppendRequest(nil, rcType, "SetVolume", setVolumeArgs)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"SetVolume", setVolume},
		{"SetAVTransportURI", readFile(b, "testdata/requests/libupnp-SetAVTransportURI.xml")},
		{"Browse-windows", readFile(b, "testdata/requests/windows-Browse.xml")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := soap.ParseRequest(bc.body); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The encoding/xml reader alone: what a body the fast one leaves to
		// it costs.
		b.Run(bc.name+"/encoding-xml", func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := soap.DecodeMsg(bc.body, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	browse, err := soap.ParseResponse(browse5k(b), "Browse")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, action string
		out          []soap.Arg
	}{
		{"GetVolume", "GetVolume", []soap.Arg{{"CurrentVolume", "40"}}},
		{"Browse-5k", "Browse", browse},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = soap.AppendResponse(buf[:0], rcType, bc.action, bc.out); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := soap.AppendRequest(nil, rcType, "SetVolume", setVolumeArgs); err != nil {
			b.Fatal(err)
		}
	}
}

type getVolumeOut struct {
	CurrentVolume string
}

type browseOut struct {
	Result         string
	NumberReturned string
	TotalMatches   string
	UpdateID       string
}

// goupnpEnvelope copies goupnp v1.3.1 soap.go's unexported soapEnvelope.
type goupnpEnvelope struct {
	XMLName       xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	EncodingStyle string   `xml:"http://schemas.xmlsoap.org/soap/envelope/ encodingStyle,attr"`
	Body          struct {
		Fault     *goupnpsoap.SOAPFaultError `xml:"Fault"`
		RawAction []byte                     `xml:",innerxml"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// goupnpDecode is what PerformActionCtx does with a response body.
func goupnpDecode(body []byte, out any) error {
	env := goupnpEnvelope{EncodingStyle: "http://schemas.xmlsoap.org/soap/encoding/"}
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&env); err != nil {
		return err
	}
	if env.Body.Fault != nil {
		return env.Body.Fault
	}
	return xml.Unmarshal(env.Body.RawAction, out)
}

func BenchmarkParseResponse(b *testing.B) {
	for _, bc := range []struct {
		name, action string
		body         []byte
		out          func() any
	}{
		{"GetVolume", "GetVolume", readFile(b, "testdata/responses/gmediarender-GetVolume.xml"), func() any { return new(getVolumeOut) }},
		{"Browse-5k", "Browse", browse5k(b), func() any { return new(browseOut) }},
	} {
		b.Run(bc.name+"/upnp", func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := soap.ParseResponse(bc.body, bc.action); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/goupnp", func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := goupnpDecode(bc.body, bc.out()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// memTransport answers every request with body, in memory.
type memTransport struct{ body []byte }

func (t memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {soap.ContentType}},
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		ContentLength: int64(len(t.body)),
		Request:       req,
	}, nil
}

type setVolumeIn struct {
	InstanceID    string
	Channel       string
	DesiredVolume string
}

// BenchmarkCall is a control point's whole SetVolume call minus the network:
// encode, build the HTTP request, send it over memTransport, read and decode
// the answer (gmediarender's real SetVolume response).
func BenchmarkCall(b *testing.B) {
	resp := readFile(b, "testdata/responses/gmediarender-SetVolume-40.xml")
	u, _ := url.Parse("http://10.77.0.13:49494/upnp/control/rendercontrol1")
	b.Run("upnp", func(b *testing.B) {
		client := &http.Client{Transport: memTransport{resp}}
		ctx := context.Background()
		header := http.Header{
			"Content-Type": {soap.ContentType},
			"Soapaction":   {soap.FormatSOAPAction(rcType, "SetVolume")},
		}
		b.ReportAllocs()
		for b.Loop() {
			body, err := soap.AppendRequest(nil, rcType, "SetVolume", setVolumeArgs)
			if err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, "POST", u.String(), bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header = header
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out, err := soap.ReadBody(res.Body, 0)
			res.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := soap.ParseResponse(out, "SetVolume"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goupnp", func(b *testing.B) {
		client := goupnpsoap.NewSOAPClient(*u)
		client.HTTPClient.Transport = memTransport{resp}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			in := setVolumeIn{InstanceID: "0", Channel: "Master", DesiredVolume: "40"}
			if err := client.PerformActionCtx(ctx, rcType, "SetVolume", &in, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// browse5k is minidlna's real Browse response with its items repeated until
// the DIDL-Lite Result holds at least 5 KB, escaped as minidlna escapes it.
func browse5k(tb testing.TB) []byte {
	body := readFile(tb, "testdata/responses/minidlna-Browse-AllMusic-1_4.xml")
	i := bytes.Index(body, []byte("&lt;item "))
	j := bytes.Index(body, []byte("&lt;/DIDL-Lite&gt;"))
	if i < 0 || j < i {
		tb.Fatal("unexpected minidlna Browse response")
	}
	items := body[i:j]
	var out bytes.Buffer
	out.Write(body[:j])
	n := bytes.Count(items, []byte("&lt;item "))
	total := n
	for out.Len()-bytes.Index(body, []byte("<Result>")) < 6000 {
		out.Write(items)
		total += n
	}
	rest := string(body[j:])
	rest = strings.NewReplacer("<NumberReturned>3<", "<NumberReturned>"+strconv.Itoa(total)+"<",
		"<TotalMatches>3<", "<TotalMatches>"+strconv.Itoa(total)+"<").Replace(rest)
	out.WriteString(rest)
	return out.Bytes()
}
