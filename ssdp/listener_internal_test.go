package ssdp

import (
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"
	"unsafe"

	"github.com/seedb72249f9/upnp/internal/clock"
)

func notifyPacket(nts, usn, loc string, maxAge int, boot, config int32, from string) *Packet {
	m := &Message{Kind: KindNotify, NT: "upnp:rootdevice", NTS: nts, USN: usn, Location: loc, MaxAge: maxAge,
		BootID: boot, ConfigID: config, NextBootID: -1}
	return &Packet{Message: m, From: netip.MustParseAddrPort(from), Interface: "lan0"}
}

func drain(ch <-chan Event) []EventType {
	var out []EventType
	for {
		select {
		case ev := <-ch:
			out = append(out, ev.Type)
		default:
			return out
		}
	}
}

func TestListenerCache(t *testing.T) {
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	l := &Listener{clock: fake}
	ch, stop := l.Subscribe(64)
	defer stop()
	const usn = "uuid:a::upnp:rootdevice"
	from := "10.0.0.5:1900"
	step := func(name string, p *Packet, want ...EventType) {
		t.Helper()
		if p != nil {
			l.Observe(p)
		}
		got := drain(ch)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: events %v, want %v", name, got, want)
		}
	}
	step("first alive", notifyPacket(Alive, usn, "http://10.0.0.5/d.xml", 100, 1, 7, from), EventAdded)
	step("same again", notifyPacket(Alive, usn, "http://10.0.0.5/d.xml", 100, 1, 7, from), EventRefreshed)
	step("new location", notifyPacket(Alive, usn, "http://10.0.0.5:81/d.xml", 100, 1, 7, from), EventChanged)
	step("new config", notifyPacket(Alive, usn, "http://10.0.0.5:81/d.xml", 100, 1, 8, from), EventConfig)
	step("reboot", notifyPacket(Alive, usn, "http://10.0.0.5:81/d.xml", 100, 2, 8, from), EventRebooted)
	up := notifyPacket(Update, usn, "http://10.0.0.5:81/d.xml", 0, 2, 8, from)
	up.NextBootID = 3
	step("update", up, EventUpdated)
	step("alive after update is no reboot", notifyPacket(Alive, usn, "http://10.0.0.5:81/d.xml", 100, 3, 8, from), EventRefreshed)
	step("reboot with a new config", notifyPacket(Alive, usn, "http://10.0.0.5:81/d.xml", 100, 4, 9, from), EventRebooted, EventConfig)
	up = notifyPacket(Update, usn, "http://10.0.0.5:81/d.xml", 0, 4, 10, from)
	up.NextBootID = 5
	step("update with a new config", up, EventUpdated, EventConfig)
	step("alive after that update", notifyPacket(Alive, usn, "http://10.0.0.5:81/d.xml", 100, 5, 10, from), EventRefreshed)
	step("same USN over IPv6 is its own route", notifyPacket(Alive, usn, "http://[fe80::1]/d.xml", 100, 5, 10, "[fe80::1]:1900"), EventAdded)
	if n := len(l.Lookup(usn)); n != 2 {
		t.Fatalf("Lookup: %d routes, want 2", n)
	}
	step("byebye", notifyPacket(ByeBye, usn, "", 0, 5, 10, from), EventRemoved)
	step("byebye for the unknown", notifyPacket(ByeBye, "uuid:zzz", "", 0, 5, 10, from))
	fake.Advance(99 * time.Second)
	step("not yet expired", nil)
	fake.Advance(2 * time.Second)
	step("expired at max-age", nil, EventExpired)
	if n := len(l.Entries()); n != 0 {
		t.Fatalf("%d entries left", n)
	}
}

// TestListenerBounds (SECURITY.md, resource exhaustion): a flood of fake
// announcements fills at most MaxPerHost entries per sender and MaxEntries
// overall, believes at most MaxAgeCap, and a slow subscriber only loses its
// own events.
func TestListenerBounds(t *testing.T) {
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	l := &Listener{clock: fake, MaxEntries: 100, MaxPerHost: 10, MaxAgeCap: time.Hour}
	slow, stopSlow := l.Subscribe(16)
	defer stopSlow()
	for i := range 1000 {
		from := fmt.Sprintf("10.0.%d.%d:1900", i/200, i%200/10+1)
		l.Observe(notifyPacket(Alive, fmt.Sprintf("uuid:%d", i), "http://x/", 1<<30, 1, 1, from))
	}
	if n := len(l.Entries()); n != 100 {
		t.Fatalf("cache holds %d entries, want MaxEntries 100", n)
	}
	if l.Dropped() == 0 {
		t.Error("nothing counted as dropped")
	}
	if got := len(drain(slow)); got != 16 {
		t.Errorf("slow subscriber got %d events, want its 16 slots", got)
	}
	one := &Listener{clock: fake, MaxPerHost: 10}
	for i := range 50 {
		one.Observe(notifyPacket(Alive, fmt.Sprintf("uuid:%d", i), "http://x/", 100, 1, 1, "10.9.9.9:1900"))
	}
	if n := len(one.Entries()); n != 10 {
		t.Errorf("one sender holds %d entries, want MaxPerHost 10", n)
	}
	for _, e := range l.Entries() {
		if e.MaxAge != 3600 {
			t.Fatalf("max-age %d believed, want the 3600 s cap", e.MaxAge)
		}
	}
	fake.Advance(time.Hour + time.Second)
	if n := len(l.Entries()); n != 0 {
		t.Fatalf("%d entries outlived the max-age cap", n)
	}
}

// TestListenerCopies checks that a cache entry holds its own copies of the
// strings it keeps, not substrings of the parsed datagram (which would keep
// the whole of it, see Parse), and that a refresh with the same values keeps
// the entry's copies instead of making new ones.
func TestListenerCopies(t *testing.T) {
	data, err := os.ReadFile("testdata/packets/notify-miniupnpd-alive-v4.ssdp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{clock: clock.NewFake(time.Unix(1_700_000_000, 0))}
	l.Observe(&Packet{Message: m, From: netip.MustParseAddrPort("10.0.0.5:1900"), Interface: "lan0"})
	es := l.Entries()
	if len(es) != 1 {
		t.Fatalf("%d entries, want 1", len(es))
	}
	e := es[0]
	for _, f := range []struct{ kept, parsed string }{{e.USN, m.USN}, {e.NT, m.NT}, {e.Location, m.Location}, {e.Server, m.Server}} {
		if f.kept != f.parsed {
			t.Fatalf("entry has %q, the message %q", f.kept, f.parsed)
		}
		if unsafe.StringData(f.kept) == unsafe.StringData(f.parsed) {
			t.Errorf("entry shares %q with the parsed message", f.kept)
		}
	}
	again, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	l.Observe(&Packet{Message: again, From: netip.MustParseAddrPort("10.0.0.5:1900"), Interface: "lan0"})
	if e2 := l.Entries()[0]; unsafe.StringData(e2.Location) != unsafe.StringData(e.Location) ||
		unsafe.StringData(e2.USN) != unsafe.StringData(e.USN) {
		t.Error("a refresh with the same values replaced the entry's strings")
	}
}
