package ssdp

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unsafe"
)

// Kind says which of the three SSDP message shapes a Message has.
type Kind uint8

const (
	// KindNotify is "NOTIFY * HTTP/1.1": ssdp:alive, ssdp:byebye or ssdp:update.
	KindNotify Kind = iota + 1
	// KindSearch is "M-SEARCH * HTTP/1.1".
	KindSearch
	// KindResponse is "HTTP/1.1 200 OK", the answer to an M-SEARCH.
	KindResponse
)

// NTS values.
const (
	Alive  = "ssdp:alive"
	ByeBye = "ssdp:byebye"
	Update = "ssdp:update"
)

// Well-known search targets.
const (
	All        = "ssdp:all"
	RootDevice = "upnp:rootdevice"
	Discover   = `"ssdp:discover"` // the MAN value of a search
)

// MaxDatagram is the largest datagram read; a larger one is dropped (SECURITY.md).
const MaxDatagram = 8 << 10

// Limits on the header section, besides MaxDatagram. Parse rejects a datagram
// beyond them and Append refuses to write one, both with ErrTooLarge.
const (
	maxHeaderLines = 64   // header lines, not counting the start line
	maxHeaderLine  = 1024 // bytes in one line, not counting its line end
)

// A Message is one SSDP datagram, parsed. Its string fields are the header values
// trimmed of surrounding white space ("" when absent). Numeric fields hold the
// parsed value; MaxAge, MX, SearchPort and TCPPort are 0 when absent, and BootID,
// NextBootID and ConfigID are -1 when absent (0 is a valid value for them).
//
// A known header whose value its field cannot hold (empty, not a decimal number,
// out of range, a CACHE-CONTROL without max-age, or the field's absent value as
// in "MX: 0") is not lost: Parse keeps it verbatim in Extra and leaves the field
// absent, so Get still finds it and Append writes it back. When a known header
// appears more than once, the first usable one fills the field and the others go
// to Extra. EXT is true whatever its value.
//
// The zero Message is not valid to write: set Kind and the headers that kind needs.
// Beware that its BootID, NextBootID and ConfigID are 0, which Append writes;
// Reset sets them to -1. A Message is safe for concurrent reads.
type Message struct {
	Kind Kind

	Host     string // HOST
	NT       string // NT (NOTIFY)
	NTS      string // NTS (NOTIFY): Alive, ByeBye or Update
	ST       string // ST (M-SEARCH and responses)
	USN      string // USN
	Location string // LOCATION
	Server   string // SERVER (NOTIFY and responses)
	Agent    string // USER-AGENT (M-SEARCH)
	MAN      string // MAN (M-SEARCH), quotes kept: `"ssdp:discover"`
	Date     string // DATE (responses), unparsed
	EXT      bool   // EXT present (responses)

	MaxAge     int    // CACHE-CONTROL max-age in seconds; 0 when absent
	MX         int    // MX in seconds; 0 when absent or not a number
	BootID     int32  // BOOTID.UPNP.ORG; -1 when absent
	NextBootID int32  // NEXTBOOTID.UPNP.ORG; -1 when absent
	ConfigID   int32  // CONFIGID.UPNP.ORG; -1 when absent
	SearchPort int    // SEARCHPORT.UPNP.ORG; 0 when absent
	TCPPort    int    // TCPPORT.UPNP.ORG (UDA 2.0, M-SEARCH); 0 when absent
	CPFN       string // CPFN.UPNP.ORG (UDA 2.0, M-SEARCH): control point friendly name
	CPUUID     string // CPUUID.UPNP.ORG (UDA 2.0, M-SEARCH)

	// Extra holds the headers not named above, in arrival order, names as sent.
	// Parsing fills it without copying; Append writes it after the known headers.
	Extra []Header
}

// A Header is one header line that Message has no field for.
type Header struct {
	Name, Value string
}

// inlineExtra is how many Extra headers Parse stores without a further
// allocation. The devices in testdata send at most three (OPT, 01-NLS and
// X-User-Agent, from libupnp).
const inlineExtra = 4

// A block is what Parse allocates: the Message, room for its first Extra
// headers, and the copy of the datagram that its strings point into, all in
// one object. B is a byte array of one of the sizes allocMessage picks, each
// chosen so that the block fills a size class of Go's allocator: on 64-bit
// machines Message and the headers take 408 bytes, and the allocator adds an
// 8-byte header to an object over 512 bytes that holds pointers
// (TestBlockSizes checks this).
type block[B any] struct {
	m Message
	x [inlineExtra]Header
	b B
}

// newBlock allocates a block with a B-sized byte array and returns its parts.
func newBlock[B any]() (*Message, []Header, []byte) {
	q := new(block[B])
	return &q.m, q.x[:0], unsafe.Slice((*byte)(unsafe.Pointer(&q.b)), unsafe.Sizeof(q.b))
}

// allocMessage returns a zero Message, room for inlineExtra headers and a
// byte slice of at least n bytes (n <= MaxDatagram), all in one allocation.
func allocMessage(n int) (*Message, []Header, []byte) {
	switch {
	case n <= 224:
		return newBlock[[224]byte]() // 640-byte size class
	case n <= 352:
		return newBlock[[352]byte]() // 768
	case n <= 480:
		return newBlock[[480]byte]() // 896
	case n <= 608:
		return newBlock[[608]byte]() // 1024
	case n <= 864:
		return newBlock[[864]byte]() // 1280
	case n <= 1120:
		return newBlock[[1120]byte]() // 1536
	case n <= 1632:
		return newBlock[[1632]byte]() // 2048
	case n <= 2656:
		return newBlock[[2656]byte]() // 3072
	case n <= 3680:
		return newBlock[[3680]byte]() // 4096
	case n <= 4960:
		return newBlock[[4960]byte]() // 5376
	case n <= 6496:
		return newBlock[[6496]byte]() // 6912
	}
	return newBlock[[9056]byte]() // 9472; MaxDatagram is 8192
}

// Parse parses one SSDP datagram. Header names are matched case-insensitively,
// values are trimmed, bare LF line ends are accepted, a missing final blank line is
// accepted, and unknown headers go to Extra. The Message's strings share a single
// copy of b, so the caller may reuse b. Parse returns a *ParseError for anything it
// cannot read; it never panics.
//
// The start line is "NOTIFY * HTTP/1.1", "M-SEARCH * HTTP/1.1" or "HTTP/1.1 200"
// with any reason text; HTTP/1.0 and trailing white space are accepted, any other
// method or status is an error. Anything after the blank line ending the headers
// is ignored. A datagram over MaxDatagram bytes, more than 64 header lines or a
// line over 1024 bytes is an error that wraps ErrTooLarge. A control character
// other than tab in the header section, a line without ':', a continuation line
// (one starting with white space) and a header name that is not an HTTP token
// are errors too.
//
// Parse makes one allocation, which holds the Message, its first four Extra
// headers and the copy of b; more Extra headers (the real devices in testdata
// send up to three) need one more. Because the strings share that allocation,
// keeping any one of them keeps all of it, a block of 640 to 9472 bytes
// depending on len(b): a caller that keeps a few values for long, as a cache
// does, should copy them with strings.Clone.
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxDatagram {
		return nil, errDatagramTooLarge()
	}
	if len(b) == 0 {
		return nil, &ParseError{Line: 1, Reason: reasonEmpty}
	}
	m, x, buf := allocMessage(len(b))
	buf = buf[:copy(buf, b)]
	// The only copy: every string in m is a substring of s, and nothing
	// writes to buf after this.
	s := unsafe.String(unsafe.SliceData(buf), len(buf))
	extra, ok := m.parseFast(s, x)
	if !ok {
		*m = Message{}
		if cap(extra) > cap(x) {
			x = extra[:0] // parseFast already grew the room for headers
		}
		var err error
		if extra, err = m.parse(s, x); err != nil {
			return nil, err
		}
	}
	if len(extra) > 0 {
		// Full slice expression: an append to one copy of the Message must
		// not write into the spare room that another copy shares.
		m.Extra = extra[:len(extra):len(extra)]
	}
	return m, nil
}

// Append appends the wire form of m to b: the start line for m.Kind, the headers
// that are set, in a fixed order, with CRLF line ends, then Extra, then a blank
// line. It returns an error when m.Kind is unknown.
//
// Names are written in upper case (HOST, CACHE-CONTROL: max-age=N, DATE, EXT,
// LOCATION, NT, NTS, SERVER, ST, USN, USER-AGENT, MAN, MX, then the *.UPNP.ORG
// headers), Extra names as given. Append also returns an error, and b unchanged,
// when a value holds a control character other than tab (CR or LF would let a
// value inject headers), an Extra name is not an HTTP token, a number is out of
// the range Parse accepts (negative other than an absent -1, over 65535 for the
// ports, over 2147483647 for the others), or the message would break the limits
// Parse enforces (that error wraps ErrTooLarge). Beyond growing b it does not
// allocate.
func (m *Message) Append(b []byte) ([]byte, error) { return m.append(b) }

// Get returns the value of the header named name (any case), known or Extra,
// as it would be written, or "" when m does not have it.
//
// For a known header whose field is absent, Get looks in Extra, where Parse keeps
// values the field cannot hold. EXT reads as "" whether present or not.
func (m *Message) Get(name string) string { return m.get(name) }

// Reset sets m to a Message with no Kind and no headers: string fields "",
// MaxAge, MX, SearchPort and TCPPort 0, BootID, NextBootID and ConfigID -1, and
// Extra nil. Use it before filling in a Message to write.
func (m *Message) Reset() {
	*m = Message{BootID: -1, NextBootID: -1, ConfigID: -1}
}

// Header identifiers, in the order Append writes them.
const (
	hHost = iota
	hCacheControl
	hDate
	hEXT
	hLocation
	hNT
	hNTS
	hServer
	hST
	hUSN
	hAgent
	hMAN
	hMX
	hBootID
	hNextBootID
	hConfigID
	hSearchPort
	hCPFN
	hCPUUID
	hTCPPort
	numKnownHeaders
)

// stringField returns the string field at offset off of m, an entry of
// stringFields.
func (m *Message) stringField(off uintptr) *string {
	return (*string)(unsafe.Add(unsafe.Pointer(m), off))
}

// stringFields holds, for each known header whose field is a string, that
// field's offset in a Message; 0 for the others. set and parseFast fill the
// string fields through it.
var stringFields = [32]uintptr{
	hHost:     unsafe.Offsetof(Message{}.Host),
	hNT:       unsafe.Offsetof(Message{}.NT),
	hNTS:      unsafe.Offsetof(Message{}.NTS),
	hST:       unsafe.Offsetof(Message{}.ST),
	hUSN:      unsafe.Offsetof(Message{}.USN),
	hLocation: unsafe.Offsetof(Message{}.Location),
	hServer:   unsafe.Offsetof(Message{}.Server),
	hAgent:    unsafe.Offsetof(Message{}.Agent),
	hMAN:      unsafe.Offsetof(Message{}.MAN),
	hDate:     unsafe.Offsetof(Message{}.Date),
	hCPFN:     unsafe.Offsetof(Message{}.CPFN),
	hCPUUID:   unsafe.Offsetof(Message{}.CPUUID),
}

// knownHeaderNames are the canonical names, indexed by header identifier.
var knownHeaderNames = [numKnownHeaders]string{
	hHost:         "HOST",
	hCacheControl: "CACHE-CONTROL",
	hDate:         "DATE",
	hEXT:          "EXT",
	hLocation:     "LOCATION",
	hNT:           "NT",
	hNTS:          "NTS",
	hServer:       "SERVER",
	hST:           "ST",
	hUSN:          "USN",
	hAgent:        "USER-AGENT",
	hMAN:          "MAN",
	hMX:           "MX",
	hBootID:       "BOOTID.UPNP.ORG",
	hNextBootID:   "NEXTBOOTID.UPNP.ORG",
	hConfigID:     "CONFIGID.UPNP.ORG",
	hSearchPort:   "SEARCHPORT.UPNP.ORG",
	hCPFN:         "CPFN.UPNP.ORG",
	hCPUUID:       "CPUUID.UPNP.ORG",
	hTCPPort:      "TCPPORT.UPNP.ORG",
}

// knownHeader returns the identifier of the header named name, in any case, or
// -1.
func knownHeader(name string) int {
	if end, _ := scanHeaderLine(name, 0); end < len(name) {
		return -1 // wordHeader would fold a CR into '-'
	}
	return wordHeader(name)
}

// wordHeader is knownHeader for a name without control characters, comparing
// words instead of bytes: the name's length and first and last bytes pick
// the one known header it can be (see slotOf); then the name is compared,
// case-folded, a word at a time (see headerSlot.match).
func wordHeader(name string) int {
	n := len(name)
	if n < 2 || n > 24 {
		return -1
	}
	h := &headerSlots[slotOf(n, name[0], name[n-1])]
	var last, mid uint64
	if n > 8 {
		last = load64(name, n-8)
	}
	if n > 16 {
		mid = load64(name, 8)
	}
	if !h.match(n, firstWord(name), last, mid) {
		return -1
	}
	return int(h.id)
}

// slotOf hashes a name's length and its first and last bytes, lower-cased,
// to a slot of headerSlots. No two known headers share a slot (TestKnownHeader
// checks this).
func slotOf(n int, first, last byte) int {
	return (n*14 + int(first|0x20)<<1 ^ int(last|0x20)) & 31
}

// A headerSlot is one known header's entry in headerSlots. Its words are
// parts of the name, in lower case, with bit 5 of every byte set.
type headerSlot struct {
	first uint64 // the first eight bytes (a shorter name: zero-padded)
	mask  uint64 // the bytes of first that are the name's
	last  uint64 // a name over eight bytes: its last eight bytes
	mid   uint64 // a name over 16 bytes: its bytes 8 to 15
	n     uint8  // the name's length
	id    int8
}

// match reports whether a name of n bytes without control characters is
// h's, given its first eight bytes (any bytes may follow a shorter name) and,
// when n is over 8, its last eight, and when n is over 16, its bytes 8 to 15.
// These cover the whole name, up to 24 bytes.
func (h *headerSlot) match(n int, first, last, mid uint64) bool {
	return int(h.n) == n && (first|fold)&h.mask == h.first &&
		(n <= 8 || last|fold == h.last && (n <= 16 || mid|fold == h.mid))
}

// headerSlots holds each known header's entry in its slot; the others have
// length 0.
//
// Setting bit 5 lower-cases ASCII letters. For the bytes of the known names
// ('-', '.' and letters) only the upper-case letter and a control character
// (CR or SO) fold to the same byte, so for names without control
// characters, equal words mean equal bytes up to ASCII case.
var headerSlots = func() (t [32]headerSlot) { // 32: see slotOf
	for id, name := range knownHeaderNames {
		h := &t[slotOf(len(name), name[0], name[len(name)-1])]
		lower := strings.ToLower(name)
		h.mask = lowBytes(min(len(name), 8))
		h.first = (firstWord(lower) | fold) & h.mask
		if len(name) > 8 {
			h.last = load64(lower, len(name)-8) | fold
		}
		if len(name) > 16 {
			h.mid = load64(lower, 8) | fold
		}
		h.n, h.id = uint8(len(name)), int8(id)
	}
	return t
}()

// firstWord returns the first eight bytes of s as a little-endian number,
// zero-padded when s is shorter.
func firstWord(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.LittleEndian.Uint64(b[:])
}

// fold is bit 5 of every byte of a word.
const fold = ones * 0x20

// lowBytes returns a word whose low k bytes (0 <= k, at most eight) are 0xff.
func lowBytes(k int) uint64 {
	return 1<<(uint(k)*8) - 1
}

// foldEqual reports whether s equals lower, which is in lower case, under ASCII
// case folding. Unlike strings.EqualFold it neither decodes UTF-8 nor folds
// Unicode (the Kelvin sign is not a k).
func foldEqual(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if toLower[s[i]] != lower[i] {
			return false
		}
	}
	return true
}

// toLower maps ASCII upper-case letters to lower case and other bytes to
// themselves; a table lookup is cheaper than the unpredictable branch.
var toLower = func() (t [256]byte) {
	for c := range 256 {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

// notTokenByte is 1 for the bytes that may not appear in a header name (RFC
// 9110 tchar), 0 for the others.
var notTokenByte = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0) {
			t[c] = 1
		}
	}
	return t
}()

// scanLine finds the end of the line that starts at s[i]: the index of its
// line end (LF, CRLF, or a CR or nothing at the end of s) and of the next line.
// ok is false if the line holds a control character other than tab (a byte
// below 0x20, or 0x7f), then at index end.
func scanLine(s string, i int) (end, next int, ok bool) {
	for {
		j, _ := scanHeaderLine(s, i)
		switch {
		case j == len(s):
			return len(s), len(s), true
		case s[j] != '\t':
			return lineEnd(s, j)
		}
		i = j + 1
	}
}

// lineEnd classifies the control character s[j] for scanLine.
func lineEnd(s string, j int) (end, next int, ok bool) {
	switch {
	case s[j] == '\n':
		return j, j + 1, true
	case s[j] == '\r' && j+1 == len(s):
		return j, j + 1, true
	case s[j] == '\r' && s[j+1] == '\n':
		return j, j + 2, true
	}
	return j, j, false
}

// roomFor returns extra with room for one more header. When it is full, the
// new room is for every header that may follow too (rest is what follows
// the current line), capped at maxHeaderLines, so that a datagram needs at
// most one allocation beyond Parse's.
func roomFor(extra []Header, rest string) []Header {
	if len(extra) < cap(extra) {
		return extra
	}
	n := min(len(extra)+1+strings.Count(rest, "\n")+1, maxHeaderLines)
	return append(make([]Header, 0, n), extra...)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	var bad uint8 // without a branch per byte: names are short
	for i := 0; i < len(s); i++ {
		bad |= notTokenByte[s[i]]
	}
	return bad == 0
}

// Reasons for a ParseError.
const (
	reasonEmpty     = "empty datagram"
	reasonStartLine = "malformed start line"
	reasonMethod    = "unknown method"
	reasonTarget    = "request target is not *"
	reasonVersion   = "unsupported HTTP version"
	reasonStatus    = "status code is not 200"
	reasonControl   = "control character in header section"
	reasonLineLong  = "line longer than 1024 bytes"
	reasonTooMany   = "more than 64 header lines"
	reasonNoColon   = "header line without ':'"
	reasonFolding   = "line folding (line starting with white space)"
	reasonBadName   = "header name is not a token"
	reasonTooLarge  = "datagram larger than 8192 bytes"
)

func errDatagramTooLarge() error { return &ParseError{Reason: reasonTooLarge, Err: ErrTooLarge} }

// parse reads s into m, except that it appends the headers for Extra to extra
// and returns it. It is the general parser, which also says exactly what is
// wrong; Parse tries parseFast first.
func (m *Message) parse(s string, extra []Header) ([]Header, error) {
	if len(s) > MaxDatagram {
		return nil, errDatagramTooLarge()
	}
	if len(s) == 0 {
		return nil, &ParseError{Line: 1, Reason: reasonEmpty}
	}
	m.BootID, m.NextBootID, m.ConfigID = -1, -1, -1
	var seen uint32 // known headers whose field is filled
	pos := 0
	for n := 1; ; n++ {
		start := pos
		end, next, ok := scanLine(s, pos)
		if end-start > maxHeaderLine {
			return nil, &ParseError{Line: n, Reason: reasonLineLong, Err: ErrTooLarge}
		}
		if !ok {
			return nil, &ParseError{Line: n, Reason: reasonControl}
		}
		line := s[start:end]
		pos = next
		if n == 1 {
			if err := m.parseStartLine(line); err != nil {
				return nil, err
			}
		} else {
			if line == "" {
				break // end of headers; the body, if any, is ignored
			}
			if n-1 > maxHeaderLines {
				return nil, &ParseError{Line: n, Reason: reasonTooMany, Err: ErrTooLarge}
			}
			if line[0] == ' ' || line[0] == '\t' {
				return nil, &ParseError{Line: n, Reason: reasonFolding}
			}
			colon := 0 // names are short: a loop beats IndexByte
			for colon < len(line) && line[colon] != ':' {
				colon++
			}
			if colon == len(line) {
				return nil, &ParseError{Line: n, Reason: reasonNoColon}
			}
			name := trimRight(line[:colon])
			value := trim(line[colon+1:])
			id := knownHeader(name)
			switch {
			case id >= 0 && seen&(1<<id) == 0 && m.set(id, value):
				seen |= 1 << id
			case id >= 0 || isToken(name):
				extra = append(roomFor(extra, s[pos:]), Header{Name: name, Value: value})
			default:
				return nil, &ParseError{Line: n, Reason: reasonBadName}
			}
		}
		if pos >= len(s) {
			break
		}
	}
	return extra, nil
}

// parseFast is parse for the common case: one of the usual start lines
// ("HTTP/1.1 200 OK", "NOTIFY * HTTP/1.1" or "M-SEARCH * HTTP/1.1"), then
// header lines "Name: value" with the colon right after a token name. It
// reports false, leaving m in any state, for anything else, valid or not,
// and Parse then runs parse from the start, reusing the room for headers that
// parseFast may have grown. When it reports true, m and
// extra are what parse would have made of s (FuzzParseFast checks this).
//
// It is faster because it first marks every control character and colon of
// the datagram in two bitmaps (lineMarks, 64 bytes at a time with AVX2, 16
// with SSE2, eight in portable Go), then finds each line's end and colon with
// a few bit operations, and which known header a name is by hash. Datagrams
// over fastMax bytes go to parse.
func (m *Message) parseFast(s string, extra []Header) ([]Header, bool) {
	if len(s) > fastMax || len(s) < 24 {
		return nil, false
	}
	// The start line, compared as overlapping words.
	var pos int
	switch w := load64(s, 0); {
	case w == startResponse[0] && load64(s, 7) == startResponse[1]:
		m.Kind, pos = KindResponse, len("HTTP/1.1 200 OK")
	case w == startNotify[0] && load64(s, 8) == startNotify[1] && load64(s, 9) == startNotify[2]:
		m.Kind, pos = KindNotify, len("NOTIFY * HTTP/1.1")
	case w == startSearch[0] && load64(s, 8) == startSearch[1] && load64(s, 11) == startSearch[2]:
		m.Kind, pos = KindSearch, len("M-SEARCH * HTTP/1.1")
	default:
		return nil, false
	}
	switch {
	case strings.HasPrefix(s[pos:], "\r\n"):
		pos += 2
	case strings.HasPrefix(s[pos:], "\n"):
		pos++
	default:
		return nil, false
	}
	var marks lineMarks
	marks.mark(s)
	m.BootID, m.NextBootID, m.ConfigID = -1, -1, -1
	// The low 32 bits of seen are the known headers whose field is filled;
	// the high bits count the header lines, which saves a register.
	var seen uint64
	const line = 1 << 32
	// at returns s[i], word load64(s, i) and sub s[i:j], for indexes the
	// loop has checked, without checking them again; sub needs i < len(s),
	// so that its pointer stays inside s (checkptr, in race builds, checks
	// this).
	base := unsafe.Pointer(unsafe.StringData(s))
	at := func(i int) byte { return *(*byte)(unsafe.Add(base, i)) }
	word := func(i int) uint64 { return wordAt(unsafe.Add(base, i)) }
	sub := func(i, j int) string { return unsafe.String((*byte)(unsafe.Add(base, i)), j-i) }
	for pos < len(s) {
		start := pos
		end := next(&marks.ctl, pos, len(s))
		colon := next(&marks.colon, pos, end)
		switch {
		case end+1 < len(s) && at(end) == '\r' && at(end+1) == '\n':
			pos = end + 2 // the usual CRLF
		case end == len(s):
			pos = end
		case at(end) == '\n':
			pos = end + 1
		case at(end) == '\r' && end+1 == len(s):
			pos = end + 1 // a CR ending the datagram
		default:
			return extra, false // a tab, or a control character that is an error
		}
		if end == start {
			return extra, true // the blank line ending the headers
		}
		// A 65th header line goes to parse, which says it is one too many.
		if seen += line; seen > maxHeaderLines*line|(line-1) {
			return extra, false
		}
		// The line cannot be over maxHeaderLine (fastMax is not), so it is
		// good if start < colon < end.
		if uint(colon-start-1) >= uint(end-start-1) {
			return extra, false
		}
		v := colon + 1
		if v < end && at(v) == ' ' {
			v++ // the usual single space, without a loop
		}
		name, value := sub(start, colon), s[v:end] // s[end:end] points inside s
		if value != "" && (value[0] <= ' ' || value[len(value)-1] <= ' ') {
			value = trim(value) // no control characters: only spaces and tabs
		}
		// wordHeader(name), inlined where eight bytes can be read from the
		// line's start, and tokenWords for an unknown name, sharing its
		// words. A header line starts at 16 or later (the shortest start
		// line and its line end), so the words before the colon and the
		// name's end, read even for a name under eight bytes, are in s.
		id, token := -1, true
		if n := colon - start; n < 2 || n > 24 || start+8 > len(s) {
			if id = wordHeader(name); id < 0 {
				token = isToken(name)
			}
		} else {
			first, last := word(start), word(colon-8)
			if h := &headerSlots[slotOf(n, at(start), at(colon-1))]; h.match(n, first, last, word(start+min(n-8, 8))) {
				id = int(h.id)
			} else {
				token = tokenWords(name, first, last)
			}
		}
		bit := uint64(1) << (uint(id) & 31)
		switch {
		case id >= 0 && seen&bit == 0 && stringFields[id&31] != 0 && value != "":
			// The usual case, without a call to set.
			*m.stringField(stringFields[id&31]) = value
			seen |= bit
		case id == hEXT && seen&bit == 0:
			m.EXT = true // as set does, whatever the value
			seen |= bit
		case id >= 0 && seen&bit == 0 && m.set(id, value):
			seen |= bit
		case token:
			if len(extra) == cap(extra) {
				extra = roomFor(extra, s[pos:])
			}
			extra = append(extra, Header{Name: name, Value: value})
		default:
			return extra, false
		}
	}
	return extra, true
}

// tokenWords is isToken(name), for a name of at least one byte, with a fast
// yes, a word at a time, for the usual names of up to 16 letters, digits,
// '-' and '.'. first holds the name's first eight bytes (any bytes may follow
// a shorter name), last its last eight when it is longer than eight.
func tokenWords(name string, first, last uint64) bool {
	m := lowBytes(min(len(name), 8)) // the name's bytes; the rest of the word becomes 'a'
	if len(name) <= 16 && nameWord(first&m|ones*'a'&^m) && (len(name) <= 8 || nameWord(last)) {
		return true
	}
	return isToken(name)
}

// nameWord reports whether each byte of w is an ASCII letter, digit, '-' or
// '.'. Each test adds to the low seven bits of a byte so that its high bit
// says whether the byte reaches a bound; nothing carries into the next byte.
func nameWord(w uint64) bool {
	if w&high != 0 {
		return false
	}
	y := w | ones*0x20 // letters in lower case
	letter := (y + ones*(0x80-'a')) &^ (y + ones*(0x80-'z'-1))
	digit := (w + ones*(0x80-'0')) &^ (w + ones*(0x80-'9'-1))
	dashDot := (w + ones*(0x80-'-')) &^ (w + ones*(0x80-'.'-1))
	return (letter|digit|dashDot)&high == high
}

// SWAR constants: a byte of ones, of seven ones, and of the high bit.
const (
	ones = 0x0101010101010101
	lo7  = 0x7f7f7f7f7f7f7f7f
	high = 0x8080808080808080
)

// scanHeaderLine reads s from s[i] up to the first control character (a byte
// below 0x20, or 0x7f) and returns its index, or len(s) if there is none, and
// the index of the first ':' from s[i], or -1; that colon may come after the
// control character.
func scanHeaderLine(s string, i int) (ctl, colon int) {
	colon = -1
	if len(s)-i >= 16 {
		c, k := lineBlocks(s[i:])
		if k >= 0 {
			colon = i + k
		}
		if c < (len(s)-i)&^15 {
			return i + c, colon
		}
		if i+c == len(s) {
			return len(s), colon
		}
		// The rest is shorter than a block: read the last 16 bytes of s,
		// which repeats some just read, where there was no control character
		// and, if colon < 0, no colon.
		w := len(s) - 16
		c, k = lineBlocks(s[w:])
		if colon < 0 && k >= 0 {
			colon = w + k
		}
		if c < 16 {
			return w + c, colon
		}
		return len(s), colon
	}
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return i, colon
		case c == ':' && colon < 0:
			colon = i
		}
	}
	return len(s), colon
}

// lineBlocksGo is lineBlocks in Go, eight bytes at a time. (The SWAR tricks:
// masking off bit 7 first keeps the additions from carrying into the next
// byte, so each byte is tested for itself alone.)
func lineBlocksGo(s string) (ctl, colon int) {
	colon = -1
	n := len(s) &^ 15
	for i := 0; i < n; i += 8 {
		x := load64(s, i)
		a := x & lo7
		control := (a + ones | ^(a + ones*0x60)) &^ x & high
		if colon < 0 {
			t := x ^ ones*':'
			if z := ^(t&lo7 + lo7 | t) & high; z != 0 {
				colon = i + bits.TrailingZeros64(z)>>3
			}
		}
		if control != 0 {
			j := i + bits.TrailingZeros64(control)>>3
			if colon < 0 && i&15 == 0 {
				// lineBlocks looks for the colon in the whole block.
				t := load64(s, i+8) ^ ones*':'
				if z := ^(t&lo7 + lo7 | t) & high; z != 0 {
					colon = i + 8 + bits.TrailingZeros64(z)>>3
				}
			}
			return j, colon
		}
	}
	return n, colon
}

// load64 returns s[i:i+8] as a little-endian number, with one load on most
// machines.
func load64(s string, i int) uint64 {
	_ = s[i : i+8] // a caller's mistake, even a negative i, panics rather than read outside s
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i)), 8))
}

// parseStartLine sets m.Kind from the first line.
func (m *Message) parseStartLine(line string) error {
	line = trimRight(line)
	if line == "" {
		return &ParseError{Line: 1, Reason: reasonEmpty}
	}
	first, rest := cutSpace(line)
	if first == "HTTP/1.1" || first == "HTTP/1.0" {
		code, _ := cutSpace(rest)
		if code != "200" {
			return &ParseError{Line: 1, Reason: reasonStatus}
		}
		m.Kind = KindResponse
		return nil
	}
	switch first {
	case "NOTIFY":
		m.Kind = KindNotify
	case "M-SEARCH":
		m.Kind = KindSearch
	default:
		if strings.HasPrefix(first, "HTTP/") {
			return &ParseError{Line: 1, Reason: reasonVersion}
		}
		return &ParseError{Line: 1, Reason: reasonMethod}
	}
	target, rest := cutSpace(rest)
	version, rest := cutSpace(rest)
	switch {
	case target != "*":
		return &ParseError{Line: 1, Reason: reasonTarget}
	case version != "HTTP/1.1" && version != "HTTP/1.0":
		return &ParseError{Line: 1, Reason: reasonVersion}
	case rest != "":
		return &ParseError{Line: 1, Reason: reasonStartLine}
	}
	return nil
}

// cutSpace returns the text before the first run of spaces or tabs, and the text
// after it.
func cutSpace(s string) (tok, rest string) {
	i := 0
	for i < len(s) && s[i] != ' ' && s[i] != '\t' {
		i++
	}
	return s[:i], trimLeft(s[i:])
}

func trimLeft(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func trimRight(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func trim(s string) string { return trimRight(trimLeft(s)) }

// set stores value in the field of known header id, reporting false when the
// field cannot hold it.
func (m *Message) set(id int, v string) bool {
	if id == hEXT {
		m.EXT = true
		return true
	}
	if v == "" {
		return false
	}
	if off := stringFields[id]; off != 0 {
		*m.stringField(off) = v
		return true
	}
	var n int
	var ok bool
	switch id {
	case hCacheControl:
		n, ok = maxAge(v)
		if ok = ok && n > 0; ok {
			m.MaxAge = n
		}
		return ok
	case hMX:
		n, ok = parseDecimal(v, math.MaxInt32)
		if ok = ok && n > 0; ok {
			m.MX = n
		}
		return ok
	case hSearchPort:
		n, ok = parseDecimal(v, math.MaxUint16)
		if ok = ok && n > 0; ok {
			m.SearchPort = n
		}
		return ok
	case hTCPPort:
		n, ok = parseDecimal(v, math.MaxUint16)
		if ok = ok && n > 0; ok {
			m.TCPPort = n
		}
		return ok
	case hBootID:
		n, ok = parseDecimal(v, math.MaxInt32)
		if ok {
			m.BootID = int32(n)
		}
		return ok
	case hNextBootID:
		n, ok = parseDecimal(v, math.MaxInt32)
		if ok {
			m.NextBootID = int32(n)
		}
		return ok
	case hConfigID:
		n, ok = parseDecimal(v, math.MaxInt32)
		if ok {
			m.ConfigID = int32(n)
		}
		return ok
	}
	return true
}

// parseDecimal parses s, ASCII digits only, as a number no greater than max
// (at most math.MaxInt32), without allocating.
func parseDecimal(s string, max int) (int, bool) {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	if s == "" || len(s) > 10 {
		return 0, false
	}
	var n uint64 // ten digits fit, even where int has 32 bits
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + uint64(d)
	}
	if n > uint64(max) {
		return 0, false
	}
	return int(n), true
}

// maxAge returns the first max-age directive of a CACHE-CONTROL value such as
// `no-cache="Ext", max-age = 1800`. Quoted strings are skipped, so a comma or
// "max-age" inside one does not count.
func maxAge(v string) (int, bool) {
	// "max-age=" as a little-endian word; the OR lower-cases its letters.
	const key, letters = 0x3d6567612d78616d, 0x0020202000202020
	if len(v) > len("max-age=") && load64(v, 0)|letters == key {
		if n, ok := parseDecimal(v[len("max-age="):], math.MaxInt32); ok {
			return n, true // the usual "max-age=N"
		}
	}
	for v != "" {
		// Cut one directive, honouring quoted strings.
		i, quoted := 0, false
		for ; i < len(v); i++ {
			c := v[i]
			if quoted {
				if c == '\\' {
					i++
				} else if c == '"' {
					quoted = false
				}
			} else if c == '"' {
				quoted = true
			} else if c == ',' {
				break
			}
		}
		d := v[:min(i, len(v))]
		v = v[min(i+1, len(v)):]

		name, arg, _ := strings.Cut(d, "=")
		if !foldEqual(trim(name), "max-age") {
			continue
		}
		arg = trim(arg)
		if len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"' {
			arg = arg[1 : len(arg)-1]
		}
		return parseDecimal(arg, math.MaxInt32)
	}
	return 0, false
}

// field returns the value of known header id as Append writes it, and whether
// m has it.
func (m *Message) field(id int) (string, bool) {
	var s string
	switch id {
	case hHost:
		s = m.Host
	case hNT:
		s = m.NT
	case hNTS:
		s = m.NTS
	case hST:
		s = m.ST
	case hUSN:
		s = m.USN
	case hLocation:
		s = m.Location
	case hServer:
		s = m.Server
	case hAgent:
		s = m.Agent
	case hMAN:
		s = m.MAN
	case hDate:
		s = m.Date
	case hCPFN:
		s = m.CPFN
	case hCPUUID:
		s = m.CPUUID
	case hEXT:
		return "", m.EXT
	case hCacheControl:
		if m.MaxAge > 0 {
			return "max-age=" + strconv.Itoa(m.MaxAge), true
		}
		return "", false
	default:
		if n, ok := m.number(id); ok {
			return strconv.FormatInt(n, 10), true
		}
		return "", false
	}
	return s, s != ""
}

// number returns the value of numeric header id and whether it is present
// (it may be out of range).
func (m *Message) number(id int) (int64, bool) {
	switch id {
	case hMX:
		return int64(m.MX), m.MX != 0
	case hSearchPort:
		return int64(m.SearchPort), m.SearchPort != 0
	case hTCPPort:
		return int64(m.TCPPort), m.TCPPort != 0
	case hBootID:
		return int64(m.BootID), m.BootID != -1
	case hNextBootID:
		return int64(m.NextBootID), m.NextBootID != -1
	case hConfigID:
		return int64(m.ConfigID), m.ConfigID != -1
	case hCacheControl:
		return int64(m.MaxAge), m.MaxAge != 0
	}
	return 0, false
}

// maxNumber is the largest value Append writes for numeric header id; Parse
// accepts no more.
func maxNumber(id int) int64 {
	switch id {
	case hSearchPort, hTCPPort:
		return math.MaxUint16
	}
	return math.MaxInt32
}

func (m *Message) get(name string) string {
	if id := knownHeader(name); id >= 0 {
		if v, ok := m.field(id); ok {
			return v
		}
	}
	for _, h := range m.Extra {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func (m *Message) append(b []byte) ([]byte, error) {
	start := len(b)
	switch m.Kind {
	case KindNotify:
		b = append(b, "NOTIFY * HTTP/1.1\r\n"...)
	case KindSearch:
		b = append(b, "M-SEARCH * HTTP/1.1\r\n"...)
	case KindResponse:
		b = append(b, "HTTP/1.1 200 OK\r\n"...)
	default:
		return b, fmt.Errorf("ssdp: cannot write message of unknown kind %d", m.Kind)
	}
	lines := 0
	for id := range numKnownHeaders {
		name := knownHeaderNames[id]
		var v string
		switch id {
		case hEXT:
			if m.EXT {
				b = append(b, "EXT:\r\n"...)
				lines++
			}
			continue
		case hCacheControl, hMX, hSearchPort, hTCPPort, hBootID, hNextBootID, hConfigID:
			n, ok := m.number(id)
			if !ok {
				continue
			}
			if n < 0 || n > maxNumber(id) {
				return b[:start], fmt.Errorf("ssdp: cannot write %s: %d is out of range", name, n)
			}
			b = append(b, name...)
			b = append(b, ": "...)
			if id == hCacheControl {
				b = append(b, "max-age="...)
			}
			b = strconv.AppendInt(b, n, 10)
			b = append(b, "\r\n"...)
			lines++
			continue
		default:
			v, _ = m.field(id)
			if v == "" {
				continue
			}
		}
		if err := checkHeader(name, v); err != nil {
			return b[:start], err
		}
		b = appendHeader(b, name, v)
		lines++
	}
	for _, h := range m.Extra {
		if !isToken(h.Name) {
			return b[:start], fmt.Errorf("ssdp: cannot write header name %q: not an HTTP token", h.Name)
		}
		if err := checkHeader(h.Name, h.Value); err != nil {
			return b[:start], err
		}
		b = appendHeader(b, h.Name, h.Value)
		lines++
	}
	b = append(b, "\r\n"...)
	if lines > maxHeaderLines {
		return b[:start], fmt.Errorf("ssdp: cannot write %d header lines, more than %d: %w", lines, maxHeaderLines, ErrTooLarge)
	}
	if len(b)-start > MaxDatagram {
		return b[:start], fmt.Errorf("ssdp: cannot write a %d-byte message, more than %d: %w", len(b)-start, MaxDatagram, ErrTooLarge)
	}
	return b, nil
}

func appendHeader(b []byte, name, v string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, v...)
	return append(b, "\r\n"...)
}

// checkHeader reports an error if the line "name: v" cannot be written: a
// control character in v (CR or LF would inject headers) or a line too long.
func checkHeader(name, v string) error {
	if end, _, _ := scanLine(v, 0); end < len(v) {
		return fmt.Errorf("ssdp: cannot write %s: value has control character %#x (header injection)", name, v[end])
	}
	if len(name)+2+len(v) > maxHeaderLine {
		return fmt.Errorf("ssdp: cannot write %s: line longer than %d bytes: %w", name, maxHeaderLine, ErrTooLarge)
	}
	return nil
}

// The usual start lines as little-endian words: "HTTP/1.1 200 OK" read at 0
// and 7, "NOTIFY * HTTP/1.1" at 0, 8 and 9, "M-SEARCH * HTTP/1.1" at 0, 8 and
// 11.
var (
	startResponse = [2]uint64{load64("HTTP/1.1 200 OK", 0), load64("HTTP/1.1 200 OK", 7)}
	startNotify   = [3]uint64{load64("NOTIFY * HTTP/1.1", 0), load64("NOTIFY * HTTP/1.1", 8), load64("NOTIFY * HTTP/1.1", 9)}
	startSearch   = [3]uint64{load64("M-SEARCH * HTTP/1.1", 0), load64("M-SEARCH * HTTP/1.1", 8), load64("M-SEARCH * HTTP/1.1", 11)}
)

// fastMax is the longest datagram parseFast reads; longer ones, rare in
// practice, go to parse. It may not be over maxHeaderLine.
const fastMax = 1024

const _ uint = maxHeaderLine - fastMax // parseFast skips the line length check

// lineMarks has one bit for each byte of a datagram of up to fastMax bytes:
// in ctl, set for a control character (below 0x20, or 0x7f), in colon, set
// for ':'. markBlocks in assembly finds colon at byte offset 128.
type lineMarks struct {
	ctl, colon [fastMax / 64]uint64
}

// mark fills m for all of s (len(s) <= fastMax): the whole 16-byte blocks
// with markAll, the rest byte by byte. m must be zero.
func (m *lineMarks) mark(s string) {
	markAll(s, m)
	for i := len(s) &^ 15; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			m.ctl[i>>6&(fastMax/64-1)] |= 1 << (i & 63)
		case c == ':':
			m.colon[i>>6&(fastMax/64-1)] |= 1 << (i & 63)
		}
	}
}

// next returns the index of the first bit set in w at or after i, or n if
// there is none before n (bits at or after n may be returned too).
func next(w *[fastMax / 64]uint64, i, n int) int {
	if x := w[i>>6&(fastMax/64-1)] >> (i & 63); x != 0 {
		return i + bits.TrailingZeros64(x)
	}
	for k := i>>6 + 1; k<<6 < n; k++ {
		if x := w[k&(fastMax/64-1)]; x != 0 {
			return k<<6 + bits.TrailingZeros64(x)
		}
	}
	return n
}

// markBlocksGo is markBlocks in Go, eight bytes at a time.
func markBlocksGo(s string, m *lineMarks) {
	for i := 0; i < len(s)&^15; i += 8 {
		x := load64(s, i)
		a := x & lo7
		control := (a + ones | ^(a + ones*0x60)) &^ x & high
		t := x ^ ones*':'
		colon := ^(t&lo7 + lo7 | t) & high
		// Gather the high bit of each byte into the low eight bits.
		m.ctl[i>>6&(fastMax/64-1)] |= (control >> 7 * 0x0102040810204080 >> 56) << (i & 63)
		m.colon[i>>6&(fastMax/64-1)] |= (colon >> 7 * 0x0102040810204080 >> 56) << (i & 63)
	}
}
