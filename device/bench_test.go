package device_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/seedb72249f9/upnp/device"
	"github.com/seedb72249f9/upnp/examples/binarylight"
)

// The SOAP benchmarks run the same client loop, with keep-alive over
// loopback, against our device and against a bare net/http handler that
// answers a fixed SOAP response: the ceiling on this machine.
//
//	go test -run '^$' -bench 'SOAP' -benchmem -count 5 ./device

var getStatusBody = envelope(power, "GetStatus", "")

const fixedResponse = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:GetStatusResponse xmlns:u="urn:schemas-upnp-org:service:SwitchPower:1"><ResultStatus>0</ResultStatus></u:GetStatusResponse></s:Body></s:Envelope>`

func benchSOAP(b *testing.B, h http.Handler, path string) {
	ts := httptest.NewServer(h)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := ts.URL + path
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, strings.NewReader(getStatusBody))
			req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
			req.Header.Set("SOAPACTION", `"`+power+`#GetStatus"`)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<ResultStatus>0</ResultStatus>")) {
				b.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		}
	})
}

// BenchmarkSOAPDevice is one GetStatus action on the example light.
func BenchmarkSOAPDevice(b *testing.B) {
	s := &device.Server{Device: binarylight.New("bench", lightUDN)}
	benchSOAP(b, s, powerURL)
}

// BenchmarkSOAPCeiling is a bare handler that reads the body and writes a
// fixed response.
func BenchmarkSOAPCeiling(b *testing.B) {
	resp := []byte(fixedResponse)
	benchSOAP(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		w.Write(resp)
	}), "/")
}

// BenchmarkControlHandler is the device's handler alone, without the network:
// what one action costs us in CPU and allocations.
func BenchmarkControlHandler(b *testing.B) {
	s := &device.Server{Device: binarylight.New("bench", lightUDN)}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", powerURL, strings.NewReader(getStatusBody))
		req.Header.Set("SOAPACTION", `"`+power+`#GetStatus"`)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// TestMemoryPerDevice reports the heap a served example light holds (its tree,
// generated descriptions and state), measured over 200 of them.
func TestMemoryPerDevice(t *testing.T) {
	const n = 200
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	servers := make([]*device.Server, n)
	for i := range servers {
		servers[i] = &device.Server{Device: binarylight.New("m", "")}
		if _, err := servers[i].Description(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	per := (ms1.HeapAlloc - ms0.HeapAlloc) / n
	t.Logf("heap per served light: %d bytes", per)
	runtime.KeepAlive(servers)
	if per > 1<<20 {
		t.Errorf("a served light holds %d bytes, over 1 MiB", per)
	}
}
