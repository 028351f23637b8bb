package ssdp_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/seedb72249f9/upnp/ssdp"
)

// A kept message is the strings of a Message a Parser gave (msg, Extra
// left out: its array is reused by design) and a copy of them (want).
type kept struct{ msg, want ssdp.Message }

// checkParser parses data with p into m and checks that it gives what Parse
// gives (want, or wantErr) and that the strings of every message in earlier
// have not changed since; it returns earlier with m's strings added.
func checkParser(t *testing.T, p *ssdp.Parser, m *ssdp.Message, data []byte, want *ssdp.Message, wantErr error, earlier []kept) []kept {
	t.Helper()
	err := p.Parse(m, data)
	switch {
	case wantErr != nil:
		var reset ssdp.Message
		reset.Reset()
		if err == nil || err.Error() != wantErr.Error() || !cmp.Equal(*m, reset, cmpopts.EquateEmpty()) {
			t.Fatalf("Parser.Parse(%q) = %v, leaving %+v; Parse says %v", data, err, *m, wantErr)
		}
	case err != nil:
		t.Fatalf("Parser.Parse(%q) = %v; Parse read it", data, err)
	default:
		if diff := cmp.Diff(want, m, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Parser.Parse(%q) differs from Parse (-Parse +Parser):\n%s", data, diff)
		}
	}
	// Earlier messages live in buffers that later datagrams share: their
	// strings must not have changed.
	for _, k := range earlier {
		if diff := cmp.Diff(k.want, k.msg); diff != "" {
			t.Fatalf("a string from an earlier Parser.Parse changed (-then +now):\n%s", diff)
		}
	}
	next := *m
	next.Extra = nil
	return append(earlier, kept{next, deepCopy(next)})
}

// deepCopy returns m with its strings copied.
func deepCopy(m ssdp.Message) ssdp.Message {
	for _, f := range []*string{&m.Host, &m.NT, &m.NTS, &m.ST, &m.USN, &m.Location, &m.Server, &m.Agent, &m.MAN, &m.Date, &m.CPFN, &m.CPUUID} {
		*f = strings.Clone(*f)
	}
	m.Extra = nil
	return m
}

// TestParser runs every packet, lenient and bad input through one Parser and
// one Message, several times over, so that the datagrams fill several of its
// buffers: each result is what Parse makes, and no string handed out
// before changes, however long ago (a Parser that reused a buffer once full
// would fail).
func TestParser(t *testing.T) {
	var inputs [][]byte
	for _, data := range loadPackets(t) {
		inputs = append(inputs, data)
	}
	for _, tt := range lenientTests {
		inputs = append(inputs, []byte(tt.in))
	}
	for _, tt := range badTests {
		inputs = append(inputs, []byte(tt.in))
	}
	var p ssdp.Parser
	var m ssdp.Message
	var earlier []kept
	total := 0
	for round := 0; total < 100<<10; round++ {
		for _, data := range inputs {
			want, err := ssdp.Parse(data)
			earlier = checkParser(t, &p, &m, data, want, err, earlier)
			total += len(data)
		}
	}
}

// TestParserClearsExtra: the entries of Extra's array past its length are
// cleared, so that no header of an earlier datagram keeps its buffer alive:
// after fewer unknown headers, after an error, and after an error that
// came once the general parser had filled some.
func TestParserClearsExtra(t *testing.T) {
	headers := func(n int, eol string) string {
		s := "NOTIFY * HTTP/1.1" + eol + "NT: upnp:rootdevice" + eol
		for i := range n {
			s += fmt.Sprintf("X-%d: %d%s", i, i, eol)
		}
		return s
	}
	var p ssdp.Parser
	var m ssdp.Message
	for _, tt := range []struct {
		name, in string
		extra    int // unknown headers parsed, -1 for an error
	}{
		{"ten", headers(10, "\r\n") + "\r\n", 10},
		{"three after ten", headers(3, "\r\n") + "\r\n", 3},
		{"ten again", headers(10, "\r\n") + "\r\n", 10},
		{"empty datagram", "", -1},
		{"twenty, slow path", headers(20, "\n") + "X : y\n\n", 21},
		// The general parser gets one header further than parseFast, then
		// fails: that header, past all that came before, must go too.
		{"error after twenty-five on the slow path", headers(25, "\n") + "X : y\nno colon\n\n", -1},
		{"two", headers(2, "\r\n") + "\r\n", 2},
	} {
		err := p.Parse(&m, []byte(tt.in))
		if (err != nil) != (tt.extra < 0) || tt.extra >= 0 && len(m.Extra) != tt.extra {
			t.Fatalf("%s: error %v, %d unknown headers", tt.name, err, len(m.Extra))
		}
		for i, h := range m.Extra[len(m.Extra):cap(m.Extra)] {
			if h != (ssdp.Header{}) {
				t.Fatalf("%s: entry %d past Extra's length holds %q", tt.name, len(m.Extra)+i, h)
			}
		}
	}
}

// TestParserAllocs: parsing the same response again and again allocates
// nothing per datagram, only a buffer every 16 KiB.
func TestParserAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocations")
	}
	data := loadPackets(t)["response-libupnp-v4.ssdp"]
	if data == nil {
		t.Fatal("no response-libupnp-v4.ssdp")
	}
	var p ssdp.Parser
	var m ssdp.Message
	n := testing.AllocsPerRun(1000, func() {
		if err := p.Parse(&m, data); err != nil {
			t.Fatal(err)
		}
	})
	// 1000 datagrams of 480 bytes fill 30 buffers: AllocsPerRun rounds
	// 30/1000 down to 0.
	if n != 0 {
		t.Errorf("%v allocations per datagram, want none", n)
	}
	if len(m.Extra) != 3 || m.USN == "" {
		t.Errorf("parsed %+v", m)
	}
}

// TestParserErrors: what Parse refuses, Parser.Parse refuses with the same
// error, and the Message it leaves is Reset (with an empty Extra).
func TestParserErrors(t *testing.T) {
	var p ssdp.Parser
	var reset ssdp.Message
	reset.Reset()
	for _, in := range [][]byte{nil, make([]byte, ssdp.MaxDatagram+1), []byte("GET / HTTP/1.1\r\n\r\n"),
		[]byte("NOTIFY * HTTP/1.1\r\nNT: a\r\nMX: 2\r\nbad line\r\n\r\n")} {
		m := ssdp.Message{Kind: ssdp.KindNotify, USN: "uuid:left", MX: 3, MaxAge: 9, EXT: true, ConfigID: 4,
			Extra: []ssdp.Header{{Name: "X", Value: "y"}}}
		_, want := ssdp.Parse(in)
		err := p.Parse(&m, in)
		var pe *ssdp.ParseError
		if err == nil || err.Error() != want.Error() || !errors.As(err, &pe) {
			t.Errorf("Parser.Parse(%.20q) = %v, want %v", in, err, want)
		}
		if diff := cmp.Diff(reset, m, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Parser.Parse(%.20q) left (-Reset +got):\n%s", in, diff)
		}
	}
}
