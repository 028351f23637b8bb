package controlpoint_test

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/seedb72249f9/upnp/controlpoint"
)

// Print a light's Status as it changes, until Ctrl-C, which unsubscribes.
func ExampleSubscription() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	defer stop()
	c := &controlpoint.Client{}
	d, err := c.Describe(ctx, "http://192.168.1.20:49152/desc.xml")
	if err != nil {
		panic(err)
	}
	sub := &controlpoint.Subscription{
		Client:  c,
		Service: d.Service("SwitchPower"),
		Handler: func(ev *controlpoint.Event) {
			if on, ok := ev.Value("Status"); ok {
				fmt.Println("SEQ", ev.SEQ, "on:", on.(bool))
			}
		},
	}
	if err := sub.Run(ctx); err != nil {
		panic(err)
	}
}

// Read the changes a renderer reports in its LastChange variable.
func ExampleParseLastChange() {
	changes, err := controlpoint.ParseLastChange(nil,
		`<Event xmlns="urn:schemas-upnp-org:metadata-1-0/RCS/"><InstanceID val="0"><Volume val="40" channel="Master"/></InstanceID></Event>`)
	if err != nil {
		panic(err)
	}
	for _, c := range changes {
		for _, v := range c.Vars {
			fmt.Printf("instance %d: %s[%s] = %v\n", c.InstanceID, v.Name, v.Channel, v.Value)
		}
	}
	// Output: instance 0: Volume[Master] = 40
}
