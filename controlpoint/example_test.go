package controlpoint_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
)

// Describe a device from its LOCATION and switch it on.
func ExampleClient_Invoke() {
	light := httptest.NewServer(&device.Server{Device: binarylight.New("Kitchen", "")})
	defer light.Close()

	c := &controlpoint.Client{}
	ctx := context.Background()
	d, err := c.Describe(ctx, light.URL+"/desc.xml")
	if err != nil {
		panic(err)
	}
	power := d.Service("SwitchPower")
	if _, err := c.Invoke(ctx, power, "SetTarget", map[string]any{"newTargetValue": true}); err != nil {
		panic(err)
	}
	out, err := c.Invoke(ctx, power, "GetStatus", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Root.Device.FriendlyName, "is on:", out["ResultStatus"])
	// Output: Kitchen is on: true
}
