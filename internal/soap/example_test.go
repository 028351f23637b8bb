package soap_test

import (
	"errors"
	"fmt"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
)

// A control point writes a request and reads the answer.
func Example() {
	const st = "urn:schemas-upnp-org:service:RenderingControl:1"
	body, err := soap.AppendRequest(nil, st, "GetVolume", []soap.Arg{{"InstanceID", "0"}, {"Channel", "Master"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("SOAPACTION:", soap.FormatSOAPAction(st, "GetVolume"))
	fmt.Println(len(body), "bytes of", soap.ContentType)

	// What gmediarender answered.
	answer := []byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>
<u:GetVolumeResponse xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1">
<CurrentVolume>40</CurrentVolume>
</u:GetVolumeResponse>
</s:Body> </s:Envelope>`)
	out, err := soap.ParseResponse(answer, "GetVolume")
	if err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// SOAPACTION: "urn:schemas-upnp-org:service:RenderingControl:1#GetVolume"
	// 312 bytes of text/xml; charset="utf-8"
	// [{CurrentVolume 40}]
}

// A device reads a request, checks it against SOAPACTION, and answers.
func ExampleParseRequest() {
	header := `"urn:schemas-upnp-org:service:RenderingControl:1#SetVolume"`
	body := []byte(`<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:SetVolume xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1"><InstanceID>0</InstanceID><Channel>Master</Channel><DesiredVolume>40</DesiredVolume></u:SetVolume></s:Body></s:Envelope>`)

	hst, haction, err := soap.ParseSOAPAction(header)
	if err != nil {
		fmt.Printf("%s", soap.AppendFault(nil, upnp.CodeInvalidAction, ""))
		return
	}
	st, action, args, err := soap.ParseRequest(body)
	if err != nil || st != hst || action != haction {
		fmt.Printf("%s", soap.AppendFault(nil, upnp.CodeInvalidAction, ""))
		return
	}
	fmt.Println(action, args)
	resp, _ := soap.AppendResponse(nil, st, action, nil)
	fmt.Printf("%s\n", resp)
	// Output:
	// SetVolume [{InstanceID 0} {Channel Master} {DesiredVolume 40}]
	// <?xml version="1.0"?>
	// <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:SetVolumeResponse xmlns:u="urn:schemas-upnp-org:service:RenderingControl:1"></u:SetVolumeResponse></s:Body></s:Envelope>
}

// A fault comes back as a *upnp.Error.
func ExampleParseResponse_fault() {
	_, err := soap.ParseResponse(soap.AppendFault(nil, 718, "ConflictInMappingEntry"), "AddPortMapping")
	var uerr *upnp.Error
	if errors.As(err, &uerr) {
		fmt.Println(uerr.Code, uerr.Description)
	}
	fmt.Println(errors.Is(err, &upnp.Error{Code: 718}))
	// Output:
	// 718 ConflictInMappingEntry
	// true
}
