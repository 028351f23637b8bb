package device_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const lightUDN = "uuid:0f0f0f0f-1111-4222-8333-444444444444"

// testService is a service with the corner cases the light lacks: strings,
// handlers that fail, panic or are missing.
func testService() *device.Service {
	scpd, err := upnp.ParseSCPD([]byte(`<scpd xmlns="urn:schemas-upnp-org:service-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<actionList>
 <action><name>Echo</name><argumentList>
  <argument><name>In</name><direction>in</direction><relatedStateVariable>Text</relatedStateVariable></argument>
  <argument><name>Out</name><direction>out</direction><relatedStateVariable>Text</relatedStateVariable></argument>
 </argumentList></action>
 <action><name>Fail</name></action>
 <action><name>Panic</name></action>
 <action><name>Vendor</name></action>
 <action><name>Missing</name></action>
 <action><name>BadOut</name><argumentList>
  <argument><name>Mode</name><direction>out</direction><relatedStateVariable>Mode</relatedStateVariable></argument>
 </argumentList></action>
</actionList>
<serviceStateTable>
 <stateVariable sendEvents="no"><name>Text</name><dataType>string</dataType></stateVariable>
 <stateVariable sendEvents="no"><name>Mode</name><dataType>string</dataType>
  <allowedValueList><allowedValue>A</allowedValue><allowedValue>B</allowedValue></allowedValueList></stateVariable>
</serviceStateTable></scpd>`))
	if err != nil {
		panic(err)
	}
	return &device.Service{
		Type: "urn:example-com:service:Test:1",
		SCPD: scpd,
		Handlers: map[string]device.Handler{
			"Echo": func(ctx context.Context, r *device.Request) (map[string]any, error) {
				return map[string]any{"Out": r.Args["In"]}, nil
			},
			"Fail": func(context.Context, *device.Request) (map[string]any, error) {
				return nil, errors.New("secret detail")
			},
			"Panic": func(context.Context, *device.Request) (map[string]any, error) { panic("boom") },
			"Vendor": func(context.Context, *device.Request) (map[string]any, error) {
				return nil, &upnp.Error{Code: 801, Description: "Vendor Trouble"}
			},
			"BadOut": func(context.Context, *device.Request) (map[string]any, error) {
				return map[string]any{"Mode": "C"}, nil
			},
		},
	}
}

func newLight(t *testing.T) (*device.Server, *httptest.Server) {
	t.Helper()
	d := binarylight.New("Test Light", lightUDN)
	d.Devices = []*device.Device{{
		Type: "urn:example-com:device:Tester:1", FriendlyName: "Tester", Manufacturer: "upnp-go", ModelName: "Tester",
		UDN: "uuid:0f0f0f0f-1111-4222-8333-555555555555", Services: []*device.Service{testService()},
		Icons: []device.Icon{{MIMEType: "image/png", Width: 16, Height: 16, Depth: 8, Data: []byte("\x89PNG fake")}},
	}}
	s := &device.Server{Device: d}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { s.Close() })
	return s, ts
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDescriptionGolden(t *testing.T) {
	s, ts := newLight(t)
	code, body := get(t, ts.URL+"/desc.xml")
	if code != 200 {
		t.Fatalf("GET /desc.xml: %d", code)
	}
	golden := "testdata/light-description.xml"
	if *update {
		os.WriteFile(golden, []byte(body), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), body); d != "" {
		t.Errorf("description (-want +got):\n%s", d)
	}
	root, err := upnp.ParseDescription([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := root.Validate(); err != nil {
		t.Errorf("generated description does not validate: %v", err)
	}
	id, _ := s.ConfigID()
	if root.ConfigID != int(id) {
		t.Errorf("configId %d, want %d", root.ConfigID, id)
	}
	for dev := range root.Device.All() {
		for _, svc := range dev.Services {
			code, b := get(t, ts.URL+svc.SCPDURL)
			if code != 200 {
				t.Fatalf("GET %s: %d", svc.SCPDURL, code)
			}
			scpd, err := upnp.ParseSCPD([]byte(b))
			if err != nil {
				t.Fatalf("%s: %v", svc.SCPDURL, err)
			}
			if scpd.ConfigID != int(id) {
				t.Errorf("%s: configId %d, want %d", svc.SCPDURL, scpd.ConfigID, id)
			}
		}
		for _, ic := range dev.Icons {
			if code, b := get(t, ts.URL+ic.URL); code != 200 || b != "\x89PNG fake" {
				t.Errorf("icon %s: %d %q", ic.URL, code, b)
			}
		}
	}
}

// soapCall posts a SOAP action and returns the status and body.
func soapCall(t *testing.T, url, soapAction, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
	if soapAction != "" {
		req.Header.Set("SOAPACTION", soapAction)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func envelope(svcType, action, args string) string {
	return `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>` +
		`<u:` + action + ` xmlns:u="` + svcType + `">` + args + `</u:` + action + `></s:Body></s:Envelope>`
}

const (
	power     = "urn:schemas-upnp-org:service:SwitchPower:1"
	dimming   = "urn:schemas-upnp-org:service:Dimming:1"
	testType  = "urn:example-com:service:Test:1"
	powerURL  = "/dev/0/SwitchPower/control"
	dimURL    = "/dev/0/Dimming/control"
	testURL   = "/dev/1/Test/control"
	errorCode = "<errorCode>"
)

func TestControl(t *testing.T) {
	_, ts := newLight(t)
	tests := []struct {
		name, url, svc, action, args string
		header                       string // SOAPACTION when not the usual one
		status                       int
		want                         string // in the body
	}{
		{"switch on", powerURL, power, "SetTarget", "<newTargetValue>1</newTargetValue>", "", 200, "<u:SetTargetResponse"},
		{"status follows", powerURL, power, "GetStatus", "", "", 200, "<ResultStatus>1</ResultStatus>"},
		{"argument name in the wrong case", powerURL, power, "SetTarget", "<NewTargetValue>1</NewTargetValue>", "", 200, "<u:SetTargetResponse"},
		{"lenient boolean", powerURL, power, "SetTarget", "<newTargetValue> false </newTargetValue>", "", 200, "SetTargetResponse"},
		{"status off", powerURL, power, "GetStatus", "", "", 200, "<ResultStatus>0</ResultStatus>"},
		{"older client version", dimURL, dimming, "SetLoadLevelTarget", "<newLoadlevelTarget>40</newLoadlevelTarget>", "", 200, "SetLoadLevelTargetResponse"},
		{"step up", dimURL, dimming, "StepUp", "", "", 200, "StepUpResponse"},
		{"level", dimURL, dimming, "GetLoadLevelStatus", "", "", 200, "<retLoadlevelStatus>50</retLoadlevelStatus>"},
		{"query state variable", dimURL, "urn:schemas-upnp-org:control-1-0", "QueryStateVariable", "<varName>LoadLevelStatus</varName>", "", 200, "<return>50</return>"},
		{"echo keeps spaces and markup", testURL, testType, "Echo", "<In> a &lt;b&gt; &amp; c </In>", "", 200, "<Out> a &lt;b&gt; &amp; c </Out>"},

		{"unknown action", powerURL, power, "Explode", "", "", 500, errorCode + "401<"},
		{"wrong service type", powerURL, dimming, "SetTarget", "<newTargetValue>1</newTargetValue>", "", 500, errorCode + "401<"},
		{"newer version than ours", powerURL, "urn:schemas-upnp-org:service:SwitchPower:2", "GetStatus", "", "", 500, errorCode + "401<"},
		{"header and body disagree", powerURL, power, "GetStatus", "", `"` + power + `#GetTarget"`, 500, errorCode + "401<"},
		{"no SOAPACTION", powerURL, power, "GetStatus", "", "-", 500, errorCode + "401<"},
		{"missing argument", powerURL, power, "SetTarget", "", "", 500, errorCode + "402<"},
		{"extra argument", powerURL, power, "SetTarget", "<newTargetValue>1</newTargetValue><x>1</x>", "", 500, errorCode + "402<"},
		{"duplicate argument", powerURL, power, "SetTarget", "<newTargetValue>1</newTargetValue><newTargetValue>0</newTargetValue>", "", 500, errorCode + "402<"},
		{"bad value", powerURL, power, "SetTarget", "<newTargetValue>maybe</newTargetValue>", "", 500, errorCode + "600<"},
		{"out of range", dimURL, dimming, "SetLoadLevelTarget", "<newLoadlevelTarget>101</newLoadlevelTarget>", "", 500, errorCode + "601<"},
		{"beyond the type", dimURL, dimming, "SetLoadLevelTarget", "<newLoadlevelTarget>300</newLoadlevelTarget>", "", 500, errorCode + "601<"},
		{"string too long", testURL, testType, "Echo", "<In>" + strings.Repeat("x", device.MaxStringArg+1) + "</In>", "", 500, errorCode + "605<"},
		{"no handler", testURL, testType, "Missing", "", "", 500, errorCode + "602<"},
		{"handler error hides detail", testURL, testType, "Fail", "", "", 500, errorCode + "501<"},
		{"handler panic", testURL, testType, "Panic", "", "", 500, errorCode + "501<"},
		{"handler UPnP error", testURL, testType, "Vendor", "", "", 500, "<errorDescription>Vendor Trouble</errorDescription>"},
		{"handler bad out value", testURL, testType, "BadOut", "", "", 500, errorCode + "501<"},
		{"malformed body", powerURL, power, "GetStatus", "", "", 500, errorCode + "401<"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == "" {
				h = `"` + tt.svc + "#" + tt.action + `"`
			}
			if h == "-" {
				h = ""
			}
			body := envelope(tt.svc, tt.action, tt.args)
			if tt.name == "malformed body" {
				body = "<s:Envelope><s:Body><u:GetStatus"
			}
			status, got := soapCall(t, ts.URL+tt.url, h, body)
			if status != tt.status || !strings.Contains(got, tt.want) {
				t.Errorf("status %d, want %d; body lacks %q:\n%s", status, tt.status, tt.want, got)
			}
			if strings.Contains(got, "secret detail") {
				t.Error("a handler's error text leaked to the control point")
			}
		})
	}
}

func TestHTTPHardening(t *testing.T) {
	_, ts := newLight(t)
	t.Run("DNS rebinding: foreign Host", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/desc.xml", nil)
		req.Host = "evil.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("Host with another IP", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/desc.xml", nil)
		req.Host = "127.0.0.2:" + strings.Split(ts.Listener.Addr().String(), ":")[1]
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("body over 64 KiB", func(t *testing.T) {
		status, _ := soapCall(t, ts.URL+powerURL, `"`+power+`#SetTarget"`, envelope(power, "SetTarget", strings.Repeat(" ", 70<<10)))
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", status)
		}
	})
	t.Run("GET on a control URL", func(t *testing.T) {
		if code, _ := get(t, ts.URL+powerURL); code != 405 {
			t.Errorf("status %d, want 405", code)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		if code, _ := get(t, ts.URL+"/dev/9/x/control"); code != 404 {
			t.Errorf("status %d, want 404", code)
		}
	})
	t.Run("presentation page", func(t *testing.T) {
		code, body := get(t, ts.URL+"/")
		if code != 200 || !strings.Contains(body, "Test Light") || !strings.Contains(body, "LoadLevelStatus") {
			t.Errorf("status %d:\n%s", code, body)
		}
	})
}

func TestServiceState(t *testing.T) {
	d := binarylight.New("x", lightUDN)
	dim := d.Services[1]
	if err := dim.Set("LoadLevelTarget", 101); err == nil {
		t.Error("Set accepted 101 for a 0-100 variable")
	}
	if err := dim.Set("LoadLevelTarget", 30, "LoadLevelStatus", 300); err == nil {
		t.Error("Set accepted 300")
	}
	if v := dim.Value("LoadLevelTarget"); v != "0" {
		t.Errorf("a failed Set changed LoadLevelTarget to %q", v)
	}
	if err := dim.Set("Nope", 1); !errors.Is(err, device.ErrNoVariable) {
		t.Errorf("Set of an unknown variable: %v", err)
	}
	if err := dim.Set("StepDelta", "25"); err != nil {
		t.Fatal(err)
	}
	if v, _ := dim.Get("StepDelta"); v != uint8(25) {
		t.Errorf("Get = %#v, want uint8(25)", v)
	}
}

func TestInvalidTree(t *testing.T) {
	for name, d := range map[string]*device.Device{
		"no type":  {FriendlyName: "x", Manufacturer: "m", ModelName: "n"},
		"bad UDN":  {Type: "urn:a:device:b:1", FriendlyName: "x", Manufacturer: "m", ModelName: "n", UDN: "1234"},
		"no SCPD":  {Type: "urn:a:device:b:1", FriendlyName: "x", Manufacturer: "m", ModelName: "n", Services: []*device.Service{{Type: "urn:a:service:c:1"}}},
		"dup UDNs": {Type: "urn:a:device:b:1", FriendlyName: "x", Manufacturer: "m", ModelName: "n", UDN: lightUDN, Devices: []*device.Device{binarylight.New("y", lightUDN)}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := (&device.Server{Device: d}).Description(); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestBootIDFile: BOOTID.UPNP.ORG kept in a file grows at every start.
func TestBootIDFile(t *testing.T) {
	path := t.TempDir() + "/bootid"
	os.WriteFile(path, []byte("41\n"), 0o644)
	for want := 42; want <= 43; want++ {
		s := &device.Server{Device: binarylight.New("b", lightUDN), BootIDFile: path}
		got, err := device.NextBootID(s)
		if err != nil {
			t.Fatal(err)
		}
		if int(got) != want {
			t.Fatalf("BOOTID %d, want %d", got, want)
		}
	}
	// A BOOTID taken at run time (an interface came back) is kept too.
	s := &device.Server{Device: binarylight.New("b", lightUDN), BootIDFile: path}
	if err := device.SaveBootID(s, 57); err != nil {
		t.Fatal(err)
	}
	if got, err := device.NextBootID(s); err != nil || got != 58 {
		t.Fatalf("after a run-time BOOTID 57 the next start takes %d (%v), want 58", got, err)
	}
}
