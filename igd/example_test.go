package igd_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/seedb72249f9/upnp/igd"
	"github.com/seedb72249f9/upnp/ssdp"
)

// Open TCP port 8080 on the router to this host for an hour, and close it
// again when done.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g, err := igd.Find(ctx, nil, ssdp.SearchRequest{}) // nil: a zero controlpoint.Client, every interface
	if err != nil {
		log.Fatal(err) // igd.ErrNoGateway when no router answered
	}
	ip, err := g.ExternalIP(ctx)
	if errors.Is(err, igd.ErrNoExternalAddress) {
		log.Printf("the router is behind another NAT (%v): a mapping will not be reachable", ip)
	}
	m, err := g.Add(ctx, igd.Mapping{ExternalPort: 8080, Description: "my service", Lease: time.Hour})
	if errors.Is(err, igd.ErrConflict) {
		m, err = g.Add(ctx, igd.Mapping{InternalPort: 8080, Description: "my service", Lease: time.Hour}) // any free port
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("reachable at %s:%d\n", ip, m.ExternalPort)
	defer g.Delete(context.Background(), m)
}
