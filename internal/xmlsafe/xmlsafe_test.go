package xmlsafe_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/beevik/etree"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>`

func nested(n int) []byte {
	return []byte(strings.Repeat("<a>", n) + strings.Repeat("</a>", n))
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		lim  xmlsafe.Limits
		want error // nil, a sentinel, or errSyntax
	}{
		{"simple", []byte(`<?xml version="1.0"?><root><a x="1">t</a></root>`), xmlsafe.Limits{}, nil},
		{"bom", []byte("\ufeff<root/>"), xmlsafe.Limits{}, nil},
		{"leading space", []byte("\n <?xml version=\"1.0\"?><root/>"), xmlsafe.Limits{}, nil},
		{"comment and CDATA", []byte(`<root><!-- c --><![CDATA[<x>]]></root>`), xmlsafe.Limits{}, nil},
		{"billion laughs", []byte(billionLaughs), xmlsafe.Limits{}, xmlsafe.ErrDTD},
		{"doctype only", []byte(`<!DOCTYPE root><root/>`), xmlsafe.Limits{}, xmlsafe.ErrDTD},
		{"external entity", []byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`), xmlsafe.Limits{}, xmlsafe.ErrDTD},
		{"depth 32 ok", nested(32), xmlsafe.Limits{}, nil},
		{"depth 33", nested(33), xmlsafe.Limits{}, xmlsafe.ErrTooDeep},
		{"depth 10000", nested(10000), xmlsafe.Limits{}, xmlsafe.ErrTooDeep},
		{"depth custom", nested(5), xmlsafe.Limits{MaxDepth: 4}, xmlsafe.ErrTooDeep},
		{"100k tokens", []byte("<r>" + strings.Repeat("<a/>", 50_000) + "</r>"), xmlsafe.Limits{}, xmlsafe.ErrTooManyTokens},
		{"attributes count", []byte("<r " + `a1="" a2="" a3=""/>`), xmlsafe.Limits{MaxTokens: 3}, xmlsafe.ErrTooManyTokens},
		{"2 MiB", append([]byte("<r>"), bytes.Repeat([]byte("x"), 2<<20)...), xmlsafe.Limits{}, xmlsafe.ErrTooLarge},
		{"size custom", []byte("<root/>"), xmlsafe.Limits{MaxBytes: 6}, xmlsafe.ErrTooLarge},
		{"bad char", []byte("<r>\x01</r>"), xmlsafe.Limits{}, errSyntax},
		{"bad utf8", []byte("<r>\xff</r>"), xmlsafe.Limits{}, errSyntax},
		{"unknown entity", []byte("<r>&nbsp;</r>"), xmlsafe.Limits{}, errSyntax},
		{"unterminated", []byte("<r><a>"), xmlsafe.Limits{}, errSyntax},
		{"latin1", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>caf\xe9</r>"), xmlsafe.Limits{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := xmlsafe.Check(tt.in, tt.lim)
			checkErr(t, err, tt.want)
			_, err = xmlsafe.Parse(tt.in, tt.lim)
			checkErr(t, err, tt.want)
		})
	}
}

var errSyntax = errors.New("any *xml.SyntaxError")

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch want {
	case nil:
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
	case errSyntax:
		var se *xml.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v (%T), want *xml.SyntaxError", err, err)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("err = %v, want %v", err, want)
		}
	}
}

func TestCheckPosition(t *testing.T) {
	err := xmlsafe.Check([]byte("<r>\n<a>\n<b/></a></r>"), xmlsafe.Limits{MaxDepth: 2})
	if !errors.Is(err, xmlsafe.ErrTooDeep) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v, want ErrTooDeep at line 3", err)
	}
}

func TestParseMismatchedTags(t *testing.T) {
	// The token walk does not match tags; etree does.
	if err := xmlsafe.Check([]byte("<a></b>"), xmlsafe.Limits{}); err != nil {
		t.Logf("Check: %v", err)
	}
	if _, err := xmlsafe.Parse([]byte("<a></b>"), xmlsafe.Limits{}); err == nil {
		t.Error("Parse accepted mismatched tags")
	}
}

func TestParseCharsets(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"utf-8", `<?xml version="1.0" encoding="utf-8"?><r>café</r>`, "café"},
		{"iso-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>caf\xe9</r>", "café"},
		{"windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?><r>\x80 \x9f \x81</r>", "€ Ÿ \u0081"},
		{"us-ascii", `<?xml version="1.0" encoding="US-ASCII"?><r>plain</r>`, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := xmlsafe.Parse([]byte(tt.in), xmlsafe.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.Root().Text(); got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCharsetReaderLong(t *testing.T) {
	// More than one internal buffer, read in small pieces.
	in := bytes.Repeat([]byte{'a', 0xe9}, 1000)
	r, err := xmlsafe.CharsetReader("latin1", iotest.OneByteReader(bytes.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(iotest.HalfReader(r)); err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("aé", 1000); out.String() != want {
		t.Errorf("got %d bytes, want %d", out.Len(), len(want))
	}
}

func TestParseNamespacePrefix(t *testing.T) {
	doc, err := xmlsafe.Parse([]byte(`<d:root xmlns:d="urn:x"><d:device/></d:root>`), xmlsafe.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Root()
	if r.Tag != "root" || r.Space != "d" || r.NamespaceURI() != "urn:x" {
		t.Errorf("root = %q:%q (%q)", r.Space, r.Tag, r.NamespaceURI())
	}
	var _ *etree.Element = r.SelectElement("device")
}

func TestReadAll(t *testing.T) {
	b, err := xmlsafe.ReadAll(strings.NewReader("<r/>"), xmlsafe.Limits{MaxBytes: 4})
	if err != nil || string(b) != "<r/>" {
		t.Errorf("ReadAll = %q, %v", b, err)
	}
	_, err = xmlsafe.ReadAll(strings.NewReader("<r></r>"), xmlsafe.Limits{MaxBytes: 4})
	if !errors.Is(err, xmlsafe.ErrTooLarge) {
		t.Errorf("ReadAll over the limit: err = %v, want ErrTooLarge", err)
	}
	_, err = xmlsafe.ReadAll(iotest.ErrReader(errors.New("boom")), xmlsafe.Limits{})
	if err == nil || err.Error() != "boom" {
		t.Errorf("ReadAll error: %v", err)
	}
}

func BenchmarkCheck(b *testing.B) {
	in := []byte("<r>" + strings.Repeat(`<a x="1">text</a>`, 1000) + "</r>")
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if err := xmlsafe.Check(in, xmlsafe.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParse checks that Check and Parse never panic and that a parsed tree
// is within the limits Check enforced.
func FuzzParse(f *testing.F) {
	f.Add([]byte(billionLaughs))
	f.Add(nested(40))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><d:root xmlns:d="urn:x" a="1"><d:x>caf` + "\xe9" + `</d:x><!-- c --><![CDATA[x]]></d:root>`))
	lim := xmlsafe.Limits{MaxDepth: 8, MaxTokens: 200}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := xmlsafe.Parse(b, lim)
		if err != nil {
			return
		}
		if err := xmlsafe.Check(b, lim); err != nil {
			t.Fatalf("Parse succeeded but Check: %v", err)
		}
		var depth func(e *etree.Element) int
		depth = func(e *etree.Element) int {
			d := 0
			for _, c := range e.ChildElements() {
				d = max(d, depth(c))
			}
			return d + 1
		}
		if d := depth(&doc.Element) - 1; d > lim.MaxDepth {
			t.Fatalf("tree depth %d over %d", d, lim.MaxDepth)
		}
	})
}
