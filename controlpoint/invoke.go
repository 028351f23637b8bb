package controlpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
)

// Invoke calls action on svc (UDA section 3, Control) and returns its out
// arguments.
//
// With the service's SCPD, args must hold every in argument and no other:
// each value is a Go value of its data type (see upnp.DataType) or a
// string in wire format, checked against the allowed values and range of
// its state variable and sent in SCPD order; out arguments come back
// decoded to their data type's Go type, or as the string received when it
// does not decode (devices are sloppy), and arguments the SCPD does not list
// as strings. Without an SCPD (svc.SCPD nil) args are sent by name order,
// strings as they are and other values formatted with fmt, and out
// arguments come back as strings.
//
// A UPnP fault is returned as a wrapped *upnp.Error (errors.As finds it),
// with its code and description even when the device leaves faultstring
// empty; a fault without a UPnP error code as a *soap.FaultError message.
// Other errors: ErrNoAction, ErrArgument, a *HTTPError, ErrForeignHost,
// ErrRedirect, transport and context errors, each wrapped with the action
// and URL. A device that answers 405 Method Not Allowed is asked again with
// M-POST (UDA 1.0's mandatory extension). HTTP connections are kept alive
// and reused between calls.
func (c *Client) Invoke(ctx context.Context, svc *Service, action string, args map[string]any) (map[string]any, error) {
	c.init()
	where := svc.Type + "#" + action
	fail := func(err error) (map[string]any, error) {
		return nil, fmt.Errorf("controlpoint: %s: %w", where, err)
	}
	if svc.ControlURL == "" {
		return fail(errors.New("service has no control URL"))
	}
	var act *upnp.Action
	if svc.SCPD != nil {
		if act = svc.SCPD.Action(action); act == nil {
			return fail(fmt.Errorf("%w %q in %s", ErrNoAction, action, svc.Type))
		}
	}
	in, err := encodeArgs(svc.SCPD, act, args)
	if err != nil {
		return fail(err)
	}
	body, err := soap.AppendRequest(nil, svc.Type, action, in)
	if err != nil {
		return fail(err)
	}
	u, err := url.Parse(svc.ControlURL)
	if err != nil {
		return fail(err)
	}
	var allow netip.Addr
	if svc.owner != nil {
		allow = svc.owner.Addr
	}
	resp, err := c.post(ctx, http.MethodPost, u, allow, svc.Type, action, body)
	if err == nil && resp.StatusCode == http.StatusMethodNotAllowed {
		resp.Body.Close()
		resp, err = c.post(ctx, "M-POST", u, allow, svc.Type, action, body)
	}
	if err != nil {
		return fail(fmt.Errorf("POST %s: %w", u.Redacted(), err))
	}
	defer resp.Body.Close()
	b, err := soap.ReadBody(resp.Body, MaxResponse)
	if err != nil {
		return fail(fmt.Errorf("POST %s: %w", u.Redacted(), err))
	}
	httpErr := &HTTPError{Method: resp.Request.Method, URL: u.Redacted(), StatusCode: resp.StatusCode, Status: resp.Status}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusInternalServerError {
		return fail(httpErr)
	}
	outArgs, err := soap.ParseResponse(b, action)
	if err != nil {
		var ue *upnp.Error
		var fe *soap.FaultError
		if resp.StatusCode != http.StatusOK && !errors.As(err, &ue) && !errors.As(err, &fe) {
			return fail(fmt.Errorf("%w (%v)", httpErr, err)) // a 500 without a fault
		}
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(httpErr)
	}
	return decodeArgs(svc.SCPD, act, outArgs), nil
}

// post sends one control request; the response body is the caller's to
// close, and its context is cancelled then.
//
// A request that fails on a kept-alive connection before a single byte of
// response came back, with EOF or a reset, is sent once more on a new
// connection. libupnp (gmediarender and many other devices) answers a
// control request without "Connection: close" and then closes the
// connection, so the next request may go out on a connection the device has
// already closed: it never read that request. net/http retries only
// idempotent requests in that case; without this one call in six failed in
// back-to-back calls to gmediarender (docs/benchmarks.md).
func (c *Client) post(ctx context.Context, method string, u *url.URL, allow netip.Addr, serviceType, action string, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		var reused, answered atomic.Bool
		trace := &httptrace.ClientTrace{
			GotConn:              func(ci httptrace.GotConnInfo) { reused.Store(ci.Reused) },
			GotFirstResponseByte: func() { answered.Store(true) },
		}
		resp, err := c.postOnce(httptrace.WithClientTrace(ctx, trace), method, u, allow, serviceType, action, body)
		if err != nil && attempt == 0 && reused.Load() && !answered.Load() && ctx.Err() == nil && closedConn(err) {
			continue
		}
		return resp, err
	}
}

// closedConn reports whether err is what net/http returns when the peer
// closed the connection: EOF, a reset, a broken pipe, or its unexported
// "server closed idle connection" when it saw the close while writing.
func closedConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "server closed idle connection")
}

func (c *Client) postOnce(ctx context.Context, method string, u *url.URL, allow netip.Addr, serviceType, action string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", soap.ContentType)
	sa := soap.FormatSOAPAction(serviceType, action)
	if method == "M-POST" {
		req.Header.Set("Man", `"http://schemas.xmlsoap.org/soap/envelope/"; ns=01`)
		req.Header.Set("01-Soapaction", sa)
	} else {
		req.Header.Set("Soapaction", sa)
	}
	resp, cancel, err := c.do(req, allow)
	if err != nil {
		return nil, err
	}
	resp.Body = &cancelBody{resp.Body, cancel}
	return resp, nil
}

// cancelBody ends a request's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// encodeArgs turns args into the in arguments of act, in SCPD order.
func encodeArgs(scpd *upnp.SCPD, act *upnp.Action, args map[string]any) ([]soap.Arg, error) {
	if act == nil {
		names := make([]string, 0, len(args))
		for k := range args {
			names = append(names, k)
		}
		slices.Sort(names)
		out := make([]soap.Arg, 0, len(names))
		for _, k := range names {
			v, ok := args[k].(string)
			if !ok {
				v = fmt.Sprint(args[k])
			}
			out = append(out, soap.Arg{Name: k, Value: v})
		}
		return out, nil
	}
	var out []soap.Arg
	used := 0
	for a := range act.In() {
		v, ok := args[a.Name]
		if !ok {
			return nil, fmt.Errorf("%w: missing in argument %s", ErrArgument, a.Name)
		}
		used++
		s, err := encodeArg(scpd, a, v)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrArgument, a.Name, err)
		}
		out = append(out, soap.Arg{Name: a.Name, Value: s})
	}
	if used != len(args) {
		for k := range args {
			if !slices.ContainsFunc(act.Arguments, func(a upnp.Argument) bool {
				return a.Name == k && a.Direction == upnp.DirectionIn
			}) {
				return nil, fmt.Errorf("%w: %s has no in argument %s", ErrArgument, act.Name, k)
			}
		}
	}
	return out, nil
}

func encodeArg(scpd *upnp.SCPD, a *upnp.Argument, v any) (string, error) {
	if sv := scpd.StateVariable(a.RelatedStateVariable); sv != nil && sv.DataType.Valid() {
		return sv.Encode(v)
	}
	// No usable state variable: send strings as they are.
	if s, ok := v.(string); ok {
		return s, nil
	}
	return fmt.Sprint(v), nil
}

// decodeArgs turns the out arguments received into Go values.
func decodeArgs(scpd *upnp.SCPD, act *upnp.Action, got []soap.Arg) map[string]any {
	out := make(map[string]any, len(got))
	for _, g := range got {
		out[g.Name] = g.Value
	}
	if act == nil {
		return out
	}
	for a := range act.Out() {
		i := slices.IndexFunc(got, func(g soap.Arg) bool { return g.Name == a.Name })
		if i < 0 {
			i = slices.IndexFunc(got, func(g soap.Arg) bool { return strings.EqualFold(g.Name, a.Name) })
			if i < 0 {
				continue
			}
			delete(out, got[i].Name)
		}
		sv := scpd.StateVariable(a.RelatedStateVariable)
		if sv == nil {
			out[a.Name] = got[i].Value
			continue
		}
		if v, err := sv.DataType.Decode(got[i].Value); err == nil {
			out[a.Name] = v
		} else {
			out[a.Name] = got[i].Value
		}
	}
	return out
}
