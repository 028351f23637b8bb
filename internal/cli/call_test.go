package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
)

// httpLight serves the example light over HTTP on 127.0.0.1, its
// SetStepDelta failing with UPnP error 718, and returns its LOCATION.
func httpLight(t *testing.T) string {
	t.Helper()
	d := binarylight.New("HTTP Light", "uuid:"+lightUUID)
	d.Services[1].Handlers["SetStepDelta"] = func(context.Context, *device.Request) (map[string]any, error) {
		return nil, &upnp.Error{Code: 718, Description: "ConflictInMappingEntry"}
	}
	ts := httptest.NewServer(&device.Server{Device: d})
	t.Cleanup(ts.Close)
	return ts.URL + "/desc.xml"
}

func TestCallCommand(t *testing.T) {
	loc := httpLight(t)
	tests := []struct {
		args    []string
		code    int
		out     string // wanted in stdout (exactly, when exact)
		exact   bool
		errWant string
	}{
		{[]string{loc, "SwitchPower", "SetTarget", "newTargetValue=1"}, ExitOK, "", true, ""},
		{[]string{loc, "SwitchPower", "GetStatus"}, ExitOK, "ResultStatus=1\n", true, ""},
		{[]string{loc, "urn:schemas-upnp-org:service:SwitchPower:1", "GetTarget", "--json"}, ExitOK, `{"RetTargetValue":true}` + "\n", true, ""},
		{[]string{loc, "urn:upnp-org:serviceId:Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=55"}, ExitOK, "", true, ""},
		{[]string{loc, "Dimming:1", "GetLoadLevelStatus"}, ExitOK, "retLoadlevelStatus=55\n", true, ""},
		{[]string{loc, "Dimming", "GetLoadLevelStatus", "--json"}, ExitOK, `{"retLoadlevelStatus":55}` + "\n", true, ""},
		{[]string{loc, "Dimming", "SetStepDelta", "newStepDelta=5"}, ExitFault, "", true, "UPnP error 718: ConflictInMappingEntry"},
		{[]string{loc, "Dimming", "SetStepDelta", "newStepDelta=5", "--json"}, ExitFault, `"error_code":718`, false, "718"},
		{[]string{loc, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=150"}, ExitUsage, "", true, "allowedValueRange"},
		{[]string{loc, "Dimming", "SetLoadLevelTarget"}, ExitUsage, "", true, "missing in argument newLoadlevelTarget"},
		{[]string{loc, "SwitchPower", "SetTarget", "bogus"}, ExitUsage, "", true, "not Name=Value"},
		{[]string{loc, "SwitchPower"}, ExitUsage, "", true, "needs TARGET SERVICE ACTION"},
		{[]string{loc, "ContentDirectory", "Browse"}, ExitNotFound, "", true, `no service "ContentDirectory"`},
		{[]string{loc, "SwitchPower", "Explode"}, ExitNotFound, "", true, "no such action"},
		{[]string{strings.Replace(loc, "desc.xml", "nothing.xml", 1), "SwitchPower", "GetStatus"}, ExitError, "", true, "404"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"call"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if tt.exact && out != tt.out || !tt.exact && !strings.Contains(out, tt.out) {
				t.Errorf("stdout %q, want %q", out, tt.out)
			}
			if !strings.Contains(errOut, tt.errWant) {
				t.Errorf("stderr %q lacks %q", errOut, tt.errWant)
			}
		})
	}
}

func TestDescribeCommand(t *testing.T) {
	loc := httpLight(t)
	code, out, errOut := run(t, "describe", loc)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`Device "HTTP Light"  urn:schemas-upnp-org:device:BinaryLight:1`,
		"UDN:   uuid:" + lightUUID,
		"Service urn:schemas-upnp-org:service:SwitchPower:1  (urn:upnp-org:serviceId:SwitchPower)",
		"SetTarget(newTargetValue boolean)",
		"GetStatus() -> (ResultStatus boolean)",
		"LoadLevelTarget ui1 [0..100] default 0",
		"Status boolean default 0 (evented)",
		"Reached:   from 127.0.0.1 on lo",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "describe", "--json", loc)
	if code != ExitOK {
		t.Fatalf("--json: exit %d", code)
	}
	var d deviceJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.UDN != "uuid:"+lightUUID || d.Location != loc || len(d.Services) != 2 || len(d.Services[0].Actions) != 3 ||
		d.Services[1].StateVariables[0].Range == nil || d.Services[1].StateVariables[0].Range.Maximum != "100" {
		t.Errorf("--json: %+v", d)
	}
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"describe"}, ExitUsage},
		{[]string{"describe", "a", "b"}, ExitUsage},
		{[]string{"describe", "http://localhost:1/desc.xml"}, ExitError},
	} {
		if code, _, errOut := run(t, tt.args...); code != tt.code {
			t.Errorf("%v: exit %d, want %d: %s", tt.args, code, tt.code, errOut)
		}
	}
}
