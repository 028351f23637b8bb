package device_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/device"
)

// A device with one service and one action, served from a recorder instead
// of the network. In a program, device.Server.ListenAndServe(ctx) serves it on
// the LAN and advertises it with SSDP.
func Example() {
	scpd, _ := upnp.ParseSCPD([]byte(`<scpd xmlns="urn:schemas-upnp-org:service-1-0">
	<specVersion><major>1</major><minor>0</minor></specVersion>
	<actionList><action><name>Greet</name><argumentList>
	  <argument><name>Name</name><direction>in</direction><relatedStateVariable>A_ARG_TYPE_Text</relatedStateVariable></argument>
	  <argument><name>Greeting</name><direction>out</direction><relatedStateVariable>A_ARG_TYPE_Text</relatedStateVariable></argument>
	</argumentList></action></actionList>
	<serviceStateTable><stateVariable sendEvents="no"><name>A_ARG_TYPE_Text</name><dataType>string</dataType></stateVariable></serviceStateTable>
	</scpd>`))
	greeter := &device.Service{
		Type: "urn:example-com:service:Greeter:1",
		SCPD: scpd,
		Handlers: map[string]device.Handler{
			"Greet": func(ctx context.Context, r *device.Request) (map[string]any, error) {
				return map[string]any{"Greeting": "Hello, " + r.Args["Name"].(string)}, nil
			},
		},
	}
	s := &device.Server{Device: &device.Device{
		Type:         "urn:example-com:device:Greeter:1",
		FriendlyName: "Greeter",
		Manufacturer: "Example",
		ModelName:    "Greeter",
		UDN:          "uuid:6f2a0c4e-5d3b-4f1a-9e8d-7c6b5a493827",
		Services:     []*device.Service{greeter},
	}}

	body := `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
		`<u:Greet xmlns:u="urn:example-com:service:Greeter:1"><Name>Gopher</Name></u:Greet></s:Body></s:Envelope>`
	req := httptest.NewRequest("POST", "/dev/0/Greeter/control", strings.NewReader(body))
	req.Header.Set("SOAPACTION", `"urn:example-com:service:Greeter:1#Greet"`)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	out := w.Body.String()
	fmt.Println(w.Code, out[strings.Index(out, "<Greeting>"):strings.Index(out, "</u:")])
	// Output: 200 <Greeting>Hello, Gopher</Greeting>
}
