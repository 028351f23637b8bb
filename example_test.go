package upnp_test

import (
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"

	"github.com/seedb72249f9/upnp"
)

func ExampleParseDescription() {
	// A description as fetched from a renderer's LOCATION.
	b, err := os.ReadFile("testdata/descriptions/gmediarender-MediaRenderer1/description.xml")
	if err != nil {
		log.Fatal(err)
	}
	root, err := upnp.ParseDescription(b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(root.Device.FriendlyName, root.Device.UDN)

	location, _ := url.Parse("http://10.77.0.13:49494/description.xml")
	rc := root.Device.FindService("urn:schemas-upnp-org:service:RenderingControl:1")
	control, err := root.ResolveURL(location, rc.ControlURL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rc.ServiceID, control)
	// Output:
	// upnplab renderer h3 uuid:a1b2c3d4-0000-4000-8000-027700000003
	// urn:upnp-org:serviceId:RenderingControl http://10.77.0.13:49494/upnp/control/rendercontrol1
}

func ExampleDataType() {
	// Decode is lenient...
	v, _ := upnp.TypeBoolean.Decode(" Yes ")
	n, _ := upnp.TypeUI2.Decode(" 40\n")
	fmt.Printf("%T %v, %T %v\n", v, v, n, n)

	// ...Encode is strict and canonical.
	s, _ := upnp.TypeBoolean.Encode(true)
	h, _ := upnp.TypeBinHex.Encode([]byte{0xCA, 0xFE})
	u, _ := upnp.TypeUUID.Encode("4D696E69444C164E9D41027700000002")
	fmt.Println(s, h, u)

	// A value out of the type's range is a *ValueError a device answers
	// with UPnP error 601, anything else malformed with 600.
	_, err := upnp.TypeUI1.Encode(300)
	var ve *upnp.ValueError
	if errors.As(err, &ve) {
		fmt.Println(ve.Code(), err)
	}
	// Output:
	// bool true, uint16 40
	// 1 cafe 4d696e69-444c-164e-9d41-027700000002
	// 601 upnp: ui1 value "300": out of range
}

func ExampleStateVariable_Decode() {
	volume := upnp.StateVariable{
		Name:     "Volume",
		DataType: upnp.TypeUI2,
		Range:    &upnp.AllowedRange{Minimum: "0", Maximum: "100", Step: "1"},
	}
	for _, arg := range []string{"40", "140", "loud"} {
		v, err := volume.Decode(arg)
		var ve *upnp.ValueError
		if errors.As(err, &ve) {
			// What a device sends back in its SOAP fault.
			fmt.Println(arg, "->", &upnp.Error{Code: ve.Code()})
			continue
		}
		fmt.Println(arg, "->", v)
	}
	// Output:
	// 40 -> 40
	// 140 -> upnp: error 601: Argument Value Out of Range
	// loud -> upnp: error 600: Argument Value Invalid
}

func ExampleError() {
	// A control point receives a fault and branches on its code.
	var err error = fmt.Errorf("AddPortMapping: %w", &upnp.Error{Code: 718, Description: "ConflictInMappingEntry"})
	if errors.Is(err, &upnp.Error{Code: 718}) {
		fmt.Println("mapping taken:", err)
	}
	// Output:
	// mapping taken: AddPortMapping: upnp: error 718: ConflictInMappingEntry
}

func ExampleRoot_Marshal() {
	root := upnp.Root{
		ConfigID:    1,
		SpecVersion: upnp.SpecVersion{Major: 1, Minor: 1},
		Device: upnp.Device{
			DeviceType:   "urn:schemas-upnp-org:device:BinaryLight:1",
			FriendlyName: "Kitchen light",
			Manufacturer: "Example",
			ModelName:    "Lamp",
			UDN:          "uuid:2fac1234-31f8-11b4-a222-08002b34c003",
		},
	}
	b, err := root.Marshal()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(b))
	// Output:
	// <?xml version="1.0" encoding="utf-8"?>
	// <root xmlns="urn:schemas-upnp-org:device-1-0" configId="1">
	//   <specVersion>
	//     <major>1</major>
	//     <minor>1</minor>
	//   </specVersion>
	//   <device>
	//     <deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>
	//     <friendlyName>Kitchen light</friendlyName>
	//     <manufacturer>Example</manufacturer>
	//     <modelName>Lamp</modelName>
	//     <UDN>uuid:2fac1234-31f8-11b4-a222-08002b34c003</UDN>
	//   </device>
	// </root>
}
