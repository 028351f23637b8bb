package upnp_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// samples lists the captured devices under testdata/descriptions.
func samples(t testing.TB) []string {
	dirs, err := filepath.Glob("testdata/descriptions/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	return dirs
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseDescription(t testing.TB, name string) *upnp.Root {
	t.Helper()
	r, err := upnp.ParseDescription(readFile(t, name))
	if err != nil {
		t.Fatalf("ParseDescription(%s): %v", name, err)
	}
	return r
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update if intended:\n%s", path, diff)
	}
}

var gmediarenderWant = &upnp.Root{
	ConfigID:    -1,
	SpecVersion: upnp.SpecVersion{Major: 1, Minor: 0},
	URLBase:     "http://10.77.0.13:49494/",
	Device: upnp.Device{
		DeviceType:       "urn:schemas-upnp-org:device:MediaRenderer:1",
		FriendlyName:     "upnplab renderer h3",
		Manufacturer:     "Ivo Clarysse, Henner Zeller",
		ManufacturerURL:  "http://github.com/hzeller/gmrender-resurrect",
		ModelDescription: "gmediarender 0.1",
		ModelName:        "gmediarender",
		ModelNumber:      "0.1",
		ModelURL:         "http://github.com/hzeller/gmrender-resurrect",
		UDN:              "uuid:a1b2c3d4-0000-4000-8000-027700000003",
		Icons: []upnp.Icon{
			{MIMEType: "image/png", Width: 64, Height: 64, Depth: 24, URL: "/upnp/grender-64x64.png"},
			{MIMEType: "image/png", Width: 128, Height: 128, Depth: 24, URL: "/upnp/grender-128x128.png"},
		},
		Services: []upnp.Service{
			{
				ServiceType: "urn:schemas-upnp-org:service:AVTransport:1",
				ServiceID:   "urn:upnp-org:serviceId:AVTransport",
				SCPDURL:     "/upnp/rendertransportSCPD.xml",
				ControlURL:  "/upnp/control/rendertransport1",
				EventSubURL: "/upnp/event/rendertransport1",
			},
			{
				ServiceType: "urn:schemas-upnp-org:service:ConnectionManager:1",
				ServiceID:   "urn:upnp-org:serviceId:ConnectionManager",
				SCPDURL:     "/upnp/renderconnmgrSCPD.xml",
				ControlURL:  "/upnp/control/renderconnmgr1",
				EventSubURL: "/upnp/event/renderconnmgr1",
			},
			{
				ServiceType: "urn:schemas-upnp-org:service:RenderingControl:1",
				ServiceID:   "urn:upnp-org:serviceId:RenderingControl",
				SCPDURL:     "/upnp/rendercontrolSCPD.xml",
				ControlURL:  "/upnp/control/rendercontrol1",
				EventSubURL: "/upnp/event/rendercontrol1",
			},
		},
	},
}

func igdService(typ, id, scpd, ctl, evt string) upnp.Service {
	return upnp.Service{ServiceType: typ, ServiceID: id, SCPDURL: scpd, ControlURL: ctl, EventSubURL: evt}
}

var igd1Want = &upnp.Root{
	ConfigID:    1337,
	SpecVersion: upnp.SpecVersion{Major: 1, Minor: 1},
	Device: upnp.Device{
		DeviceType:       "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
		FriendlyName:     "upnplab IGD h4",
		Manufacturer:     "Debian",
		ManufacturerURL:  "http://www.debian.org/",
		ModelDescription: "Debian router",
		ModelName:        "Debian router",
		ModelNumber:      "1",
		ModelURL:         "http://www.debian.org/",
		SerialNumber:     "upnplab-4",
		UDN:              "uuid:3d3cec3a-8cf0-11e0-98ee-027700000004",
		PresentationURL:  "http://10.77.0.14/",
		Services: []upnp.Service{
			igdService("urn:schemas-upnp-org:service:Layer3Forwarding:1", "urn:upnp-org:serviceId:L3Forwarding1", "/L3F.xml", "/ctl/L3F", "/evt/L3F"),
		},
		Devices: []upnp.Device{{
			DeviceType:       "urn:schemas-upnp-org:device:WANDevice:1",
			FriendlyName:     "WANDevice",
			Manufacturer:     "MiniUPnP",
			ManufacturerURL:  "http://miniupnp.free.fr/",
			ModelDescription: "WAN Device",
			ModelName:        "WAN Device",
			ModelNumber:      "20221221",
			ModelURL:         "http://miniupnp.free.fr/",
			SerialNumber:     "upnplab-4",
			UDN:              "uuid:3d3cec3a-8cf0-11e0-98ee-027700000005",
			UPC:              "000000000000",
			Services: []upnp.Service{
				igdService("urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1", "urn:upnp-org:serviceId:WANCommonIFC1", "/WANCfg.xml", "/ctl/CmnIfCfg", "/evt/CmnIfCfg"),
			},
			Devices: []upnp.Device{{
				DeviceType:       "urn:schemas-upnp-org:device:WANConnectionDevice:1",
				FriendlyName:     "WANConnectionDevice",
				Manufacturer:     "MiniUPnP",
				ManufacturerURL:  "http://miniupnp.free.fr/",
				ModelDescription: "MiniUPnP daemon",
				ModelName:        "MiniUPnPd",
				ModelNumber:      "20221221",
				ModelURL:         "http://miniupnp.free.fr/",
				SerialNumber:     "upnplab-4",
				UDN:              "uuid:3d3cec3a-8cf0-11e0-98ee-027700000006",
				UPC:              "000000000000",
				Services: []upnp.Service{
					igdService("urn:schemas-upnp-org:service:WANIPConnection:1", "urn:upnp-org:serviceId:WANIPConn1", "/WANIPCn.xml", "/ctl/IPConn", "/evt/IPConn"),
				},
			}},
		}},
	},
}

func TestParseDescriptionFull(t *testing.T) {
	tests := []struct {
		dir  string
		want *upnp.Root
	}{
		{"gmediarender-MediaRenderer1", gmediarenderWant},
		{"miniupnpd-InternetGatewayDevice1", igd1Want},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got := parseDescription(t, filepath.Join("testdata/descriptions", tt.dir, "description.xml"))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDescription (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseDescriptionSamples checks every captured device: its device
// tree, services and SCPDs (one file per service, named after its type).
func TestParseDescriptionSamples(t *testing.T) {
	type dev struct{ Type, UDN, Name string }
	tests := map[string]struct {
		configID int
		spec     upnp.SpecVersion
		devices  []dev
		services []string // service types, depth first
		icons    int
	}{
		"gmediarender-MediaRenderer1": {
			configID: -1, spec: upnp.SpecVersion{Major: 1},
			devices: []dev{{"urn:schemas-upnp-org:device:MediaRenderer:1", "uuid:a1b2c3d4-0000-4000-8000-027700000003", "upnplab renderer h3"}},
			services: []string{
				"urn:schemas-upnp-org:service:AVTransport:1",
				"urn:schemas-upnp-org:service:ConnectionManager:1",
				"urn:schemas-upnp-org:service:RenderingControl:1",
			},
			icons: 2,
		},
		"minidlna-MediaServer1": {
			configID: -1, spec: upnp.SpecVersion{Major: 1},
			devices: []dev{{"urn:schemas-upnp-org:device:MediaServer:1", "uuid:4d696e69-444c-164e-9d41-027700000002", "upnplab minidlna h2"}},
			services: []string{
				"urn:schemas-upnp-org:service:ContentDirectory:1",
				"urn:schemas-upnp-org:service:ConnectionManager:1",
				"urn:microsoft.com:service:X_MS_MediaReceiverRegistrar:1",
			},
			icons: 4,
		},
		"miniupnpd-InternetGatewayDevice1": {
			configID: 1337, spec: upnp.SpecVersion{Major: 1, Minor: 1},
			devices: []dev{
				{"urn:schemas-upnp-org:device:InternetGatewayDevice:1", "uuid:3d3cec3a-8cf0-11e0-98ee-027700000004", "upnplab IGD h4"},
				{"urn:schemas-upnp-org:device:WANDevice:1", "uuid:3d3cec3a-8cf0-11e0-98ee-027700000005", "WANDevice"},
				{"urn:schemas-upnp-org:device:WANConnectionDevice:1", "uuid:3d3cec3a-8cf0-11e0-98ee-027700000006", "WANConnectionDevice"},
			},
			services: []string{
				"urn:schemas-upnp-org:service:Layer3Forwarding:1",
				"urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
				"urn:schemas-upnp-org:service:WANIPConnection:1",
			},
		},
		"miniupnpd-InternetGatewayDevice2": {
			configID: 1337, spec: upnp.SpecVersion{Major: 1, Minor: 1},
			devices: []dev{
				{"urn:schemas-upnp-org:device:InternetGatewayDevice:2", "uuid:3d3cec3a-8cf0-11e0-98ee-027700000004", "upnplab IGD h4"},
				{"urn:schemas-upnp-org:device:WANDevice:2", "uuid:3d3cec3a-8cf0-11e0-98ee-027700000005", "WANDevice"},
				{"urn:schemas-upnp-org:device:WANConnectionDevice:2", "uuid:3d3cec3a-8cf0-11e0-98ee-027700000006", "WANConnectionDevice"},
			},
			services: []string{
				"urn:schemas-upnp-org:service:Layer3Forwarding:1",
				"urn:schemas-upnp-org:service:DeviceProtection:1",
				"urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
				"urn:schemas-upnp-org:service:WANIPConnection:2",
				"urn:schemas-upnp-org:service:WANIPv6FirewallControl:1",
			},
		},
	}
	dirs := samples(t)
	if len(dirs) != len(tests) {
		t.Errorf("%d sample directories, %d expectations", len(dirs), len(tests))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			want, known := tests[name]
			if !known {
				t.Fatalf("no expectations for %s", name)
			}
			r := parseDescription(t, filepath.Join(dir, "description.xml"))
			if err := r.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if r.ConfigID != want.configID || r.SpecVersion != want.spec {
				t.Errorf("configId %d spec %v, want %d %v", r.ConfigID, r.SpecVersion, want.configID, want.spec)
			}
			var devices []dev
			var services []string
			icons := 0
			for d := range r.Device.All() {
				devices = append(devices, dev{d.DeviceType, d.UDN, d.FriendlyName})
				icons += len(d.Icons)
				for _, s := range d.Services {
					services = append(services, s.ServiceType)
					if s.ServiceID == "" || s.SCPDURL == "" || s.ControlURL == "" || s.EventSubURL == "" {
						t.Errorf("service %s: empty field: %+v", s.ServiceType, s)
					}
					// Every service's SCPD was captured as <Type>-<version>.scpd.xml.
					parts := strings.Split(s.ServiceType, ":")
					file := filepath.Join(dir, parts[3]+"-"+parts[4]+".scpd.xml")
					if _, err := upnp.ParseSCPD(readFile(t, file)); err != nil {
						t.Errorf("ParseSCPD(%s): %v", file, err)
					}
				}
			}
			if diff := cmp.Diff(want.devices, devices); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.services, services); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if icons != want.icons {
				t.Errorf("%d icons, want %d", icons, want.icons)
			}
		})
	}
}

func TestDescriptionGoldenAndRoundTrip(t *testing.T) {
	for _, dir := range samples(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			r := parseDescription(t, filepath.Join(dir, "description.xml"))
			out, err := r.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			golden(t, name+".description.xml", out)
			r2, err := upnp.ParseDescription(out)
			if err != nil {
				t.Fatalf("ParseDescription(Marshal()): %v", err)
			}
			if diff := cmp.Diff(r, r2); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalDescription(t *testing.T) {
	r := &upnp.Root{
		ConfigID:    7,
		SpecVersion: upnp.SpecVersion{Major: 2, Minor: 0},
		Device: upnp.Device{
			DeviceType:   "urn:schemas-upnp-org:device:BinaryLight:1",
			FriendlyName: `Kitchen <light> & "lamp"`,
			Manufacturer: "Example",
			ModelName:    "Lamp\r\n2000",
			UDN:          "uuid:00000000-0000-0000-0000-000000000001",
			Services: []upnp.Service{{
				ServiceType: "urn:schemas-upnp-org:service:SwitchPower:1",
				ServiceID:   "urn:upnp-org:serviceId:SwitchPower",
				SCPDURL:     "/SwitchPower.xml",
				ControlURL:  "/ctl/SwitchPower",
			}},
		},
	}
	out, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "minimal.description.xml", out)
	r2, err := upnp.ParseDescription(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, r2); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	r.ConfigID = -1
	out, err = r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("configId")) {
		t.Errorf("ConfigID -1 written:\n%s", out)
	}

	r.Device.FriendlyName = "bad \x00 name"
	if _, err := r.Marshal(); err == nil {
		t.Error("Marshal wrote a NUL")
	}
}

func TestValidateDescription(t *testing.T) {
	valid := func() *upnp.Root { // a fresh tree each time
		r := parseDescription(t, "testdata/descriptions/gmediarender-MediaRenderer1/description.xml")
		igd := parseDescription(t, "testdata/descriptions/miniupnpd-InternetGatewayDevice1/description.xml")
		r.Device.Devices = []upnp.Device{igd.Device.Devices[0]}
		return r
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	tests := []struct {
		name   string
		break_ func(r *upnp.Root)
		want   string
	}{
		{"no spec version", func(r *upnp.Root) { r.SpecVersion = upnp.SpecVersion{} }, "specVersion"},
		{"configId too big", func(r *upnp.Root) { r.ConfigID = 1 << 24 }, "configId"},
		{"relative URLBase", func(r *upnp.Root) { r.URLBase = "/base" }, "URLBase"},
		{"no UDN", func(r *upnp.Root) { r.Device.UDN = "" }, "missing UDN"},
		{"UDN without uuid:", func(r *upnp.Root) { r.Device.UDN = "a1b2" }, "uuid:"},
		{"duplicate UDN", func(r *upnp.Root) { r.Device.Devices[0].UDN = r.Device.UDN }, "not unique"},
		{"no deviceType in embedded", func(r *upnp.Root) { r.Device.Devices[0].Devices[0].DeviceType = "" }, "missing deviceType"},
		{"no friendlyName", func(r *upnp.Root) { r.Device.FriendlyName = "" }, "friendlyName"},
		{"no manufacturer", func(r *upnp.Root) { r.Device.Manufacturer = "" }, "manufacturer"},
		{"no modelName", func(r *upnp.Root) { r.Device.ModelName = "" }, "modelName"},
		{"icon without size", func(r *upnp.Root) { r.Device.Icons[1].Width = 0 }, "icon 2"},
		{"service without control URL", func(r *upnp.Root) { r.Device.Services[0].ControlURL = "" }, "controlURL"},
		{"duplicate serviceId", func(r *upnp.Root) { r.Device.Services[1].ServiceID = r.Device.Services[0].ServiceID }, "serviceId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.break_(r)
			err := r.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
			if _, merr := r.Marshal(); merr == nil {
				t.Error("Marshal wrote an invalid description")
			}
		})
	}
}

// lenient builds a description around a device body, with a custom root.
func lenient(rootOpen, rootClose, body string) []byte {
	return []byte(`<?xml version="1.0"?>` + "\n" + rootOpen + body + rootClose)
}

const minimalDevice = `<device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>` +
	`<friendlyName>x</friendlyName><manufacturer>m</manufacturer><modelName>n</modelName>` +
	`<UDN>uuid:1</UDN></device>`

var minimalWant = upnp.Device{
	DeviceType: "urn:schemas-upnp-org:device:Basic:1", FriendlyName: "x",
	Manufacturer: "m", ModelName: "n", UDN: "uuid:1",
}

func TestParseDescriptionLenient(t *testing.T) {
	std := `<root xmlns="urn:schemas-upnp-org:device-1-0">`
	tests := []struct {
		name string
		in   []byte
		want *upnp.Root
	}{
		{
			name: "no serviceList, no specVersion",
			in:   lenient(std, `</root>`, minimalDevice),
			want: &upnp.Root{ConfigID: -1, Device: minimalWant},
		},
		{
			name: "odd prefix",
			in: []byte(`<d:root xmlns:d="urn:schemas-upnp-org:device-1-0" configId="3"><d:specVersion><d:major>1</d:major><d:minor>1</d:minor></d:specVersion>` +
				strings.NewReplacer("</", "</d:", "<", "<d:").Replace(minimalDevice) + `</d:root>`),
			want: &upnp.Root{ConfigID: 3, SpecVersion: upnp.SpecVersion{Major: 1, Minor: 1}, Device: minimalWant},
		},
		{
			name: "no namespace",
			in:   lenient(`<root>`, `</root>`, minimalDevice),
			want: &upnp.Root{ConfigID: -1, Device: minimalWant},
		},
		{
			name: "wrong namespace",
			in:   lenient(`<root xmlns="urn:example:other">`, `</root>`, minimalDevice),
			want: &upnp.Root{ConfigID: -1, Device: minimalWant},
		},
		{
			name: "white space and newlines in values",
			in: lenient(std+"\n  <specVersion>\n <major> 1 </major>\n<minor>\t0\n</minor></specVersion>", `</root>`,
				"<device>\n\t<deviceType>\n   urn:schemas-upnp-org:device:Basic:1\n</deviceType>"+
					"<friendlyName>  x  </friendlyName><manufacturer>\r\nm\r\n</manufacturer>"+
					"<modelName><![CDATA[ n ]]></modelName><UDN> uuid:1 </UDN>\n"+
					"<iconList><icon><mimetype> image/png </mimetype><width> 48 </width><height>48\n</height><depth>x</depth><url> /i.png </url></icon></iconList>"+
					"<serviceList>\n<service>\n<serviceType> st </serviceType><serviceId>\nsid\n</serviceId><SCPDURL> /s.xml </SCPDURL><controlURL> /c </controlURL><eventSubURL>\n</eventSubURL></service></serviceList></device>"),
			want: &upnp.Root{ConfigID: -1, SpecVersion: upnp.SpecVersion{Major: 1}, Device: func() upnp.Device {
				d := minimalWant
				d.Icons = []upnp.Icon{{MIMEType: "image/png", Width: 48, Height: 48, URL: "/i.png"}}
				d.Services = []upnp.Service{{ServiceType: "st", ServiceID: "sid", SCPDURL: "/s.xml", ControlURL: "/c"}}
				return d
			}()},
		},
		{
			name: "case differences",
			in: []byte(`<ROOT ConfigID="9"><SPECVERSION><Major>2</Major><MINOR>0</MINOR></SPECVERSION><urlbase>http://h/</urlbase>` +
				`<Device><DeviceType>t</DeviceType><FRIENDLYNAME>f</FRIENDLYNAME><udn>uuid:2</udn>` +
				`<ServiceList><Service><ServiceType>s</ServiceType><scpdurl>/x</scpdurl></Service></ServiceList></Device></ROOT>`),
			want: &upnp.Root{ConfigID: 9, SpecVersion: upnp.SpecVersion{Major: 2}, URLBase: "http://h/", Device: upnp.Device{
				DeviceType: "t", FriendlyName: "f", UDN: "uuid:2",
				Services: []upnp.Service{{ServiceType: "s", SCPDURL: "/x"}},
			}},
		},
		{
			name: "unknown and vendor elements, comments",
			in: lenient(std, `<extra><device>ignored</device></extra></root>`,
				`<!-- hi --><device><dlna:X_DLNADOC xmlns:dlna="urn:schemas-dlna-org:device-1-0">DMS-1.50</dlna:X_DLNADOC>`+
					`<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType><friendlyName>x<!-- c --></friendlyName>`+
					`<manufacturer>m</manufacturer><modelName>n</modelName><UDN>uuid:1</UDN><future><UDN>uuid:no</UDN></future></device>`),
			want: &upnp.Root{ConfigID: -1, Device: minimalWant},
		},
		{
			name: "URLBase, empty presentationURL, bad configId",
			in: lenient(`<root configId="-4">`, `<URLBase>http://10.0.0.1:80/</URLBase></root>`,
				strings.Replace(minimalDevice, "</device>", "<presentationURL></presentationURL></device>", 1)),
			want: &upnp.Root{ConfigID: -1, URLBase: "http://10.0.0.1:80/", Device: minimalWant},
		},
		{
			name: "ISO-8859-1 with BOM-free latin1 bytes",
			in:   []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><root><device><friendlyName>Caf\xe9</friendlyName></device></root>"),
			want: &upnp.Root{ConfigID: -1, Device: upnp.Device{FriendlyName: "Café"}},
		},
		{
			name: "UTF-8 BOM",
			in:   append([]byte("\ufeff"), lenient(std, `</root>`, minimalDevice)...),
			want: &upnp.Root{ConfigID: -1, Device: minimalWant},
		},
		{
			name: "second device ignored",
			in:   lenient(std, `</root>`, minimalDevice+`<device><UDN>uuid:other</UDN></device>`),
			want: &upnp.Root{ConfigID: -1, Device: minimalWant},
		},
		{
			name: "embedded devices",
			in: lenient(std, `</root>`, strings.Replace(minimalDevice, "</device>",
				"<deviceList><device><UDN>uuid:e1</UDN><deviceList><device><UDN>uuid:e2</UDN></device></deviceList></device><device><UDN>uuid:e3</UDN></device></deviceList></device>", 1)),
			want: &upnp.Root{ConfigID: -1, Device: func() upnp.Device {
				d := minimalWant
				d.Devices = []upnp.Device{{UDN: "uuid:e1", Devices: []upnp.Device{{UDN: "uuid:e2"}}}, {UDN: "uuid:e3"}}
				return d
			}()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := upnp.ParseDescription(tt.in)
			if err != nil {
				t.Fatalf("ParseDescription: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDescription (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDescriptionErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error // a sentinel, or errSyntax for *xml.SyntaxError, or errAny
	}{
		{"empty", nil, upnp.ErrNotDescription},
		{"not XML", []byte("hello"), upnp.ErrNotDescription},
		{"html", []byte("<html><body>404</body></html>"), upnp.ErrNotDescription},
		{"scpd", readFile(t, "testdata/descriptions/minidlna-MediaServer1/ConnectionManager-1.scpd.xml"), upnp.ErrNotDescription},
		{"no device", []byte(`<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major></specVersion></root>`), upnp.ErrNotDescription},
		{"truncated", readFile(t, "testdata/descriptions/gmediarender-MediaRenderer1/description.xml")[:500], errSyntax},
		{"mismatched", []byte(`<root><device></root></device>`), errAny},
		{"bad entity", []byte(`<root><device>&bogus;</device></root>`), errSyntax},
		{"UTF-16", []byte("\xff\xfe<\x00r\x00/\x00>\x00"), errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := upnp.ParseDescription(tt.in)
			if err == nil {
				t.Fatalf("ParseDescription = %+v, want an error", r)
			}
			checkErr(t, err, tt.want)
		})
	}
}

var (
	errSyntax = errors.New("any *xml.SyntaxError")
	errAny    = errors.New("any error")
)

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch want {
	case errAny:
		if err == nil {
			t.Fatal("err = nil, want an error")
		}
	case errSyntax:
		var se *xml.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v (%T), want *xml.SyntaxError", err, err)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("err = %v, want %v", err, want)
		}
	}
	if !strings.HasPrefix(err.Error(), "upnp: ") {
		t.Errorf("message %q lacks the upnp: prefix", err)
	}
}

func TestResolveURL(t *testing.T) {
	descURL := mustURL("http://10.77.0.12:8200/rootDesc.xml")
	nested := mustURL("http://10.77.0.12:8200/dev/desc.xml")
	tests := []struct {
		name    string
		urlBase string
		base    string // "" for nil
		ref     string
		want    string // "" for an error
	}{
		{"absolute path", "", descURL.String(), "/ctl/ContentDir", "http://10.77.0.12:8200/ctl/ContentDir"},
		{"relative path", "", nested.String(), "upnp/control", "http://10.77.0.12:8200/dev/upnp/control"},
		{"absolute URL", "", descURL.String(), "http://10.77.0.12:8200/ContentDir.xml", "http://10.77.0.12:8200/ContentDir.xml"},
		{"white space", "", descURL.String(), "  /x \n", "http://10.77.0.12:8200/x"},
		{"query kept", "", descURL.String(), "/x?a=b", "http://10.77.0.12:8200/x?a=b"},
		{"URLBase wins", "http://10.77.0.13:49494/", descURL.String(), "/upnp/rendertransportSCPD.xml", "http://10.77.0.13:49494/upnp/rendertransportSCPD.xml"},
		{"URLBase with path", "http://10.0.0.1:1/base/", descURL.String(), "ctl", "http://10.0.0.1:1/base/ctl"},
		{"URLBase and nil base", "http://10.0.0.1:1/", "", "/ctl", "http://10.0.0.1:1/ctl"},
		{"relative URLBase ignored", "/elsewhere/", descURL.String(), "ctl", "http://10.77.0.12:8200/ctl"},
		{"garbage URLBase ignored", "http://[::1", descURL.String(), "/ctl", "http://10.77.0.12:8200/ctl"},
		{"ftp URLBase ignored", "ftp://h/", descURL.String(), "/ctl", "http://10.77.0.12:8200/ctl"},
		{"empty ref", "", descURL.String(), "", ""},
		{"blank ref", "", descURL.String(), " \n", ""},
		{"nil base, relative", "", "", "/ctl", ""},
		{"file scheme", "", descURL.String(), "file:///etc/passwd", ""},
		{"javascript", "", descURL.String(), "javascript:alert(1)", ""},
		{"bad ref", "", descURL.String(), "http://[::1", ""},
		{"scheme-relative", "", descURL.String(), "//10.9.9.9/x", "http://10.9.9.9/x"},
		{"scheme-relative, unbracketed IPv6 host", "", descURL.String(), "//::/", ""},
		{"URLBase, unbracketed IPv6 host", "t:/p", descURL.String(), "//::/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &upnp.Root{URLBase: tt.urlBase}
			var base = mustURLOrNil(tt.base)
			got, err := r.ResolveURL(base, tt.ref)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ResolveURL(%q) = %v, want an error", tt.ref, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveURL(%q): %v", tt.ref, err)
			}
			if got.String() != tt.want {
				t.Errorf("ResolveURL(%q) = %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
}

func mustURLOrNil(s string) *url.URL {
	if s == "" {
		return nil
	}
	return mustURL(s)
}

func TestDeviceWalk(t *testing.T) {
	r := parseDescription(t, "testdata/descriptions/miniupnpd-InternetGatewayDevice2/description.xml")
	var udns []string
	for d := range r.Device.All() {
		udns = append(udns, d.UDN)
	}
	want := []string{
		"uuid:3d3cec3a-8cf0-11e0-98ee-027700000004",
		"uuid:3d3cec3a-8cf0-11e0-98ee-027700000005",
		"uuid:3d3cec3a-8cf0-11e0-98ee-027700000006",
	}
	if diff := cmp.Diff(want, udns); diff != "" {
		t.Errorf("All (-want +got):\n%s", diff)
	}
	for range r.Device.All() {
		break // stopping early must not panic
	}

	s := r.Device.FindService("urn:schemas-upnp-org:service:WANIPConnection:2")
	if s == nil || s.ControlURL != "/ctl/IPConn" {
		t.Errorf("FindService(type) = %+v", s)
	}
	s = r.Device.FindService("urn:upnp-org:serviceId:L3Forwarding1")
	if s == nil || s.SCPDURL != "/L3F.xml" {
		t.Errorf("FindService(id) = %+v", s)
	}
	if s := r.Device.FindService("urn:schemas-upnp-org:service:WANPPPConnection:1"); s != nil {
		t.Errorf("FindService(absent) = %+v", s)
	}
	s = r.Device.FindService("urn:schemas-upnp-org:service:WANIPv6FirewallControl:1")
	s.ControlURL = "/changed"
	if r.Device.Devices[0].Devices[0].Services[1].ControlURL != "/changed" {
		t.Error("FindService does not point into the tree")
	}

	d := r.Device.FindDevice("urn:schemas-upnp-org:device:WANConnectionDevice:2")
	if d == nil || d.UDN != want[2] {
		t.Errorf("FindDevice(type) = %+v", d)
	}
	if d := r.Device.FindDevice(want[1]); d == nil || d.FriendlyName != "WANDevice" {
		t.Errorf("FindDevice(UDN) = %+v", d)
	}
	if d := r.Device.FindDevice("uuid:none"); d != nil {
		t.Errorf("FindDevice(absent) = %+v", d)
	}
}
