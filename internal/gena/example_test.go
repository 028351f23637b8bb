package gena_test

import (
	"fmt"
	"time"

	"github.com/seedb72249f9/upnp/internal/gena"
)

// A device reports a LastChange: the Event XML, then the property set that
// carries it as text.
func ExampleAppendLastChange() {
	value, err := gena.AppendLastChange(nil, gena.NamespaceRCS, []gena.InstanceChange{
		{InstanceID: "0", Vars: []gena.VarChange{{Name: "Volume", Value: "40", Channel: "Master"}}},
	})
	if err != nil {
		panic(err)
	}
	body, err := gena.AppendPropertySet(nil, []gena.Property{{Name: "LastChange", Value: string(value)}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", body)
	// Output:
	// <?xml version="1.0"?>
	// <e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><LastChange>&lt;Event xmlns="urn:schemas-upnp-org:metadata-1-0/RCS/"&gt;&lt;InstanceID val="0"&gt;&lt;Volume val="40" channel="Master"/&gt;&lt;/InstanceID&gt;&lt;/Event&gt;</LastChange></e:property></e:propertyset>
}

// A control point reads an event body, and the LastChange inside it.
func ExampleParseLastChange() {
	body := `<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">
<e:property>
<LastChange>&lt;Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"&gt;&lt;InstanceID val="0"&gt;&lt;TransportState val="PLAYING"/&gt;&lt;CurrentTrack val="1"/&gt;&lt;/InstanceID&gt;&lt;/Event&gt;</LastChange>
</e:property>
</e:propertyset>`
	props, err := gena.ParsePropertySet([]byte(body))
	if err != nil {
		panic(err)
	}
	for _, p := range props {
		if p.Name != "LastChange" {
			continue
		}
		changes, err := gena.ParseLastChange(p.Value)
		if err != nil {
			panic(err)
		}
		for _, c := range changes {
			for _, v := range c.Vars {
				fmt.Printf("instance %s: %s = %s\n", c.InstanceID, v.Name, v.Value)
			}
		}
	}
	// Output:
	// instance 0: TransportState = PLAYING
	// instance 0: CurrentTrack = 1
}

// A device reads the headers of a SUBSCRIBE.
func ExampleParseCallback() {
	urls, err := gena.ParseCallback("<http://192.168.1.20:49152/event/1>  <http://192.168.1.20:49153/event/1>")
	if err != nil {
		panic(err)
	}
	d, infinite, err := gena.ParseTimeout("Second-1800")
	if err != nil {
		panic(err)
	}
	granted := min(d, 300*time.Second)
	if infinite {
		granted = 300 * time.Second
	}
	fmt.Println(urls[0].Host, len(urls), gena.FormatTimeout(granted))

	_, err = gena.ParseCallback("<https://192.168.1.20/event>")
	fmt.Println(err)
	// Output:
	// 192.168.1.20:49152 2 Second-300
	// gena: bad CALLBACK header: URL scheme is not http: "https://192.168.1.20/event"
}
