package controlpoint_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
)

func TestInvokeLight(t *testing.T) {
	_, loc := newLight(t)
	c := &controlpoint.Client{}
	ctx := context.Background()
	d, err := c.Describe(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	power := d.Service("SwitchPower")
	dim := d.Service("urn:upnp-org:serviceId:Dimming")
	if power == nil || dim == nil || power.SCPD == nil || dim.SCPD == nil {
		t.Fatalf("services not found or not described: %+v", d.Services)
	}
	steps := []struct {
		svc    *controlpoint.Service
		action string
		in     map[string]any
		want   map[string]any
	}{
		{power, "GetStatus", nil, map[string]any{"ResultStatus": false}},
		{power, "SetTarget", map[string]any{"newTargetValue": true}, map[string]any{}},
		{power, "GetStatus", nil, map[string]any{"ResultStatus": true}},
		{power, "SetTarget", map[string]any{"newTargetValue": "0"}, map[string]any{}},
		{power, "GetTarget", nil, map[string]any{"RetTargetValue": false}},
		{dim, "SetLoadLevelTarget", map[string]any{"newLoadlevelTarget": 42}, map[string]any{}},
		{dim, "GetLoadLevelStatus", nil, map[string]any{"retLoadlevelStatus": uint8(42)}},
		{dim, "SetLoadLevelTarget", map[string]any{"newLoadlevelTarget": " 7 "}, map[string]any{}},
		{dim, "GetLoadLevelTarget", nil, map[string]any{"GetLoadlevelTarget": uint8(7)}},
	}
	for _, s := range steps {
		got, err := c.Invoke(ctx, s.svc, s.action, s.in)
		if err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.action, diff)
		}
	}
}

func TestInvokeErrors(t *testing.T) {
	_, loc := newLight(t)
	c := &controlpoint.Client{}
	ctx := context.Background()
	d, err := c.Describe(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	power, dim := d.Service("SwitchPower:1"), d.Service("Dimming")
	var ve *upnp.ValueError
	tests := []struct {
		name   string
		svc    *controlpoint.Service
		action string
		in     map[string]any
		is     error
		as     any
	}{
		{"unknown action", power, "Explode", nil, controlpoint.ErrNoAction, nil},
		{"missing argument", power, "SetTarget", nil, controlpoint.ErrArgument, nil},
		{"unknown argument", power, "SetTarget", map[string]any{"newTargetValue": true, "Colour": "red"}, controlpoint.ErrArgument, nil},
		{"bad value", power, "SetTarget", map[string]any{"newTargetValue": "maybe"}, controlpoint.ErrArgument, &ve},
		{"out of range", dim, "SetLoadLevelTarget", map[string]any{"newLoadlevelTarget": 150}, controlpoint.ErrArgument, &ve},
		{"wrong Go type", dim, "SetLoadLevelTarget", map[string]any{"newLoadlevelTarget": []int{1}}, controlpoint.ErrArgument, &ve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Invoke(ctx, tt.svc, tt.action, tt.in)
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("err = %v, not a %T", err, tt.as)
			}
			if tt.name == "out of range" && !ve.OutOfRange {
				t.Errorf("the out-of-range value's error does not say so: %v", ve)
			}
		})
	}
	// The device itself refuses what the SCPD-less path lets through.
	raw := &controlpoint.Service{Type: power.Type, ControlURL: power.ControlURL}
	_, err = c.Invoke(ctx, raw, "SetTarget", map[string]any{"newTargetValue": "maybe"})
	var ue *upnp.Error
	if !errors.As(err, &ue) || (ue.Code != upnp.CodeArgumentValueInvalid && ue.Code != upnp.CodeInvalidArgs) {
		t.Errorf("SCPD-less SetTarget(maybe) = %v, want a UPnP 600 or 402 fault", err)
	}
	out, err := c.Invoke(ctx, raw, "GetStatus", nil)
	if err != nil || out["ResultStatus"] != "0" {
		t.Errorf("SCPD-less GetStatus = %v, %v; want the string 0", out, err)
	}
}

// faultBody is a UPnP fault with an empty faultstring, as some devices send.
const faultBody = `<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring></faultstring>
<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail>
</s:Fault></s:Body></s:Envelope>`

func TestInvokeFaultAndStatus(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"fault with empty faultstring", 500, faultBody, func(err error) bool {
			var ue *upnp.Error
			return errors.As(err, &ue) && ue.Code == 718 && ue.Description == "ConflictInMappingEntry"
		}},
		{"fault with code only", 500, strings.Replace(faultBody, "ConflictInMappingEntry", "", 1), func(err error) bool {
			var ue *upnp.Error
			return errors.As(err, &ue) && ue.Code == 718 && strings.Contains(err.Error(), "718")
		}},
		{"404", 404, "no", func(err error) bool {
			var he *controlpoint.HTTPError
			return errors.As(err, &he) && he.StatusCode == 404
		}},
		{"500 without fault", 500, "<html>oops</html>", func(err error) bool {
			var he *controlpoint.HTTPError
			return errors.As(err, &he) && he.StatusCode == 500
		}},
		{"200 with garbage", 200, "<<<", func(err error) bool { return err != nil }},
		{"too large", 200, strings.Repeat(" ", controlpoint.MaxResponse+1), func(err error) bool { return errors.Is(err, upnp.ErrTooLarge) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer ts.Close()
			svc := &controlpoint.Service{Type: "urn:schemas-upnp-org:service:WANIPConnection:1", ControlURL: ts.URL + "/ctl"}
			_, err := (&controlpoint.Client{}).Invoke(context.Background(), svc, "AddPortMapping", nil)
			if !tt.check(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestInvokeMPost(t *testing.T) {
	var methods []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		if r.Method == "POST" {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if r.Method != "M-POST" || r.Header.Get("01-SOAPACTION") != `"urn:schemas-upnp-org:service:SwitchPower:1#GetStatus"` ||
			!strings.Contains(r.Header.Get("MAN"), "ns=01") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		io.WriteString(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetStatusResponse xmlns:u="urn:schemas-upnp-org:service:SwitchPower:1"><ResultStatus>1</ResultStatus></u:GetStatusResponse></s:Body></s:Envelope>`)
	}))
	defer ts.Close()
	svc := &controlpoint.Service{Type: "urn:schemas-upnp-org:service:SwitchPower:1", ControlURL: ts.URL + "/ctl"}
	out, err := (&controlpoint.Client{}).Invoke(context.Background(), svc, "GetStatus", nil)
	if err != nil || out["ResultStatus"] != "1" {
		t.Fatalf("Invoke = %v, %v", out, err)
	}
	if diff := cmp.Diff([]string{"POST", "M-POST"}, methods); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
}

func TestInvokeKeepAlive(t *testing.T) {
	s, _ := newLight(t)
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	defer ts.Close()
	c := &controlpoint.Client{}
	ctx := context.Background()
	d, err := c.Describe(ctx, ts.URL+"/desc.xml")
	if err != nil {
		t.Fatal(err)
	}
	before := conns.Load()
	for range 20 {
		if _, err := c.Invoke(ctx, d.Service("SwitchPower"), "GetStatus", nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load() - before; n > 1 {
		t.Errorf("20 sequential calls opened %d connections, want at most 1", n)
	}
}

func TestInvokeContextDeadline(t *testing.T) {
	block := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer ts.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 200*1e6)
	defer cancel()
	svc := &controlpoint.Service{Type: "urn:x:service:Y:1", ControlURL: ts.URL}
	_, err := (&controlpoint.Client{}).Invoke(ctx, svc, "Z", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline", err)
	}
}
