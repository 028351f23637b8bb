package ssdp_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/seedb72249f9/upnp/ssdp"
)

var (
	samplesDir = flag.String("ssdp-samples", "../../shared/lab/samples/ssdp",
		"directory of SSDP captures (----- from ADDR (N bytes) format); TestCaptures skips when it is missing")
	updatePackets = flag.Bool("update-packets", false,
		"rewrite testdata/packets from the captures in -ssdp-samples")
)

// packetDir holds real datagrams, one per file, byte for byte as sent, plus a few
// rewritten with bare LF line ends (lf-*) or without the final blank line
// (noblank-*). TestCaptures -update-packets regenerates it.
const packetDir = "testdata/packets"

// A capturedDatagram is one datagram from a capture file.
type capturedDatagram struct {
	From string // source address
	Data []byte // exactly as received
}

var captureSep = regexp.MustCompile(`(?m)^----- from (\S+) \((\d+) bytes\)\n`)

// splitCapture splits a capture file into its datagrams. The capture tool
// writes each datagram as text after a "----- from ADDR (N bytes)" line with
// its trailing line ends stripped, and sometimes "# ..." notes after it; the
// stripped bytes are put back ("\r\n\r\n" or a shorter part of it) so that each
// datagram has exactly N bytes, else splitCapture fails.
func splitCapture(data []byte) ([]capturedDatagram, error) {
	locs := captureSep.FindAllSubmatchIndex(data, -1)
	var out []capturedDatagram
	for i, loc := range locs {
		end := len(data)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		from := string(data[loc[2]:loc[3]])
		n, err := strconv.Atoi(string(data[loc[4]:loc[5]]))
		if err != nil {
			return nil, err
		}
		lines := strings.Split(string(data[loc[1]:end]), "\n")
		for len(lines) > 0 && (lines[len(lines)-1] == "" || strings.HasPrefix(lines[len(lines)-1], "# ")) {
			lines = lines[:len(lines)-1]
		}
		body := strings.Join(lines, "\n")
		missing := n - len(body)
		if missing < 0 || missing > 4 {
			return nil, fmt.Errorf("datagram from %s at byte %d: have %d bytes, header says %d", from, loc[0], len(body), n)
		}
		body += "\r\n\r\n"[:missing]
		out = append(out, capturedDatagram{From: from, Data: []byte(body)})
	}
	return out, nil
}

// loadPackets returns the files of testdata/packets by name.
func loadPackets(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(packetDir, "*.ssdp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no packets in %s", packetDir)
	}
	out := make(map[string][]byte)
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(name)] = b
	}
	return out
}

func mustParseMsg(t testing.TB, b []byte) *ssdp.Message {
	t.Helper()
	m, err := ssdp.Parse(b)
	if err != nil {
		t.Fatalf("Parse(%q): %v", b, err)
	}
	return m
}

// knownNames are the headers Message has a field for, canonicalized as
// net/http does.
var knownNames = map[string]bool{}

func init() {
	for _, n := range []string{"HOST", "CACHE-CONTROL", "DATE", "EXT", "LOCATION", "NT", "NTS",
		"SERVER", "ST", "USN", "USER-AGENT", "MAN", "MX", "BOOTID.UPNP.ORG", "NEXTBOOTID.UPNP.ORG",
		"CONFIGID.UPNP.ORG", "SEARCHPORT.UPNP.ORG", "CPFN.UPNP.ORG", "CPUUID.UPNP.ORG", "TCPPORT.UPNP.ORG"} {
		knownNames[http.CanonicalHeaderKey(n)] = true
	}
}

var oracleMaxAge = regexp.MustCompile(`max-age *= *([0-9]+)`)

// httpOracle reads a well-formed datagram with net/http instead, as an
// independent check of Parse. Extra is sorted, with names canonicalized.
func httpOracle(data []byte) (*ssdp.Message, error) {
	if !bytes.HasSuffix(data, []byte("\n\n")) && !bytes.HasSuffix(data, []byte("\r\n\r\n")) {
		data = append(slices.Clip(data), "\r\n\r\n"...)
	}
	r := bufio.NewReader(bytes.NewReader(data))
	m := &ssdp.Message{}
	var h http.Header
	if bytes.HasPrefix(data, []byte("HTTP/")) {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("status %d", resp.StatusCode)
		}
		m.Kind, h = ssdp.KindResponse, resp.Header
		m.Host = h.Get("Host")
	} else {
		req, err := http.ReadRequest(r)
		if err != nil {
			return nil, err
		}
		switch req.Method {
		case "NOTIFY":
			m.Kind = ssdp.KindNotify
		case "M-SEARCH":
			m.Kind = ssdp.KindSearch
		default:
			return nil, fmt.Errorf("method %q", req.Method)
		}
		h, m.Host = req.Header, req.Host
	}
	num := func(name string, absent int) int {
		v := h.Get(name)
		if v == "" {
			return absent
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			panic(fmt.Sprintf("oracle: %s: %q", name, v))
		}
		return n
	}
	m.NT, m.NTS, m.ST, m.USN = h.Get("NT"), h.Get("NTS"), h.Get("ST"), h.Get("USN")
	m.Location, m.Server, m.Agent, m.MAN = h.Get("LOCATION"), h.Get("SERVER"), h.Get("USER-AGENT"), h.Get("MAN")
	m.Date, m.CPFN, m.CPUUID = h.Get("DATE"), h.Get("CPFN.UPNP.ORG"), h.Get("CPUUID.UPNP.ORG")
	_, m.EXT = h["Ext"]
	if sm := oracleMaxAge.FindStringSubmatch(h.Get("CACHE-CONTROL")); sm != nil {
		m.MaxAge, _ = strconv.Atoi(sm[1])
	}
	m.MX = num("MX", 0)
	m.BootID = int32(num("BOOTID.UPNP.ORG", -1))
	m.NextBootID = int32(num("NEXTBOOTID.UPNP.ORG", -1))
	m.ConfigID = int32(num("CONFIGID.UPNP.ORG", -1))
	m.SearchPort = num("SEARCHPORT.UPNP.ORG", 0)
	m.TCPPort = num("TCPPORT.UPNP.ORG", 0)
	for name, vs := range h {
		if knownNames[name] {
			continue
		}
		for _, v := range vs {
			m.Extra = append(m.Extra, ssdp.Header{Name: name, Value: v})
		}
	}
	sortExtra(m.Extra)
	return m, nil
}

func sortExtra(hs []ssdp.Header) {
	for i := range hs {
		hs[i].Name = http.CanonicalHeaderKey(hs[i].Name)
	}
	slices.SortFunc(hs, func(a, b ssdp.Header) int {
		return strings.Compare(a.Name+"\x00"+a.Value, b.Name+"\x00"+b.Value)
	})
}

// checkOracle compares Parse with httpOracle on data.
func checkOracle(t *testing.T, data []byte) {
	t.Helper()
	want, err := httpOracle(data)
	if err != nil {
		t.Fatalf("net/http cannot read %q: %v", data, err)
	}
	got := mustParseMsg(t, data)
	g := *got
	g.Extra = slices.Clone(g.Extra)
	sortExtra(g.Extra)
	if diff := cmp.Diff(want, &g); diff != "" {
		t.Errorf("Parse disagrees with net/http (-want +got):\n%s", diff)
	}
}

// TestCaptures parses every datagram of the lab captures and, with
// -update-packets, copies a selection of them to testdata/packets.
func TestCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(*samplesDir, "*.txt"))
	if len(files) == 0 {
		t.Skipf("no captures in %s", *samplesDir)
	}
	var all []capturedDatagram
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := splitCapture(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, d := range ds {
			t.Run(fmt.Sprintf("%s/%d", filepath.Base(f), i), func(t *testing.T) {
				checkOracle(t, d.Data)
				checkRoundTrip(t, d.Data)
			})
		}
		all = append(all, ds...)
	}
	t.Logf("%d datagrams in %d files", len(all), len(files))
	if *updatePackets {
		writePackets(t, all)
	}
}

// writePackets replaces testdata/packets with one datagram per kind, product,
// NTS and address family, and per kind and target kind (IPv4), without
// duplicates, plus bare-LF variants of one datagram per kind and product and
// no-final-blank-line variants of one per kind.
func writePackets(t *testing.T, all []capturedDatagram) {
	old, _ := filepath.Glob(filepath.Join(packetDir, "*.ssdp"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(packetDir, 0o755); err != nil {
		t.Fatal(err)
	}
	host := func(from string) string { return from[:strings.LastIndexByte(from, ':')] }
	products := map[string]string{} // source host -> product
	product := func(m *ssdp.Message) string {
		s := m.Server + " " + m.Agent
		for _, p := range []struct{ sub, name string }{
			{"MiniDLNA", "minidlna"}, {"Portable SDK for UPnP", "libupnp"}, {"MiniUPnPd", "miniupnpd"},
			{"GSSDP", "gssdp"}, {"upnplab-probe", "upnplab-probe"},
		} {
			if strings.Contains(s, p.sub) {
				return p.name
			}
		}
		return ""
	}
	for _, d := range all {
		if p := product(mustParseMsg(t, d.Data)); p != "" {
			products[host(d.From)] = p
		}
	}
	seen := map[string]bool{} // file names and contents written
	write := func(name string, data []byte) {
		if seen[name] || seen[string(data)] {
			return
		}
		seen[name], seen[string(data)] = true, true
		if err := os.WriteFile(filepath.Join(packetDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range all {
		m := mustParseMsg(t, d.Data)
		kind := map[ssdp.Kind]string{ssdp.KindNotify: "notify", ssdp.KindSearch: "msearch", ssdp.KindResponse: "response"}[m.Kind]
		prod := product(m)
		if prod == "" {
			prod = products[host(d.From)]
		}
		if prod == "" || m.Kind == ssdp.KindSearch && m.Agent == "" {
			prod = "noagent"
		}
		nts := strings.TrimPrefix(m.NTS, "ssdp:")
		family := "v4"
		if strings.Count(d.From, ":") > 1 {
			family = "v6"
		}
		tk := [...]string{"other", "all", "root", "uuid", "device", "service"}[ssdp.ParseTarget(m.NT+m.ST).Kind]
		name := strings.Join(slices.DeleteFunc([]string{kind, prod, nts, family}, func(s string) bool { return s == "" }), "-")
		if !seen[name+".ssdp"] {
			write(name+".ssdp", d.Data)
			if family == "v4" && prod != "noagent" {
				write("lf-"+kind+"-"+prod+".ssdp", bytes.ReplaceAll(d.Data, []byte("\r\n"), []byte("\n")))
				write("noblank-"+kind+".ssdp", bytes.TrimSuffix(d.Data, []byte("\r\n\r\n")))
			}
		}
		if family == "v4" {
			write(kind+"-"+tk+".ssdp", d.Data)
		}
	}
	t.Logf("wrote %d packets to %s", len(seen)/2, packetDir)
}

func checkRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	m1 := mustParseMsg(t, data)
	b, err := m1.Append(nil)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	m2 := mustParseMsg(t, b)
	if diff := cmp.Diff(m1, m2); diff != "" {
		t.Errorf("Parse(Append(Parse(b))) differs (-want +got):\n%s\nwritten:\n%s", diff, b)
	}
}

// TestParsePackets checks every datagram in testdata/packets against net/http
// and, for one of each vendor and kind, against fields written out by hand.
func TestParsePackets(t *testing.T) {
	packets := loadPackets(t)
	for name, data := range packets {
		t.Run(name, func(t *testing.T) { checkOracle(t, data) })
	}

	const (
		dlnaUUID = "uuid:4d696e69-444c-164e-9d41-027700000002"
		renUUID  = "uuid:a1b2c3d4-0000-4000-8000-027700000003"
		igdUUID  = "uuid:3d3cec3a-8cf0-11e0-98ee-027700000004"
		opt      = `"http://schemas.upnp.org/upnp/1/0/"; ns=01`
		libupnp  = "Linux/6.18.44-fc-v657, UPnP/1.0, Portable SDK for UPnP devices/1.8.4"
		miniupnp = "Debian/6.18.44-fc-v657 UPnP/1.1 MiniUPnPd/2.3.1"
		dlna     = "Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0"
	)
	tests := []struct {
		file string
		want ssdp.Message
	}{
		{"notify-minidlna-alive-v4.ssdp", ssdp.Message{
			Kind: ssdp.KindNotify, Host: "239.255.255.250:1900", MaxAge: 70,
			Location: "http://10.77.0.12:8200/rootDesc.xml", Server: dlna,
			NT: dlnaUUID, USN: dlnaUUID, NTS: ssdp.Alive, BootID: -1, NextBootID: -1, ConfigID: -1,
		}},
		{"notify-minidlna-byebye-v4.ssdp", ssdp.Message{
			Kind: ssdp.KindNotify, Host: "239.255.255.250:1900", NT: dlnaUUID, USN: dlnaUUID, NTS: ssdp.ByeBye,
			BootID: -1, NextBootID: -1, ConfigID: -1,
		}},
		{"notify-libupnp-alive-v4.ssdp", ssdp.Message{
			Kind: ssdp.KindNotify, Host: "239.255.255.250:1900", MaxAge: 100,
			Location: "http://10.77.0.13:49494/description.xml", NT: ssdp.RootDevice, NTS: ssdp.Alive,
			Server: libupnp, USN: renUUID + "::upnp:rootdevice", BootID: -1, NextBootID: -1, ConfigID: -1,
			Extra: []ssdp.Header{{"OPT", opt}, {"01-NLS", "698af3f6-e60b-11f1-9ad4-e89da80c37c1"}, {"X-User-Agent", "redsonic"}},
		}},
		{"notify-miniupnpd-alive-v6.ssdp", ssdp.Message{
			Kind: ssdp.KindNotify, Host: "[FF02::C]:1900", MaxAge: 60,
			Location: "http://[fd77::14]:5000/rootDesc.xml", Server: miniupnp,
			NT: ssdp.RootDevice, USN: igdUUID + "::upnp:rootdevice", NTS: ssdp.Alive,
			BootID: 1795307213, NextBootID: -1, ConfigID: 1337,
			Extra: []ssdp.Header{{"OPT", opt}, {"01-NLS", "1795307213"}},
		}},
		{"response-minidlna-v4.ssdp", ssdp.Message{
			Kind: ssdp.KindResponse, MaxAge: 70, Date: "Sun, 22 Nov 2026 00:27:15 GMT",
			ST: "urn:schemas-upnp-org:device:MediaServer:1", USN: dlnaUUID + "::urn:schemas-upnp-org:device:MediaServer:1",
			EXT: true, Server: dlna, Location: "http://10.77.0.12:8200/rootDesc.xml", BootID: -1, NextBootID: -1, ConfigID: -1,
			Extra: []ssdp.Header{{"Content-Length", "0"}},
		}},
		{"response-miniupnpd-v6.ssdp", ssdp.Message{
			Kind: ssdp.KindResponse, MaxAge: 120, ST: "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
			USN: "uuid:3d3cec3a-8cf0-11e0-98ee-027700000005::urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
			EXT: true, Server: miniupnp, Location: "http://[fd77::14]:5000/rootDesc.xml",
			BootID: 1795307213, NextBootID: -1, ConfigID: 1337,
			Extra: []ssdp.Header{{"OPT", opt}, {"01-NLS", "1795307213"}},
		}},
		{"msearch-gssdp-v4.ssdp", ssdp.Message{
			Kind: ssdp.KindSearch, Host: "239.255.255.250:1900", MAN: ssdp.Discover, ST: ssdp.All, MX: 3,
			Agent: "Linux/6.18.44-fc-v657 UPnP/1.0 GSSDP/1.6.2", BootID: -1, NextBootID: -1, ConfigID: -1,
		}},
		{"msearch-upnplab-probe-v6.ssdp", ssdp.Message{
			Kind: ssdp.KindSearch, Host: "[ff02::c]:1900", MAN: ssdp.Discover, MX: 2, ST: ssdp.All,
			Agent: "Linux/6 UPnP/1.1 upnplab-probe/1.0", BootID: -1, NextBootID: -1, ConfigID: -1,
		}},
	}
	for _, tt := range tests {
		t.Run("want/"+tt.file, func(t *testing.T) {
			data, ok := packets[tt.file]
			if !ok {
				t.Fatalf("missing %s", tt.file)
			}
			if diff := cmp.Diff(&tt.want, mustParseMsg(t, data)); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// msg is a Message with the ID fields absent, for tables.
func msg(k ssdp.Kind) ssdp.Message {
	return ssdp.Message{Kind: k, BootID: -1, NextBootID: -1, ConfigID: -1}
}

// lenientTests are inputs Parse accepts although they are not strictly
// well-formed, as real devices send them.
var lenientTests = []struct {
	name string
	in   string
	want func(*ssdp.Message)
}{
	// A lone CR ending the datagram after an unknown header: the fast path
	// once stepped past the end there and panicked.
	{"CR ending the datagram after an unknown header", "M-SEARCH * HTTP/1.1\nX-Long-Name-1:\r",
		func(m *ssdp.Message) { m.Kind, m.Extra = ssdp.KindSearch, []ssdp.Header{{Name: "X-Long-Name-1"}} }},
	{"CR ending the datagram after a known header", "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r",
		func(m *ssdp.Message) { m.Kind, m.NT = ssdp.KindNotify, ssdp.RootDevice }},
	{"trailing space after version", "NOTIFY * HTTP/1.1 \r\nNT: upnp:rootdevice\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.NT = ssdp.KindNotify, ssdp.RootDevice }},
	{"trailing tab on status line", "HTTP/1.1 200 OK\t\r\nST: ssdp:all\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.ST = ssdp.KindResponse, ssdp.All }},
	{"status without reason", "HTTP/1.1 200\r\nEXT:\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.EXT = ssdp.KindResponse, true }},
	{"status with other reason", "HTTP/1.1 200 Okay fine\r\n\r\n",
		func(m *ssdp.Message) { m.Kind = ssdp.KindResponse }},
	{"HTTP/1.0 response", "HTTP/1.0 200 OK\r\n\r\n", func(m *ssdp.Message) { m.Kind = ssdp.KindResponse }},
	{"HTTP/1.0 request", "M-SEARCH * HTTP/1.0\r\nMX: 1\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.MX = ssdp.KindSearch, 1 }},
	{"double spaces in request line", "M-SEARCH  *  HTTP/1.1\r\n\r\n", func(m *ssdp.Message) { m.Kind = ssdp.KindSearch }},
	{"no headers", "NOTIFY * HTTP/1.1", func(m *ssdp.Message) { m.Kind = ssdp.KindNotify }},
	{"start line only with CRLF", "NOTIFY * HTTP/1.1\r\n", func(m *ssdp.Message) { m.Kind = ssdp.KindNotify }},
	{"bare LF", "NOTIFY * HTTP/1.1\nHOST: 239.255.255.250:1900\nNTS: ssdp:alive\n\n",
		func(m *ssdp.Message) { m.Kind, m.Host, m.NTS = ssdp.KindNotify, "239.255.255.250:1900", ssdp.Alive }},
	{"mixed line ends", "NOTIFY * HTTP/1.1\nNT: a\r\nNTS: b\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.NT, m.NTS = ssdp.KindNotify, "a", "b" }},
	{"no final blank line", "NOTIFY * HTTP/1.1\r\nNTS: ssdp:byebye",
		func(m *ssdp.Message) { m.Kind, m.NTS = ssdp.KindNotify, ssdp.ByeBye }},
	{"final CR without LF", "NOTIFY * HTTP/1.1\r\nNTS: ssdp:byebye\r",
		func(m *ssdp.Message) { m.Kind, m.NTS = ssdp.KindNotify, ssdp.ByeBye }},
	{"lower-case names", "HTTP/1.1 200 OK\r\ncache-control: max-age=1800\r\next:\r\nst: upnp:rootdevice\r\nusn: uuid:x\r\nlocation: http://h/\r\nserver: s\r\ndate: d\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.MaxAge, m.EXT, m.ST, m.USN, m.Location, m.Server, m.Date =
				ssdp.KindResponse, 1800, true, ssdp.RootDevice, "uuid:x", "http://h/", "s", "d"
		}},
	{"no spaces around colon", "NOTIFY * HTTP/1.1\r\nHOST:239.255.255.250:1900\r\nLOCATION:http://10.0.0.1:80/d.xml\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Host, m.Location = ssdp.KindNotify, "239.255.255.250:1900", "http://10.0.0.1:80/d.xml"
		}},
	{"spaces and tabs around colon and value", "NOTIFY * HTTP/1.1\r\nNT \t:\t upnp:rootdevice \t\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.NT = ssdp.KindNotify, ssdp.RootDevice }},
	{"cache-control with other directives", "HTTP/1.1 200 OK\r\nCACHE-CONTROL: no-cache=\"Ext\", max-age = 1800\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.MaxAge = ssdp.KindResponse, 1800 }},
	{"cache-control quoted max-age", "HTTP/1.1 200 OK\r\nCache-Control: private, MAX-AGE=\"120\"\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.MaxAge = ssdp.KindResponse, 120 }},
	{"cache-control max-age inside a quoted string", "HTTP/1.1 200 OK\r\nCACHE-CONTROL: x=\"a, max-age=5\", max-age=60\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.MaxAge = ssdp.KindResponse, 60 }},
	{"cache-control without max-age kept in Extra", "HTTP/1.1 200 OK\r\nCACHE-CONTROL: no-cache\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Extra = ssdp.KindResponse, []ssdp.Header{{"CACHE-CONTROL", "no-cache"}}
		}},
	{"max-age 0 kept in Extra", "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=0\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Extra = ssdp.KindResponse, []ssdp.Header{{"CACHE-CONTROL", "max-age=0"}}
		}},
	{"MX not a number", "M-SEARCH * HTTP/1.1\r\nMX: soon\r\nST: ssdp:all\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.ST, m.Extra = ssdp.KindSearch, ssdp.All, []ssdp.Header{{"MX", "soon"}}
		}},
	{"MX negative", "M-SEARCH * HTTP/1.1\r\nMX: -1\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.Extra = ssdp.KindSearch, []ssdp.Header{{"MX", "-1"}} }},
	{"MX 0", "M-SEARCH * HTTP/1.1\r\nMX: 0\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.Extra = ssdp.KindSearch, []ssdp.Header{{"MX", "0"}} }},
	{"MX leading zeros", "M-SEARCH * HTTP/1.1\r\nMX: 0000000000003\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.MX = ssdp.KindSearch, 3 }},
	{"MX huge", "M-SEARCH * HTTP/1.1\r\nMX: 99999999999999999999\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Extra = ssdp.KindSearch, []ssdp.Header{{"MX", "99999999999999999999"}}
		}},
	{"BOOTID not a number", "NOTIFY * HTTP/1.1\r\nBOOTID.UPNP.ORG: 12x\r\nCONFIGID.UPNP.ORG: 0\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.ConfigID, m.Extra = ssdp.KindNotify, 0, []ssdp.Header{{"BOOTID.UPNP.ORG", "12x"}}
		}},
	{"BOOTID over int32", "NOTIFY * HTTP/1.1\r\nbootid.upnp.org: 2147483648\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Extra = ssdp.KindNotify, []ssdp.Header{{"bootid.upnp.org", "2147483648"}}
		}},
	{"BOOTID max int32", "NOTIFY * HTTP/1.1\r\nBOOTID.UPNP.ORG: 2147483647\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.BootID = ssdp.KindNotify, 2147483647 }},
	{"all UDA 2.0 headers", "NOTIFY * HTTP/1.1\r\nNTS: ssdp:update\r\nBOOTID.UPNP.ORG: 7\r\nNEXTBOOTID.UPNP.ORG: 8\r\nCONFIGID.UPNP.ORG: 16777215\r\nSEARCHPORT.UPNP.ORG: 49152\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.NTS, m.BootID, m.NextBootID, m.ConfigID, m.SearchPort = ssdp.KindNotify, ssdp.Update, 7, 8, 16777215, 49152
		}},
	{"UDA 2.0 search", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 5\r\nST: ssdp:all\r\nUSER-AGENT: a\r\nCPFN.UPNP.ORG: Living room\r\nCPUUID.UPNP.ORG: uuid:c\r\nTCPPORT.UPNP.ORG: 8080\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Host, m.MAN, m.MX, m.ST, m.Agent, m.CPFN, m.CPUUID, m.TCPPort =
				ssdp.KindSearch, "239.255.255.250:1900", ssdp.Discover, 5, ssdp.All, "a", "Living room", "uuid:c", 8080
		}},
	{"SEARCHPORT out of range", "NOTIFY * HTTP/1.1\r\nSEARCHPORT.UPNP.ORG: 65536\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Extra = ssdp.KindNotify, []ssdp.Header{{"SEARCHPORT.UPNP.ORG", "65536"}}
		}},
	{"duplicate header", "NOTIFY * HTTP/1.1\r\nNT: a\r\nnt: b\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.NT, m.Extra = ssdp.KindNotify, "a", []ssdp.Header{{"nt", "b"}} }},
	{"empty value then value", "NOTIFY * HTTP/1.1\r\nNT:\r\nNT: b\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.NT, m.Extra = ssdp.KindNotify, "b", []ssdp.Header{{"NT", ""}} }},
	{"EXT with a value", "HTTP/1.1 200 OK\r\nExt: yes\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.EXT = ssdp.KindResponse, true }},
	{"body ignored", "NOTIFY * HTTP/1.1\r\nNT: a\r\nContent-Length: 7\r\n\r\n\x00\x01body\r\nNT: b",
		func(m *ssdp.Message) {
			m.Kind, m.NT, m.Extra = ssdp.KindNotify, "a", []ssdp.Header{{"Content-Length", "7"}}
		}},
	{"value with colons and high bytes", "M-SEARCH * HTTP/1.1\r\nCPFN.UPNP.ORG: Küche: 2\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.CPFN = ssdp.KindSearch, "Küche: 2" }},
	{"four Extra headers", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Extra = ssdp.KindResponse, []ssdp.Header{{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}}
		}},
	{"five Extra headers", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind, m.Extra = ssdp.KindResponse, []ssdp.Header{{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}, {"E", "5"}}
		}},
	{"six Extra headers", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind = ssdp.KindResponse
			m.Extra = []ssdp.Header{{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}, {"E", "5"}, {"F", "6"}}
		}},
	{"more Extra headers than fit inline", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n",
		func(m *ssdp.Message) {
			m.Kind = ssdp.KindResponse
			m.Extra = []ssdp.Header{{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}, {"E", "5"}, {"F", "6"}, {"G", "7"}, {"H", "8"}}
		}},
	{"token characters in name", "NOTIFY * HTTP/1.1\r\nX-a!#$%&'*+.^_`|~9: v\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.Extra = ssdp.KindNotify, []ssdp.Header{{"X-a!#$%&'*+.^_`|~9", "v"}} }},
	{"64 header lines", "NOTIFY * HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", 64) + "\r\n",
		func(m *ssdp.Message) {
			m.Kind = ssdp.KindNotify
			for range 64 {
				m.Extra = append(m.Extra, ssdp.Header{"X", "y"})
			}
		}},
	{"1024-byte line", "NOTIFY * HTTP/1.1\r\nLOCATION: " + strings.Repeat("a", 1024-10) + "\r\n\r\n",
		func(m *ssdp.Message) { m.Kind, m.Location = ssdp.KindNotify, strings.Repeat("a", 1014) }},
	{"8192 bytes", "NOTIFY * HTTP/1.1\r\n\r\n" + strings.Repeat("b", 8192-21),
		func(m *ssdp.Message) { m.Kind = ssdp.KindNotify }},
}

func TestParseLenient(t *testing.T) {
	for _, tt := range lenientTests {
		t.Run(tt.name, func(t *testing.T) {
			want := msg(0)
			tt.want(&want)
			if diff := cmp.Diff(&want, mustParseMsg(t, []byte(tt.in))); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// badTests are inputs Parse rejects, with the line it blames and whether the
// error is ErrTooLarge.
var badTests = []struct {
	name     string
	in       string
	line     int
	tooLarge bool
}{
	{"empty", "", 1, false},
	{"blank start line", "\r\nNOTIFY * HTTP/1.1\r\n\r\n", 1, false},
	{"only spaces", "   \r\n", 1, false},
	{"oversize", "NOTIFY * HTTP/1.1\r\n\r\n" + strings.Repeat("b", 8192-20), 0, true},
	{"oversize header", "NOTIFY * HTTP/1.1\r\nX: " + strings.Repeat("b", 9000), 0, true},
	{"65 header lines", "NOTIFY * HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", 65) + "\r\n", 66, true},
	{"1025-byte line", "NOTIFY * HTTP/1.1\r\nLOCATION: " + strings.Repeat("a", 1015) + "\r\n\r\n", 2, true},
	{"1025-byte start line", "NOTIFY * HTTP/1.1" + strings.Repeat(" ", 1008) + "\r\n\r\n", 1, true},
	{"no colon", "NOTIFY * HTTP/1.1\r\nNT upnp:rootdevice\r\n\r\n", 2, false},
	{"no colon on last line", "NOTIFY * HTTP/1.1\r\nNT: a\r\nbroken", 3, false},
	{"NUL in value", "NOTIFY * HTTP/1.1\r\nNT: a\x00b\r\n\r\n", 2, false},
	{"NUL in name", "NOTIFY * HTTP/1.1\r\nN\x00T: a\r\n\r\n", 2, false},
	{"NUL in start line", "NOTIFY\x00* HTTP/1.1\r\n\r\n", 1, false},
	{"control character", "NOTIFY * HTTP/1.1\r\nNT: a\x01\r\n\r\n", 2, false},
	{"escape", "NOTIFY * HTTP/1.1\r\nNT: \x1b[31m\r\n\r\n", 2, false},
	{"DEL", "NOTIFY * HTTP/1.1\r\nNT: a\x7f\r\n\r\n", 2, false},
	{"bare CR inside a line", "NOTIFY * HTTP/1.1\r\nNT: a\rNTS: b\r\n\r\n", 2, false},
	{"CR CR LF", "NOTIFY * HTTP/1.1\r\r\n\r\n", 1, false},
	{"line folding", "NOTIFY * HTTP/1.1\r\nSERVER: a\r\n b\r\n\r\n", 3, false},
	{"space before name", "NOTIFY * HTTP/1.1\r\n NT: a\r\n\r\n", 2, false},
	{"empty name", "NOTIFY * HTTP/1.1\r\n: a\r\n\r\n", 2, false},
	{"space in name", "NOTIFY * HTTP/1.1\r\nX Y: a\r\n\r\n", 2, false},
	{"non-ASCII name", "NOTIFY * HTTP/1.1\r\nÜ: a\r\n\r\n", 2, false},
	{"separator in name", "NOTIFY * HTTP/1.1\r\nX(Y): a\r\n\r\n", 2, false},
	{"GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1, false},
	{"lower-case method", "notify * HTTP/1.1\r\n\r\n", 1, false},
	{"M-POST", "M-POST * HTTP/1.1\r\n\r\n", 1, false},
	{"path target", "NOTIFY /evt HTTP/1.1\r\n\r\n", 1, false},
	{"no target", "M-SEARCH HTTP/1.1\r\n\r\n", 1, false},
	{"no version", "M-SEARCH *\r\n\r\n", 1, false},
	{"HTTP/2.0 request", "M-SEARCH * HTTP/2.0\r\n\r\n", 1, false},
	{"lower-case version", "M-SEARCH * http/1.1\r\n\r\n", 1, false},
	{"extra token", "M-SEARCH * HTTP/1.1 x\r\n\r\n", 1, false},
	{"status 404", "HTTP/1.1 404 Not Found\r\n\r\n", 1, false},
	{"status 204", "HTTP/1.1 204 No Content\r\n\r\n", 1, false},
	{"status 2000", "HTTP/1.1 2000 OK\r\n\r\n", 1, false},
	{"no status", "HTTP/1.1\r\n\r\n", 1, false},
	{"HTTP/2 response", "HTTP/2 200 OK\r\n\r\n", 1, false},
	{"HTTP/1.2 response", "HTTP/1.2 200 OK\r\n\r\n", 1, false},
	{"headers only", "NT: upnp:rootdevice\r\n\r\n", 1, false},
	{"binary", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 1, false},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range badTests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ssdp.Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%.80q) = %+v, want error", tt.in, m)
			}
			if m != nil {
				t.Errorf("Parse returned a Message with error %v", err)
			}
			var pe *ssdp.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Line != tt.line {
				t.Errorf("error %q: Line = %d, want %d", err, pe.Line, tt.line)
			}
			if got := errors.Is(err, ssdp.ErrTooLarge); got != tt.tooLarge {
				t.Errorf("errors.Is(%q, ErrTooLarge) = %v, want %v", err, got, tt.tooLarge)
			}
			if !strings.HasPrefix(err.Error(), "ssdp: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseErrorString(t *testing.T) {
	for _, tt := range []struct {
		err  *ssdp.ParseError
		want string
	}{
		{&ssdp.ParseError{Line: 3, Reason: "header line without ':'"}, "ssdp: line 3: header line without ':'"},
		{&ssdp.ParseError{Reason: "datagram larger than 8192 bytes", Err: ssdp.ErrTooLarge}, "ssdp: datagram larger than 8192 bytes"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestParseCopies checks that the Message does not share memory with the
// caller's buffer.
func TestParseCopies(t *testing.T) {
	b := []byte("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nX-Y: z\r\n\r\n")
	m := mustParseMsg(t, b)
	for i := range b {
		b[i] = '#'
	}
	if m.NT != ssdp.RootDevice || m.Extra[0] != (ssdp.Header{"X-Y", "z"}) {
		t.Errorf("Message changed with its input: %+v", m)
	}
	for name, data := range loadPackets(t) {
		t.Run(name, func(t *testing.T) {
			checkOwnsMemory(t, mustParseMsg(t, data), data)
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for name, data := range loadPackets(t) {
		t.Run(name, func(t *testing.T) { checkRoundTrip(t, data) })
	}
	for _, tt := range lenientTests {
		t.Run(tt.name, func(t *testing.T) { checkRoundTrip(t, []byte(tt.in)) })
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		m    func(*ssdp.Message)
		want string
	}{
		{"alive", func(m *ssdp.Message) {
			m.Kind, m.Host, m.MaxAge, m.Location, m.NT, m.NTS, m.Server, m.USN = ssdp.KindNotify,
				"239.255.255.250:1900", 1800, "http://10.0.0.2:4000/d.xml", ssdp.RootDevice, ssdp.Alive,
				"Linux/6 UPnP/2.0 upnp/1", "uuid:u::upnp:rootdevice"
			m.BootID, m.ConfigID, m.SearchPort = 1, 0, 49152
		}, "NOTIFY * HTTP/1.1\r\n" +
			"HOST: 239.255.255.250:1900\r\n" +
			"CACHE-CONTROL: max-age=1800\r\n" +
			"LOCATION: http://10.0.0.2:4000/d.xml\r\n" +
			"NT: upnp:rootdevice\r\n" +
			"NTS: ssdp:alive\r\n" +
			"SERVER: Linux/6 UPnP/2.0 upnp/1\r\n" +
			"USN: uuid:u::upnp:rootdevice\r\n" +
			"BOOTID.UPNP.ORG: 1\r\n" +
			"CONFIGID.UPNP.ORG: 0\r\n" +
			"SEARCHPORT.UPNP.ORG: 49152\r\n" +
			"\r\n"},
		{"update", func(m *ssdp.Message) {
			m.Kind, m.NTS, m.BootID, m.NextBootID = ssdp.KindNotify, ssdp.Update, 1, 2
		}, "NOTIFY * HTTP/1.1\r\nNTS: ssdp:update\r\nBOOTID.UPNP.ORG: 1\r\nNEXTBOOTID.UPNP.ORG: 2\r\n\r\n"},
		{"search", func(m *ssdp.Message) {
			m.Kind, m.Host, m.MAN, m.MX, m.ST, m.Agent = ssdp.KindSearch, "[FF02::C]:1900", ssdp.Discover, 2,
				"urn:schemas-upnp-org:device:MediaServer:1", "Linux/6 UPnP/2.0 upnp/1"
			m.CPFN, m.CPUUID, m.TCPPort = "Kitchen", "uuid:cp", 49153
		}, "M-SEARCH * HTTP/1.1\r\n" +
			"HOST: [FF02::C]:1900\r\n" +
			"ST: urn:schemas-upnp-org:device:MediaServer:1\r\n" +
			"USER-AGENT: Linux/6 UPnP/2.0 upnp/1\r\n" +
			"MAN: \"ssdp:discover\"\r\n" +
			"MX: 2\r\n" +
			"CPFN.UPNP.ORG: Kitchen\r\n" +
			"CPUUID.UPNP.ORG: uuid:cp\r\n" +
			"TCPPORT.UPNP.ORG: 49153\r\n" +
			"\r\n"},
		{"response", func(m *ssdp.Message) {
			m.Kind, m.MaxAge, m.Date, m.EXT, m.Location, m.Server, m.ST, m.USN = ssdp.KindResponse, 100,
				"Sun, 22 Nov 2026 00:27:18 GMT", true, "http://h/", "s", "ssdp:all", "uuid:u"
			m.Extra = []ssdp.Header{{"OPT", `"http://schemas.upnp.org/upnp/1/0/"; ns=01`}, {"01-nls", "1"}}
		}, "HTTP/1.1 200 OK\r\n" +
			"CACHE-CONTROL: max-age=100\r\n" +
			"DATE: Sun, 22 Nov 2026 00:27:18 GMT\r\n" +
			"EXT:\r\n" +
			"LOCATION: http://h/\r\n" +
			"SERVER: s\r\n" +
			"ST: ssdp:all\r\n" +
			"USN: uuid:u\r\n" +
			"OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n" +
			"01-nls: 1\r\n" +
			"\r\n"},
		{"empty response", func(m *ssdp.Message) { m.Kind = ssdp.KindResponse }, "HTTP/1.1 200 OK\r\n\r\n"},
		{"tab in value", func(m *ssdp.Message) { m.Kind, m.Server = ssdp.KindResponse, "a\tb" },
			"HTTP/1.1 200 OK\r\nSERVER: a\tb\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ssdp.Message
			m.Reset()
			tt.m(&m)
			prefix := []byte("prefix")
			got, err := m.Append(prefix)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if diff := cmp.Diff("prefix"+tt.want, string(got)); diff != "" {
				t.Errorf("Append (-want +got):\n%s", diff)
			}
			back := mustParseMsg(t, got[len(prefix):])
			if diff := cmp.Diff(&m, back); diff != "" {
				t.Errorf("Parse(Append(m)) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendErrors(t *testing.T) {
	long := strings.Repeat("a", 1000)
	tests := []struct {
		name     string
		m        func(*ssdp.Message)
		tooLarge bool
	}{
		{"zero kind", func(m *ssdp.Message) { m.Kind = 0 }, false},
		{"unknown kind", func(m *ssdp.Message) { m.Kind = 9 }, false},
		{"CRLF in LOCATION", func(m *ssdp.Message) { m.Location = "http://h/\r\nX-Evil: 1" }, false},
		{"LF in ST", func(m *ssdp.Message) { m.ST = "ssdp:all\nMX: 1" }, false},
		{"CR in USN", func(m *ssdp.Message) { m.USN = "uuid:a\r" }, false},
		{"CRLF CRLF in SERVER", func(m *ssdp.Message) { m.Server = "s\r\n\r\nbody" }, false},
		{"NUL in HOST", func(m *ssdp.Message) { m.Host = "h\x00" }, false},
		{"DEL in CPFN", func(m *ssdp.Message) { m.CPFN = "a\x7f" }, false},
		{"LF in Extra value", func(m *ssdp.Message) { m.Extra = []ssdp.Header{{"X", "a\nb: c"}} }, false},
		{"CRLF in Extra name", func(m *ssdp.Message) { m.Extra = []ssdp.Header{{"X\r\nY", "a"}} }, false},
		{"colon in Extra name", func(m *ssdp.Message) { m.Extra = []ssdp.Header{{"X:Y", "a"}} }, false},
		{"empty Extra name", func(m *ssdp.Message) { m.Extra = []ssdp.Header{{"", "a"}} }, false},
		{"space in Extra name", func(m *ssdp.Message) { m.Extra = []ssdp.Header{{"X Y", "a"}} }, false},
		{"negative MaxAge", func(m *ssdp.Message) { m.MaxAge = -1 }, false},
		{"negative MX", func(m *ssdp.Message) { m.MX = -3 }, false},
		{"MX over int32", func(m *ssdp.Message) { m.MX = int(overInt32) }, false},
		{"BootID -2", func(m *ssdp.Message) { m.BootID = -2 }, false},
		{"ConfigID -5", func(m *ssdp.Message) { m.ConfigID = -5 }, false},
		{"SearchPort 65536", func(m *ssdp.Message) { m.SearchPort = 65536 }, false},
		{"TCPPort -1", func(m *ssdp.Message) { m.TCPPort = -1 }, false},
		{"line over 1024 bytes", func(m *ssdp.Message) { m.Location = long + long }, true},
		{"Extra line over 1024 bytes", func(m *ssdp.Message) { m.Extra = []ssdp.Header{{"X", long + long}} }, true},
		{"65 header lines", func(m *ssdp.Message) {
			for range 65 {
				m.Extra = append(m.Extra, ssdp.Header{"X", "y"})
			}
		}, true},
		{"over MaxDatagram", func(m *ssdp.Message) {
			for range 9 {
				m.Extra = append(m.Extra, ssdp.Header{"X", long})
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m ssdp.Message
			m.Reset()
			m.Kind = ssdp.KindNotify
			tt.m(&m)
			b, err := m.Append([]byte("keep"))
			if err == nil {
				t.Fatalf("Append = %q, want error", b)
			}
			if string(b) != "keep" {
				t.Errorf("Append changed b to %q on error", b)
			}
			if got := errors.Is(err, ssdp.ErrTooLarge); got != tt.tooLarge {
				t.Errorf("errors.Is(%q, ErrTooLarge) = %v, want %v", err, got, tt.tooLarge)
			}
			if !strings.HasPrefix(err.Error(), "ssdp: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestGet(t *testing.T) {
	m := mustParseMsg(t, []byte("HTTP/1.1 200 OK\r\n"+
		"cache-control: max-age=1800\r\n"+
		"EXT:\r\n"+
		"ST: upnp:rootdevice\r\n"+
		"BOOTID.UPNP.ORG: 5\r\n"+
		"CONFIGID.UPNP.ORG: banana\r\n"+
		"Opt: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"+
		"MX: 0\r\n"+
		"st: second\r\n"+
		"\r\n"))
	for _, tt := range []struct{ name, want string }{
		{"CACHE-CONTROL", "max-age=1800"},
		{"Cache-Control", "max-age=1800"},
		{"st", ssdp.RootDevice},
		{"bootid.upnp.org", "5"},
		{"CONFIGID.UPNP.ORG", "banana"}, // unusable value, kept in Extra
		{"OPT", `"http://schemas.upnp.org/upnp/1/0/"; ns=01`},
		{"mx", "0"},
		{"EXT", ""},
		{"USN", ""},
		{"NEXTBOOTID.UPNP.ORG", ""},
		{"X-Missing", ""},
		{"", ""},
	} {
		if got := m.Get(tt.name); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}

	all := msg(ssdp.KindSearch)
	all.Host, all.NT, all.NTS, all.ST, all.USN, all.Location, all.Server = "h", "nt", "nts", "st", "usn", "loc", "srv"
	all.Agent, all.MAN, all.Date, all.CPFN, all.CPUUID = "ua", "man", "date", "cpfn", "cpuuid"
	all.MaxAge, all.MX, all.BootID, all.NextBootID, all.ConfigID, all.SearchPort, all.TCPPort = 1, 2, 3, 4, 0, 6, 7
	for name, want := range map[string]string{
		"HOST": "h", "NT": "nt", "NTS": "nts", "ST": "st", "USN": "usn", "LOCATION": "loc", "SERVER": "srv",
		"USER-AGENT": "ua", "MAN": "man", "DATE": "date", "CPFN.UPNP.ORG": "cpfn", "CPUUID.UPNP.ORG": "cpuuid",
		"CACHE-CONTROL": "max-age=1", "MX": "2", "BOOTID.UPNP.ORG": "3", "NEXTBOOTID.UPNP.ORG": "4",
		"CONFIGID.UPNP.ORG": "0", "SEARCHPORT.UPNP.ORG": "6", "TCPPORT.UPNP.ORG": "7",
	} {
		if got := all.Get(strings.ToLower(name)); got != want {
			t.Errorf("Get(%q) = %q, want %q", strings.ToLower(name), got, want)
		}
	}
}

func TestReset(t *testing.T) {
	m := mustParseMsg(t, []byte("NOTIFY * HTTP/1.1\r\nNT: a\r\nBOOTID.UPNP.ORG: 3\r\nX: y\r\n\r\n"))
	m.Reset()
	if diff := cmp.Diff(&ssdp.Message{BootID: -1, NextBootID: -1, ConfigID: -1}, m); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
}

// overInt32 is 1<<31 held in a variable, so that the test compiles where int
// has 32 bits (there int(overInt32) wraps to a negative MX, an error too).
var overInt32 int64 = 1 << 31

// TestParseExtraCopies checks that appending to the Extra of two copies of a
// parsed Message cannot overwrite each other's headers through room they
// share.
func TestParseExtraCopies(t *testing.T) {
	m, err := ssdp.Parse([]byte("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nX-A: 1\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := *m, *m
	a.Extra = append(a.Extra, ssdp.Header{Name: "X-B", Value: "from a"})
	b.Extra = append(b.Extra, ssdp.Header{Name: "X-B", Value: "from b"})
	if len(m.Extra) != 1 || a.Extra[1].Value != "from a" || b.Extra[1].Value != "from b" {
		t.Errorf("copies share room: m %v, a %v, b %v", m.Extra, a.Extra, b.Extra)
	}
}

// TestParseAllocsFallback checks that when the fast path has grown the room
// for Extra headers and then hands the datagram to the general parser (here
// because of a tab in the last value), the general parser reuses that room.
func TestParseAllocsFallback(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocations")
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n")
	for i := range 6 {
		fmt.Fprintf(&b, "X-%d: %d\r\n", i, i)
	}
	b.WriteString("SERVER: a\tb\r\n\r\n")
	data := []byte(b.String())
	if m := mustParseMsg(t, data); len(m.Extra) != 6 || m.Server != "a\tb" {
		t.Fatalf("parsed %q into Extra %v, SERVER %q", data, m.Extra, m.Server)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ssdp.Parse(data) }); n != 2 {
		t.Errorf("Parse makes %v allocations, want 2", n)
	}
}

// TestParseAllocsManyExtra checks that any number of unknown headers, up to
// the 64 header lines allowed, costs one allocation beyond Parse's own, on
// the fast path (": ", with CRLF) and on the general one (a space before the
// colon takes it; LF).
func TestParseAllocsManyExtra(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocations")
	}
	for _, sep := range []string{": ", " : "} {
		for _, k := range []int{5, 9, 20, 63} {
			eol := "\r\n"
			if sep == " : " {
				eol = "\n"
			}
			var b strings.Builder
			b.WriteString("NOTIFY * HTTP/1.1" + eol + "NT: upnp:rootdevice" + eol)
			for i := range k {
				fmt.Fprintf(&b, "X-%d%s%d%s", i, sep, i, eol)
			}
			b.WriteString(eol)
			data := []byte(b.String())
			if m := mustParseMsg(t, data); len(m.Extra) != k || m.NT != "upnp:rootdevice" {
				t.Fatalf("%d headers %q: Extra has %d, NT %q", k, sep, len(m.Extra), m.NT)
			}
			if n := testing.AllocsPerRun(100, func() { _, _ = ssdp.Parse(data) }); n != 2 {
				t.Errorf("%d unknown headers, separator %q: %v allocations, want 2", k, sep, n)
			}
		}
	}
}

func TestParseAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocations")
	}
	inputs := loadPackets(t)
	for _, tt := range lenientTests {
		inputs[tt.name] = []byte(tt.in)
	}
	for name, data := range inputs {
		want := 1.0
		if m := mustParseMsg(t, data); len(m.Extra) > 4 {
			want = 2 // Extra outgrows the room in the Message's allocation
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = ssdp.Parse(data) }); n != want {
			t.Errorf("Parse(%s) makes %v allocations, want %v", name, n, want)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocations")
	}
	buf := make([]byte, 0, ssdp.MaxDatagram)
	for name, data := range loadPackets(t) {
		m := mustParseMsg(t, data)
		if n := testing.AllocsPerRun(100, func() { _, _ = m.Append(buf[:0]) }); n != 0 {
			t.Errorf("Append(%s) makes %v allocations into a large enough buffer, want 0", name, n)
		}
	}
}

// TestParseControlEveryOffset puts each kind of byte at every offset of a
// header line, to cover each position in the scanner's eight-byte words.
func TestParseControlEveryOffset(t *testing.T) {
	for off := range 24 {
		for c := range 256 {
			value := []byte(strings.Repeat("v", 23))
			value[off%len(value)] = byte(c)
			in := "NOTIFY * HTTP/1.1\r\nSERVER: a" + string(value) + "z\r\n\r\n"
			m, err := ssdp.Parse([]byte(in))
			bad := c < 0x20 && c != '\t' || c == 0x7f
			switch {
			case bad && err == nil:
				t.Errorf("Parse(%q) accepted byte %#x at offset %d", in, c, off)
			case !bad && err != nil:
				t.Errorf("Parse(%q): %v", in, err)
			case !bad && m.Server != "a"+string(value)+"z":
				t.Errorf("Parse(%q).Server = %q", in, m.Server)
			}
		}
	}
}
