package controlpoint

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// FuzzNotify feeds the callback handler NOTIFYs with arbitrary SID, SEQ and
// body: it must answer, never panic, and queue only what it answered 200.
func FuzzNotify(f *testing.F) {
	for _, name := range []string{"gmediarender-RenderingControl-seq1.xml", "miniupnpd-WANIPConnection-seq0.xml"} {
		b, err := os.ReadFile("../internal/gena/testdata/events/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("uuid:x", "0", string(b))
		f.Add("uuid:x", "1", string(b))
	}
	f.Add("uuid:y", "4294967295", "<propertyset/>")
	f.Add("", "-1", "")
	f.Fuzz(func(t *testing.T, sid, seq, body string) {
		lo := netip.MustParseAddr("127.0.0.1")
		svc := &Service{owner: &Device{Addr: lo}}
		a := newAttempt(svc, false)
		a.start("uuid:x")
		defer a.close()
		s := &callbackServer{routes: map[string]*attempt{a.token: a}, logger: (&Client{}).logger()}
		req := httptest.NewRequest("NOTIFY", "/"+a.token, strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:4000"
		for k, v := range map[string]string{"NT": "upnp:event", "NTS": "upnp:propchange", "SID": sid, "SEQ": seq} {
			req.Header[k] = []string{v}
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		queued := len(a.events)
		switch {
		case w.Code == http.StatusOK:
		case w.Code >= 400 && w.Code < 500:
			if queued != 0 {
				t.Fatalf("status %d but %d events queued", w.Code, queued)
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
