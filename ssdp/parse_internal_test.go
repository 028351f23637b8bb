package ssdp

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseFast checks parseFast against parse, the general parser: whenever
// parseFast accepts a datagram, parse must accept it too and make the same
// Message. It is seeded with the real packets, which parseFast must all
// accept, and with FuzzParse's corpus, which holds many malformed datagrams.
func FuzzParseFast(f *testing.F) {
	addPackets(f)
	corpus, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	for _, name := range corpus {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(corpusBytes(f, b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > MaxDatagram {
			return // Parse stops before either parser runs
		}
		s := string(data)
		var fast Message
		extra, ok := fast.parseFast(s, nil)
		if !ok {
			return
		}
		fast.Extra = extra
		var want Message
		extra, err := want.parse(s, nil)
		if err != nil {
			t.Fatalf("parseFast accepted %q, parse says %v", s, err)
		}
		want.Extra = extra
		if diff := cmp.Diff(want, fast); diff != "" {
			t.Fatalf("parseFast(%q) differs from parse (-parse +parseFast):\n%s", s, diff)
		}
	})
}

// TestParseFastPackets checks that the real packets in testdata, as devices
// send them, take the fast path.
func TestParseFastPackets(t *testing.T) {
	for name, b := range readPackets(t) {
		var m Message
		if _, ok := m.parseFast(string(b), nil); !ok {
			t.Errorf("%s does not take the fast path", name)
		}
	}
}

// corpusBytes decodes a corpus file of a []byte fuzz target.
func corpusBytes(t testing.TB, file []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(file)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" ||
		!strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		t.Fatalf("not a []byte corpus file: %q", file)
	}
	v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("corpus file %q: %v", file, err)
	}
	return []byte(v)
}

// checkFastName checks that parseFast, which matches names its own way,
// reads a header named name as parse does, both where it can read eight bytes
// from the name's start and at the end of a datagram, where it cannot (names
// up to six bytes long there).
func checkFastName(t *testing.T, name string) {
	t.Helper()
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\n" + name + ": 7\r\nST: a\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST: a\r\n" + name + ":",
	} {
		var fast, slow Message
		extra, ok := fast.parseFast(s, nil)
		if !ok {
			continue // parse's business
		}
		fast.Extra = extra
		extra, err := slow.parse(s, nil)
		if err != nil {
			t.Errorf("parseFast accepted %q, parse says %v", s, err)
			continue
		}
		slow.Extra = extra
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Errorf("parseFast(%q) differs from parse (-parse +parseFast):\n%s", s, diff)
		}
	}
}

// TestKnownHeader checks the word-based lookup: every known name in any case
// finds its header, no two known names share a slot, and names that differ
// from a known one in one byte, in length, or by a control character that
// folds like '-' or '.' do not match.
func TestKnownHeader(t *testing.T) {
	slots := map[int]string{}
	for id, name := range knownHeaderNames {
		slot := slotOf(len(name), name[0], name[len(name)-1])
		if other, ok := slots[slot]; ok {
			t.Fatalf("%s and %s share slot %d: change slotOf", name, other, slot)
		}
		slots[slot] = name
		mixed := []byte(strings.ToLower(name))
		for i := 0; i < len(mixed); i += 2 {
			mixed[i] = name[i]
		}
		for _, n := range []string{name, strings.ToLower(name), string(mixed)} {
			if got := knownHeader(n); got != id {
				t.Errorf("knownHeader(%q) = %d, want %d", n, got, id)
			}
			checkFastName(t, n)
		}
		for i := range len(name) {
			for _, c := range []byte{'x', '\r', '\x0e', '\x0d' ^ 0x20, name[i] ^ 1} {
				b := []byte(name)
				b[i] = c
				if got := knownHeader(string(b)); got != -1 && !isKnownName(string(b)) {
					t.Errorf("knownHeader(%q) = %d, want -1", b, got)
				}
				checkFastName(t, string(b))
			}
		}
		for _, n := range []string{name + "X", name[1:], name[:len(name)-1], " " + name, name + " "} {
			if got := knownHeader(n); got != -1 && !isKnownName(n) {
				t.Errorf("knownHeader(%q) = %d, want -1", n, got)
			}
		}
	}
	for _, n := range []string{"", "X", "OPT", "01-NLS", "X-User-Agent", "Content-Length", strings.Repeat("A", 30)} {
		if got := knownHeader(n); got != -1 {
			t.Errorf("knownHeader(%q) = %d, want -1", n, got)
		}
	}
}

// isKnownName reports whether n is a known header's name under ASCII case
// folding, the slow way.
func isKnownName(n string) bool {
	for _, name := range knownHeaderNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// TestBlockSizes checks that every block Parse allocates fills a size class of
// Go's allocator exactly, so that no byte of it goes unused: blocks over 512
// bytes that hold pointers carry an 8-byte allocation header.
func TestBlockSizes(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the byte array sizes are chosen for 64-bit machines; elsewhere blocks only waste some room")
	}
	classes := map[uintptr]bool{640: true, 768: true, 896: true, 1024: true, 1280: true,
		1536: true, 2048: true, 3072: true, 4096: true, 5376: true, 6912: true}
	for _, n := range []int{224, 352, 480, 608, 864, 1120, 1632, 2656, 3680, 4960, 6496} {
		m, x, b := allocMessage(n)
		if len(b) != n || cap(x) != inlineExtra || m.Kind != 0 {
			t.Fatalf("allocMessage(%d) gave %d bytes and room for %d headers", n, len(b), cap(x))
		}
		size := unsafe.Sizeof(Message{}) + inlineExtra*unsafe.Sizeof(Header{}) + uintptr(n) + 8
		if !classes[size] {
			t.Errorf("a block for %d bytes takes %d bytes, not a size class", n, size)
		}
		if _, _, b := allocMessage(n + 1); len(b) <= n && n < MaxDatagram {
			t.Errorf("allocMessage(%d) gave %d bytes", n+1, len(b))
		}
	}
	m, _, b := allocMessage(MaxDatagram)
	if len(b) < MaxDatagram {
		t.Errorf("allocMessage(MaxDatagram) gave %d bytes", len(b))
	}
	if size := unsafe.Sizeof(*m) + inlineExtra*unsafe.Sizeof(Header{}) + uintptr(len(b)) + 8; size != 9472 {
		t.Errorf("the block for MaxDatagram bytes takes %d bytes, not the 9472 size class", size)
	}
}

// FuzzLineBlocks checks lineBlocks, in assembly on amd64, against lineBlocksGo
// and both against a byte-by-byte reading of the same contract.
func FuzzLineBlocks(f *testing.F) {
	addPackets(f)
	f.Add([]byte("0123456789abcde:\x7f"))
	f.Add([]byte("0123456789abcdef0123456:89abcde\x1f"))
	f.Add([]byte("\x80\x9f\xff\xfe 0123456789abcdef ~\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		ctl, colon := lineBlocks(s)
		ctlGo, colonGo := lineBlocksGo(s)
		// The contract, byte by byte.
		n := len(s) &^ 15
		want, wantColon := n, -1
		for i := 0; i < n; i++ {
			if wantColon < 0 && s[i] == ':' {
				wantColon = i
			}
			if s[i] < 0x20 || s[i] == 0x7f {
				want = i
				break
			}
		}
		if want < n && wantColon < 0 {
			// The colon may also come later in the block of the control character.
			if k := strings.IndexByte(s[want:want&^15+16], ':'); k >= 0 {
				wantColon = want + k
			}
		}
		if ctl != want || colon != wantColon || ctlGo != want || colonGo != wantColon {
			t.Fatalf("lineBlocks(%q) = %d, %d; lineBlocksGo: %d, %d; want %d, %d",
				s, ctl, colon, ctlGo, colonGo, want, wantColon)
		}
	})
}

// FuzzMarks checks every implementation of markBlocks this machine can run
// (AVX2 and SSE2 assembly on amd64, Go everywhere) and lineMarks.mark against
// a byte-by-byte marking, and next against a plain search of those marks.
func FuzzMarks(f *testing.F) {
	if off := unsafe.Offsetof(lineMarks{}.colon); off != 128 {
		f.Fatalf("lineMarks.colon is at byte %d; the assembly expects 128", off)
	}
	addPackets(f)
	f.Add([]byte(strings.Repeat("0123456789abcde:\x7f", 70)))
	f.Add([]byte("\x80\x9f\xff\xfe 0123456789abcdef ~\x7f\x1f:\x20\x00"))
	variants := markVariants()
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data[:min(len(data), fastMax)])
		isCtl := func(c byte) bool { return c < 0x20 || c == 0x7f }
		var want lineMarks // whole blocks only, as markBlocks
		for i := range len(s) &^ 15 {
			if isCtl(s[i]) {
				want.ctl[i>>6] |= 1 << (i & 63)
			}
			if s[i] == ':' {
				want.colon[i>>6] |= 1 << (i & 63)
			}
		}
		// guarded puts bytes after the marks that a write past them would change.
		type guarded struct {
			m     lineMarks
			guard [64]byte
		}
		fresh := func() *guarded {
			g := new(guarded)
			for i := range g.guard {
				g.guard[i] = 0xa5
			}
			return g
		}
		intact := func(g *guarded) bool { return g.guard == fresh().guard }
		for name, mark := range variants {
			g := fresh()
			mark(s, &g.m)
			if g.m != want || !intact(g) {
				t.Fatalf("%s marks of %q:\n got %x\nwant %x\nguard %x", name, s, g.m, want, g.guard)
			}
		}
		// markAll is given the whole datagram, longer than fastMax or not.
		g := fresh()
		markAll(string(data), &g.m)
		if !intact(g) {
			t.Fatalf("markAll of %d bytes wrote past the marks", len(data))
		}
		for i := len(s) &^ 15; i < len(s); i++ {
			if isCtl(s[i]) {
				want.ctl[i>>6] |= 1 << (i & 63)
			}
			if s[i] == ':' {
				want.colon[i>>6] |= 1 << (i & 63)
			}
		}
		var all lineMarks
		all.mark(s)
		if all != want {
			t.Fatalf("mark(%q):\n got %x\nwant %x", s, all, want)
		}
		// next, from every index, to the end and to a bound.
		nextCtl, nextColon := len(s), len(s)
		for i := len(s) - 1; i >= 0; i-- {
			if isCtl(s[i]) {
				nextCtl = i
			}
			if s[i] == ':' {
				nextColon = i
			}
			if got := next(&all.ctl, i, len(s)); got != nextCtl {
				t.Fatalf("next control from %d in %q = %d, want %d", i, s, got, nextCtl)
			}
			bound := min(i+1+i%70, len(s))
			if got := next(&all.colon, i, bound); got != nextColon && (got < bound || nextColon < bound) {
				t.Fatalf("next colon from %d before %d in %q = %d, want %d", i, bound, s, got, nextColon)
			}
		}
	})
}

// TestParseLong checks the fast path's length limit at its edge: a datagram
// of fastMax bytes takes it, one of fastMax+1 or more goes to parse, and
// both read it whole.
func TestParseLong(t *testing.T) {
	for _, n := range []int{fastMax - 1, fastMax, fastMax + 1, fastMax + 63} {
		head := "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nX-A: 1\r\nSERVER: "
		server := strings.Repeat("x", n-len(head)-len("\r\n\r\n"))
		if len(server) > 1000 { // a line may not pass maxHeaderLine
			head = "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nX-A: 1\r\nLOCATION: " + server[:1000] + "\r\nSERVER: "
			server = server[:len(server)-len("\r\nLOCATION: ")-1000]
		}
		s := head + server + "\r\n\r\n"
		if len(s) != n {
			t.Fatalf("built %d bytes, want %d", len(s), n)
		}
		if _, ok := new(Message).parseFast(s, nil); ok != (n <= fastMax) {
			t.Errorf("%d bytes: parseFast ok = %v", n, ok)
		}
		m, err := Parse([]byte(s))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if m.ST != "upnp:rootdevice" || m.Server != server || len(m.Extra) != 1 {
			t.Errorf("%d bytes: ST %q, SERVER of %d bytes, Extra %v", n, m.ST, len(m.Server), m.Extra)
		}
	}
}

// TestParseFastManyHeaders checks the fast path's line limit, with either
// line end and with or without the blank line that ends the headers: 64
// header lines take it, 65 go to parse, which rejects them.
func TestParseFastManyHeaders(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		for _, lines := range []int{64, 65} {
			for _, end := range []string{eol, ""} {
				s := "NOTIFY * HTTP/1.1" + eol + "NT: upnp:rootdevice" + eol
				for i := range lines - 1 {
					s += "X-" + strconv.Itoa(i) + ": " + strconv.Itoa(i) + eol
				}
				s += end
				extra, ok := new(Message).parseFast(s, nil)
				if want := lines <= maxHeaderLines; ok != want || ok && len(extra) != lines-1 {
					t.Errorf("%d lines ending %q, then %q: parseFast ok = %v with %d headers, want ok = %v", lines, eol, end, ok, len(extra), want)
				}
				if _, err := Parse([]byte(s)); (err == nil) != (lines <= maxHeaderLines) {
					t.Errorf("%d lines ending %q, then %q: Parse error %v", lines, eol, end, err)
				}
			}
		}
	}
}

// FuzzTokenName checks tokenWords, which reads words, against isToken, with
// the words parseFast gives it for a name in a datagram, up to the end.
func FuzzTokenName(f *testing.F) {
	for _, n := range []string{"OPT", "01-NLS", "X-User-Agent", "Content-Length", "X_Y", "a.b", "é", "A B", "x:y", "SECURELOCATION.UPNP.ORG"} {
		f.Add(n, "rest: of the line\r\n")
	}
	f.Fuzz(func(t *testing.T, name, rest string) {
		for _, s := range []string{"HTTP/1.1 200 OK\r\n" + name + rest, "HTTP/1.1 200 OK\r\n" + name} {
			start, end := len("HTTP/1.1 200 OK\r\n"), len("HTTP/1.1 200 OK\r\n")+len(name)
			if name == "" || start+8 > len(s) {
				continue // parseFast calls isToken
			}
			if got, want := tokenWords(name, load64(s, start), load64(s, end-8)), isToken(name); got != want {
				t.Fatalf("tokenWords(%q in %q) = %v, isToken says %v", name, s, got, want)
			}
		}
	})
}

// TestNameWord checks nameWord byte by byte at each position of a word.
func TestNameWord(t *testing.T) {
	for c := range 256 {
		want := 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.'
		for i := range 8 {
			w := ones * uint64('a')
			w = w&^(0xff<<(8*i)) | uint64(c)<<(8*i)
			if got := nameWord(w); got != want {
				t.Fatalf("nameWord with byte %#x at %d = %v, want %v", c, i, got, want)
			}
		}
	}
}

// addPackets seeds f with the real datagrams in testdata/packets.
func addPackets(f *testing.F) {
	for _, b := range readPackets(f) {
		f.Add(b)
	}
}

// readPackets returns the real datagrams in testdata/packets by file name
// (loadPackets, for the tests outside the package).
func readPackets(tb testing.TB) map[string][]byte {
	tb.Helper()
	packets, err := filepath.Glob("testdata/packets/*")
	if err != nil || len(packets) == 0 {
		tb.Fatalf("no packets: %v", err)
	}
	out := map[string][]byte{}
	for _, name := range packets {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(name)] = b
	}
	return out
}
