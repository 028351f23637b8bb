package av_test

import (
	"encoding/xml"
	"errors"
	"testing"
	"time"

	"github.com/seedb72249f9/upnp/av"
	"github.com/seedb72249f9/upnp/controlpoint"
)

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"0:00:00", 0},
		{"0:03:25", 3*time.Minute + 25*time.Second},
		{"12:3:5", 12*time.Hour + 3*time.Minute + 5*time.Second},
		{" 1:00:00.5 ", time.Hour + 500*time.Millisecond},
		{"0:00:01.250", 1250 * time.Millisecond},
		{"0:00:01.1/4", 1250 * time.Millisecond},
		{"+0:00:02", 2 * time.Second},
		{"-0:00:02", -2 * time.Second},
		{"100:00:00", 100 * time.Hour},
		{"0:00:00.1234567891234", 123456789 * time.Nanosecond},
	} {
		got, err := av.ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "NOT_IMPLEMENTED", "1:2", "0:60:00", "0:00:60", "0:000:01", "a:00:00",
		"0:00:00.x", "0:00:01.4/4", "0:00:01.1/0", "99999999999:00:00", "--0:00:01", "0:-1:00"} {
		if got, err := av.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, nil error", in, got)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0:00:00", 1500 * time.Millisecond: "0:00:01", 3*time.Hour + 4*time.Minute + 5*time.Second: "3:04:05",
		125 * time.Hour: "125:00:00", -time.Second: "0:00:00",
	} {
		if got := av.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// FuzzParseDuration: ParseDuration never panics, and what it reads in whole
// seconds survives FormatDuration and ParseDuration again.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0:00:00", "1:02:03.5", "0:00:01.1/4", "NOT_IMPLEMENTED", "-0:00:02", "99:59:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := av.ParseDuration(s)
		if err != nil || d < 0 {
			return
		}
		whole := d.Truncate(time.Second)
		back, err := av.ParseDuration(av.FormatDuration(d))
		if err != nil || back != whole {
			t.Fatalf("ParseDuration(%q) = %v; FormatDuration then ParseDuration = %v, %v", s, d, back, err)
		}
	})
}

// TestMetadata: the DIDL-Lite document is well-formed and carries the title,
// class, MIME type and URL, escaped.
func TestMetadata(t *testing.T) {
	const uri = "http://10.0.0.2:8000/a?b=1&c=<2>"
	doc := av.Metadata(`Tom & "Jerry" <live>`, uri, "audio/mpeg", "")
	var d struct {
		Item struct {
			Title string `xml:"http://purl.org/dc/elements/1.1/ title"`
			Class string `xml:"urn:schemas-upnp-org:metadata-1-0/upnp/ class"`
			Res   struct {
				ProtocolInfo string `xml:"protocolInfo,attr"`
				URL          string `xml:",chardata"`
			} `xml:"res"`
		} `xml:"item"`
	}
	if err := xml.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if d.Item.Title != `Tom & "Jerry" <live>` || d.Item.Class != "object.item.audioItem.musicTrack" ||
		d.Item.Res.ProtocolInfo != "http-get:*:audio/mpeg:*" || d.Item.Res.URL != uri {
		t.Errorf("Metadata read back as %+v\n%s", d.Item, doc)
	}
}

func TestNewRenderer(t *testing.T) {
	dev := &controlpoint.Device{Services: []*controlpoint.Service{
		{Type: "urn:schemas-upnp-org:service:ConnectionManager:1"},
		{Type: "urn:schemas-upnp-org:service:RenderingControl:3"},
		{Type: "urn:schemas-upnp-org:service:AVTransport:2"},
	}}
	r, err := av.NewRenderer(nil, dev)
	if err != nil || r.Transport != dev.Services[2] || r.Rendering != dev.Services[1] {
		t.Fatalf("NewRenderer = %+v, %v", r, err)
	}
	if _, err := av.NewRenderer(nil, &controlpoint.Device{Services: dev.Services[:2]}); !errors.Is(err, av.ErrNotRenderer) {
		t.Errorf("NewRenderer without AVTransport: %v", err)
	}
	r.Rendering = nil
	if _, err := r.Volume(t.Context()); !errors.Is(err, av.ErrNoRenderingControl) {
		t.Errorf("Volume without RenderingControl: %v", err)
	}
}
