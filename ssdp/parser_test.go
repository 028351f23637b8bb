package ssdp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/seedb72249f9/upnp/ssdp"
)

// checkParser parses data with p into m, as FuzzParse does with every input,
// and checks that it gives what Parse gives (want, or wantErr), that m's
// strings from the previous call (prev, and their copy keep) did not change,
// and then returns the new values for the next call.
func checkParser(t *testing.T, p *ssdp.Parser, m *ssdp.Message, data []byte, want *ssdp.Message, wantErr error, prev, keep ssdp.Message) (ssdp.Message, ssdp.Message) {
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
	// The strings of the previous message live in a buffer that later
	// datagrams share: they must not have changed. (Its Extra array is
	// reused by design.)
	prev.Extra, keep.Extra = nil, nil
	if diff := cmp.Diff(keep, prev); diff != "" {
		t.Fatalf("a string from an earlier Parser.Parse changed (-then +now):\n%s", diff)
	}
	next := *m
	next.Extra = nil
	return next, deepCopy(next)
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
// before changes.
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
	var prev, keep ssdp.Message
	total := 0
	for round := 0; total < 100<<10; round++ {
		for _, data := range inputs {
			want, err := ssdp.Parse(data)
			prev, keep = checkParser(t, &p, &m, data, want, err, prev, keep)
			total += len(data)
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
// error, and the Message it leaves is Reset.
func TestParserErrors(t *testing.T) {
	var p ssdp.Parser
	m := ssdp.Message{Kind: ssdp.KindNotify, USN: "uuid:left", Extra: []ssdp.Header{{Name: "X", Value: "y"}}}
	for _, in := range [][]byte{nil, make([]byte, ssdp.MaxDatagram+1), []byte("GET / HTTP/1.1\r\n\r\n")} {
		_, want := ssdp.Parse(in)
		err := p.Parse(&m, in)
		var pe *ssdp.ParseError
		if err == nil || err.Error() != want.Error() || !errors.As(err, &pe) {
			t.Errorf("Parser.Parse(%.20q) = %v, want %v", in, err, want)
		}
		if m.Kind != 0 || m.USN != "" || len(m.Extra) != 0 || m.BootID != -1 {
			t.Errorf("Parser.Parse(%.20q) left %+v", in, m)
		}
	}
}
