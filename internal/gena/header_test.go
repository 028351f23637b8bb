package gena_test

import (
	"bufio"
	"bytes"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp/internal/gena"
)

func TestParseTimeout(t *testing.T) {
	const s = time.Second
	for _, tt := range []struct {
		h        string
		d        time.Duration
		infinite bool
		ok       bool
	}{
		{"Second-1800", 1800 * s, false, true},
		{"second-1800", 1800 * s, false, true},
		{"SECOND-300", 300 * s, false, true},
		{"  Second-1800\t", 1800 * s, false, true},
		{"Second - 1800", 1800 * s, false, true},
		{"Second-00300", 300 * s, false, true},
		{"Second-0", 0, false, true},
		{"Second-infinite", 0, true, true},
		{"second-INFINITE", 0, true, true},
		{"Second-2147483647", math.MaxInt32 * s, false, true},
		{"Second-2147483648", math.MaxInt32 * s, false, true},
		{"Second-" + strings.Repeat("9", 100), math.MaxInt32 * s, false, true},

		{"", 0, false, false},
		{"1800", 0, false, false},
		{"Second", 0, false, false},
		{"Second-", 0, false, false},
		{"Second1800", 0, false, false},
		{"Seconds-1800", 0, false, false},
		{"Minute-5", 0, false, false},
		{"Second-abc", 0, false, false},
		{"Second--1", 0, false, false},
		{"Second-+1", 0, false, false},
		{"Second-1.5", 0, false, false},
		{"Second-18 00", 0, false, false},
		{"Second-1800, Second-300", 0, false, false},
		{"Second-infinity", 0, false, false},
		{"Second-\u0661", 0, false, false}, // an Arabic-Indic digit
	} {
		d, inf, err := gena.ParseTimeout(tt.h)
		if !tt.ok {
			checkErr(t, err, gena.ErrBadTimeout)
			continue
		}
		if err != nil || d != tt.d || inf != tt.infinite {
			t.Errorf("ParseTimeout(%q) = %v, %v, %v; want %v, %v", tt.h, d, inf, err, tt.d, tt.infinite)
		}
	}
}

func TestFormatTimeout(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{1800 * time.Second, "Second-1800"},
		{300 * time.Second, "Second-300"},
		{1500 * time.Millisecond, "Second-2"},
		{time.Nanosecond, "Second-1"},
		{0, "Second-0"},
		{-time.Second, "Second-0"},
	} {
		if got := gena.FormatTimeout(tt.d); got != tt.want {
			t.Errorf("FormatTimeout(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	for _, d := range []time.Duration{0, time.Second, 1800 * time.Second, math.MaxInt32 * time.Second} {
		got, inf, err := gena.ParseTimeout(gena.FormatTimeout(d))
		if err != nil || inf || got != d {
			t.Errorf("ParseTimeout(FormatTimeout(%v)) = %v, %v, %v", d, got, inf, err)
		}
	}
	if _, inf, err := gena.ParseTimeout(gena.InfiniteTimeout); !inf || err != nil {
		t.Errorf("ParseTimeout(InfiniteTimeout) = %v, %v", inf, err)
	}
}

// The SUBSCRIBE and renewal responses of real devices.
func TestSubscribeResponses(t *testing.T) {
	for _, tt := range []struct {
		file    string
		sid     string
		timeout time.Duration
	}{
		{"gmediarender-AVTransport-subscribe.txt", "uuid:8d5815f2-e60b-11f1-9ad4-e89da80c37c1", 300 * time.Second},
		{"gmediarender-AVTransport-renew.txt", "uuid:8d5815f2-e60b-11f1-9ad4-e89da80c37c1", 600 * time.Second},
		{"gmediarender-RenderingControl-subscribe.txt", "uuid:8cf88b28-e60b-11f1-9ad4-e89da80c37c1", 300 * time.Second},
		{"minidlna-ContentDirectory-subscribe.txt", "uuid:8c9876bb-e60b-11f1-ba11-027700000002", 300 * time.Second},
		{"minidlna-ContentDirectory-renew.txt", "uuid:8c9876bb-e60b-11f1-ba11-027700000002", 300 * time.Second},
		{"miniupnpd-WANIPConnection-subscribe.txt", "uuid:3d3cec3a-8cf0-11e0-98ee-02770000bd63", 300 * time.Second},
		{"miniupnpd-WANIPConnection-renew.txt", "uuid:3d3cec3a-8cf0-11e0-98ee-02770000bd63", 600 * time.Second},
	} {
		t.Run(tt.file, func(t *testing.T) {
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(readFile(t, "testdata/subscribe/"+tt.file))), nil)
			if err != nil {
				t.Fatal(err)
			}
			sid, err := gena.ParseSID(resp.Header.Get("SID"))
			if err != nil || sid != tt.sid {
				t.Errorf("ParseSID = %q, %v; want %q", sid, err, tt.sid)
			}
			d, inf, err := gena.ParseTimeout(resp.Header.Get("TIMEOUT"))
			if err != nil || inf || d != tt.timeout {
				t.Errorf("ParseTimeout = %v, %v, %v; want %v", d, inf, err, tt.timeout)
			}
		})
	}
}

func TestParseCallback(t *testing.T) {
	url := func(n int) string { // an http URL of exactly n bytes
		const head = "http://192.168.1.10:49152/"
		return head + strings.Repeat("a", n-len(head))
	}
	urls := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("<http://10.0.0." + string(rune('1'+i)) + "/cb>")
		}
		return b.String()
	}
	for _, tt := range []struct {
		name string
		h    string
		want []string
		err  error
	}{
		{"one", "<http://10.0.0.1:8080/cb>", []string{"http://10.0.0.1:8080/cb"}, nil},
		{"two", "<http://a/b><http://c/d>", []string{"http://a/b", "http://c/d"}, nil},
		{"spaces", "  <http://a/b> \t <http://c/d>  ", []string{"http://a/b", "http://c/d"}, nil},
		{"query", "<http://10.0.0.1/cb?x=1&y=%20>", []string{"http://10.0.0.1/cb?x=1&y=%20"}, nil},
		{"no path", "<http://10.0.0.1:1234>", []string{"http://10.0.0.1:1234"}, nil},
		{"upper-case scheme", "<HTTP://10.0.0.1/cb>", []string{"http://10.0.0.1/cb"}, nil},
		{"IPv6", "<http://[fe80::1%25eth0]:49152/cb>", []string{"http://[fe80::1%25eth0]:49152/cb"}, nil},
		{"hostname", "<http://attacker.example/cb>", []string{"http://attacker.example/cb"}, nil},
		{"six", urls(6), []string{"http://10.0.0.1/cb", "http://10.0.0.2/cb", "http://10.0.0.3/cb", "http://10.0.0.4/cb", "http://10.0.0.5/cb", "http://10.0.0.6/cb"}, nil},
		{"256 bytes", "<" + url(256) + ">", []string{url(256)}, nil},

		{"seven", urls(7), nil, gena.ErrTooManyCallbacks},
		{"many", strings.Repeat("<http://a/>", 10_000), nil, gena.ErrTooManyCallbacks},
		{"257 bytes", "<" + url(257) + ">", nil, gena.ErrCallbackTooLong},
		{"300 bytes", "<" + url(300) + ">", nil, gena.ErrCallbackTooLong},
		{"https", "<https://10.0.0.1/cb>", nil, gena.ErrCallbackScheme},
		{"ftp", "<ftp://10.0.0.1/cb>", nil, gena.ErrCallbackScheme},
		{"file", "<file:///etc/passwd>", nil, gena.ErrCallbackScheme},
		{"gopher", "<gopher://10.0.0.1:25/_HELO>", nil, gena.ErrCallbackScheme},
		{"no scheme", "<//10.0.0.1/cb>", nil, gena.ErrCallbackScheme},
		{"second bad", "<http://a/b><https://c/d>", nil, gena.ErrCallbackScheme},
		{"empty", "", nil, gena.ErrBadCallback},
		{"blank", "  ", nil, gena.ErrBadCallback},
		{"no brackets", "http://10.0.0.1/cb", nil, gena.ErrBadCallback},
		{"unclosed", "<http://10.0.0.1/cb", nil, gena.ErrBadCallback},
		{"empty brackets", "<>", nil, gena.ErrBadCallback},
		{"text after", "<http://a/b>x", nil, gena.ErrBadCallback},
		{"comma", "<http://a/b>,<http://c/d>", nil, gena.ErrBadCallback},
		{"nested", "<<http://a/b>>", nil, gena.ErrBadCallback},
		{"no host", "<http:///cb>", nil, gena.ErrBadCallback},
		{"opaque", "<http:10.0.0.1/cb>", nil, gena.ErrBadCallback},
		{"user info", "<http://user:pw@10.0.0.1/cb>", nil, gena.ErrBadCallback},
		{"port 0", "<http://10.0.0.1:0/cb>", nil, gena.ErrBadCallback},
		{"port too big", "<http://10.0.0.1:65536/cb>", nil, gena.ErrBadCallback},
		{"empty port", "<http://10.0.0.1:/cb>", nil, gena.ErrBadCallback},
		{"space", "<http://10.0.0.1/c b>", nil, gena.ErrBadCallback},
		{"CRLF", "<http://10.0.0.1/cb\r\nHost: x>", nil, gena.ErrBadCallback},
		{"NUL", "<http://10.0.0.1/\x00>", nil, gena.ErrBadCallback},
		{"non-ASCII", "<http://10.0.0.1/é>", nil, gena.ErrBadCallback},
		{"bad escape", "<http://10.0.0.1/%zz>", nil, gena.ErrBadCallback},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gena.ParseCallback(tt.h)
			checkErr(t, err, tt.err)
			if err != nil {
				checkErr(t, err, gena.ErrBadCallback) // every error says 412
				if len(err.Error()) > 300 {
					t.Errorf("error message of %d bytes", len(err.Error()))
				}
				return
			}
			var s []string
			for _, u := range got {
				s = append(s, u.String())
			}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSEQ(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want uint32
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{" 7\t", 7, true},
		{"007", 7, true},
		{"4294967295", math.MaxUint32, true},

		{"", 0, false},
		{" ", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"4294967296", 0, false},
		{"99999999999999999999999999", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"1 2", 0, false},
		{"1.0", 0, false},
	} {
		got, err := gena.ParseSEQ(tt.s)
		if !tt.ok {
			checkErr(t, err, gena.ErrBadSEQ)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSEQ(%q) = %d, %v; want %d", tt.s, got, err, tt.want)
		}
	}
}

func TestNextSEQ(t *testing.T) {
	for _, tt := range []struct{ seq, want uint32 }{
		{0, 1},
		{1, 2},
		{math.MaxUint32 - 1, math.MaxUint32},
		{math.MaxUint32, 1}, // never 0 again: that is the initial event's
	} {
		if got := gena.NextSEQ(tt.seq); got != tt.want {
			t.Errorf("NextSEQ(%d) = %d, want %d", tt.seq, got, tt.want)
		}
	}
}

func TestParseStateVars(t *testing.T) {
	for _, tt := range []struct {
		h    string
		want []string
	}{
		{"Status", []string{"Status"}},
		{"a,b,c", []string{"a", "b", "c"}},
		{" a , b ,\tc ", []string{"a", "b", "c"}},
		{"a,,b,", []string{"a", "b"}},
		{"a,b,a", []string{"a", "b"}},
		{"", nil},
		{" , ", nil},
	} {
		got := gena.ParseStateVars(tt.h)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseStateVars(%q) (-want +got):\n%s", tt.h, diff)
		}
	}
	names := []string{"Status", "LoadLevelStatus"}
	if h := gena.FormatStateVars(names); h != "Status,LoadLevelStatus" {
		t.Errorf("FormatStateVars = %q", h)
	}
	if diff := cmp.Diff(names, gena.ParseStateVars(gena.FormatStateVars(names))); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

var sidPattern = regexp.MustCompile(`^uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewSID(t *testing.T) {
	const n = 2000
	seen := make(map[string]bool, n)
	// ones[i] counts the SIDs with bit i of the UUID set; the 122 random
	// bits must each be seen both set and clear.
	var ones [128]int
	for range n {
		sid := gena.NewSID()
		if !sidPattern.MatchString(sid) {
			t.Fatalf("NewSID() = %q, not a lower-case version 4 UUID", sid)
		}
		if seen[sid] {
			t.Fatalf("NewSID() repeated %q", sid)
		}
		seen[sid] = true
		if got, err := gena.ParseSID(sid); got != sid || err != nil {
			t.Fatalf("ParseSID(%q) = %q, %v", sid, got, err)
		}
		hex := strings.ReplaceAll(sid[len("uuid:"):], "-", "")
		for i := range 128 {
			c := hex[i/4]
			v := strings.IndexByte("0123456789abcdef", c)
			if v>>(3-i%4)&1 == 1 {
				ones[i]++
			}
		}
	}
	random := 0
	for i, c := range ones {
		fixed := i >= 48 && i < 52 || i == 64 || i == 65 // version, variant
		if !fixed {
			random++
			if c == 0 || c == n {
				t.Errorf("bit %d is always %d", i, c/n)
			}
		}
	}
	if random != 122 {
		t.Errorf("%d random bits, want 122", random)
	}
}

func TestParseSID(t *testing.T) {
	for _, tt := range []struct {
		h, want string
		ok      bool
	}{
		{"uuid:8d5815f2-e60b-11f1-9ad4-e89da80c37c1", "uuid:8d5815f2-e60b-11f1-9ad4-e89da80c37c1", true},
		{" uuid:abc\t", "uuid:abc", true},
		{"UUID:ABC", "uuid:ABC", true},
		{"Uuid:x-1_2.3", "uuid:x-1_2.3", true},
		{"uuid:" + strings.Repeat("a", 123), "uuid:" + strings.Repeat("a", 123), true},

		{"", "", false},
		{"uuid:", "", false},
		{"abc", "", false},
		{"8d5815f2-e60b-11f1-9ad4-e89da80c37c1", "", false},
		{"uuid: abc", "", false},
		{"uuid:a b", "", false},
		{"uuid:a,uuid:b", "", false},
		{"uuid:a\x00", "", false},
		{"uuid:é", "", false},
		{"uuid:" + strings.Repeat("a", 124), "", false},
	} {
		got, err := gena.ParseSID(tt.h)
		if !tt.ok {
			checkErr(t, err, gena.ErrBadSID)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSID(%q) = %q, %v; want %q", tt.h, got, err, tt.want)
		}
	}
}
