package igd

import "github.com/seedb72249f9/upnp/internal/clock"

// SetClock makes g's Keep run its timers on c.
func SetClock(g *Gateway, c clock.Clock) { g.clock = c }
