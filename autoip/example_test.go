package autoip_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os/signal"
	"syscall"

	"github.com/seedb72249f9/upnp/autoip"
)

// The link-local candidates of a host: the same after every restart.
func ExampleCandidate() {
	mac, _ := net.ParseMAC("02:77:00:00:00:01")
	for n := range 3 {
		fmt.Println(autoip.Candidate(mac, n))
	}
	// Output:
	// 169.254.137.59
	// 169.254.253.148
	// 169.254.128.144
}

// A device follows its address with Event.Current: byebye on the old one,
// alive on the new one.
func ExampleAgent() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	a := &autoip.Agent{Interface: "eth0"}
	events, _ := a.Subscribe(64)
	go func() {
		var current netip.Prefix
		for ev := range events {
			log.Printf("%v %v", ev.Type, ev.Addr)
			if ev.Current == current {
				continue
			}
			if current.IsValid() {
				log.Printf("byebye on %v", current.Addr())
			}
			if ev.Current.IsValid() {
				log.Printf("alive on %v", ev.Current.Addr())
			}
			current = ev.Current
		}
	}()
	if err := a.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
