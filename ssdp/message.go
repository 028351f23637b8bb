package ssdp

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
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
// allocation. The devices in testdata send at most three (OPT, 01-NLS,
// X-User-Agent, Content-Length).
const inlineExtra = 6

// Parse allocates the Message together with its Extra headers, in one of these
// or a bare Message, whichever fits exactly: the bytes allocated are most of
// its cost (see docs/benchmarks.md).
type (
	message1 struct {
		m Message
		x [1]Header
	}
	message2 struct {
		m Message
		x [2]Header
	}
	message3 struct {
		m Message
		x [3]Header
	}
	message4 struct {
		m Message
		x [4]Header
	}
	message5 struct {
		m Message
		x [5]Header
	}
	message6 struct {
		m Message
		x [6]Header
	}
)

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
// are errors too. Parse makes two allocations for a message with up to six Extra
// headers.
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxDatagram {
		return nil, errDatagramTooLarge()
	}
	// Parse on the stack, then copy to the heap at the right size.
	var (
		m   Message
		buf [inlineExtra]Header
	)
	extra, err := m.parse(b, buf[:0])
	if err != nil {
		return nil, err
	}
	var (
		p *Message
		x []Header // where Extra goes
	)
	switch len(extra) {
	case 0:
		p = new(Message)
	case 1:
		q := new(message1)
		p, x = &q.m, q.x[:]
	case 2:
		q := new(message2)
		p, x = &q.m, q.x[:]
	case 3:
		q := new(message3)
		p, x = &q.m, q.x[:]
	case 4:
		q := new(message4)
		p, x = &q.m, q.x[:]
	case 5:
		q := new(message5)
		p, x = &q.m, q.x[:]
	case 6:
		q := new(message6)
		p, x = &q.m, q.x[:]
	default:
		p, x = new(Message), make([]Header, len(extra))
	}
	*p = m
	if len(extra) > 0 {
		p.Extra = x[:copy(x, extra)]
	}
	return p, nil
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
// -1. It switches on the length so that at most three names are compared.
func knownHeader(name string) int {
	switch len(name) {
	case 2:
		switch {
		case foldEqual(name, "st"):
			return hST
		case foldEqual(name, "nt"):
			return hNT
		case foldEqual(name, "mx"):
			return hMX
		}
	case 3:
		switch {
		case foldEqual(name, "usn"):
			return hUSN
		case foldEqual(name, "nts"):
			return hNTS
		case foldEqual(name, "ext"):
			return hEXT
		case foldEqual(name, "man"):
			return hMAN
		}
	case 4:
		switch {
		case foldEqual(name, "host"):
			return hHost
		case foldEqual(name, "date"):
			return hDate
		}
	case 6:
		if foldEqual(name, "server") {
			return hServer
		}
	case 8:
		if foldEqual(name, "location") {
			return hLocation
		}
	case 10:
		if foldEqual(name, "user-agent") {
			return hAgent
		}
	case 13:
		switch {
		case foldEqual(name, "cache-control"):
			return hCacheControl
		case foldEqual(name, "cpfn.upnp.org"):
			return hCPFN
		}
	case 15:
		switch {
		case foldEqual(name, "bootid.upnp.org"):
			return hBootID
		case foldEqual(name, "cpuuid.upnp.org"):
			return hCPUUID
		}
	case 16:
		if foldEqual(name, "tcpport.upnp.org") {
			return hTCPPort
		}
	case 17:
		if foldEqual(name, "configid.upnp.org") {
			return hConfigID
		}
	case 19:
		switch {
		case foldEqual(name, "nextbootid.upnp.org"):
			return hNextBootID
		case foldEqual(name, "searchport.upnp.org"):
			return hSearchPort
		}
	}
	return -1
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

// isTokenByte tells which bytes may appear in a header name (RFC 9110 tchar).
var isTokenByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// scanLine finds the end of the line that starts at s[i]: the index of its
// line end (LF, CRLF, or a CR or nothing at the end of s) and of the next line.
// ok is false if the line holds a control character other than tab (a byte
// below 0x20, or 0x7f), then at index end.
//
// It tests eight bytes at a time with the SWAR "has less than" and "has zero"
// tricks, whose lowest flagged byte is always a true match, and looks at single
// bytes only from there.
func scanLine(s string, i int) (end, next int, ok bool) {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		del := x ^ (ones * 0x7f)
		if mask := ((x-ones*0x20)&^x | (del-ones)&^del) & high; mask != 0 {
			for j := i + bits.TrailingZeros64(mask)/8; j < i+8; j++ {
				if isControl(s[j]) {
					return lineEnd(s, j)
				}
			}
		}
	}
	for ; i < len(s); i++ {
		if isControl(s[i]) {
			return lineEnd(s, i)
		}
	}
	return len(s), len(s), true
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

func isControl(c byte) bool { return c < 0x20 && c != '\t' || c == 0x7f }

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte[s[i]] {
			return false
		}
	}
	return true
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

// parse reads b into m, except that it appends the headers for Extra to extra
// and returns it.
func (m *Message) parse(b []byte, extra []Header) ([]Header, error) {
	if len(b) > MaxDatagram {
		return nil, errDatagramTooLarge()
	}
	if len(b) == 0 {
		return nil, &ParseError{Line: 1, Reason: reasonEmpty}
	}
	s := string(b) // the only copy: every string in m is a substring of s
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
				extra = append(extra, Header{Name: name, Value: value})
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
	var n int
	var ok bool
	switch id {
	case hHost:
		m.Host = v
	case hNT:
		m.NT = v
	case hNTS:
		m.NTS = v
	case hST:
		m.ST = v
	case hUSN:
		m.USN = v
	case hLocation:
		m.Location = v
	case hServer:
		m.Server = v
	case hAgent:
		m.Agent = v
	case hMAN:
		m.MAN = v
	case hDate:
		m.Date = v
	case hCPFN:
		m.CPFN = v
	case hCPUUID:
		m.CPUUID = v
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
	n := 0
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int(d)
	}
	if n > max {
		return 0, false
	}
	return n, true
}

// maxAge returns the first max-age directive of a CACHE-CONTROL value such as
// `no-cache="Ext", max-age = 1800`. Quoted strings are skipped, so a comma or
// "max-age" inside one does not count.
func maxAge(v string) (int, bool) {
	if len(v) > len("max-age=") && foldEqual(v[:len("max-age=")], "max-age=") {
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
