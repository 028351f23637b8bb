package controlpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// Defaults of the Client fields.
const (
	DefaultMaxFetches = 16
	DefaultTimeout    = 5 * time.Second
	// MaxResponse caps a control response. It is larger than the 64 KiB
	// SECURITY.md sets for SOAP bodies a device reads, because a control
	// point asks for what comes back: a ContentDirectory Browse of a few
	// hundred items is several hundred KiB of escaped DIDL-Lite.
	MaxResponse = 1 << 20
	// maxHeader caps response headers (SECURITY.md).
	maxHeader = 8 << 10
)

// A Client discovers, describes and controls devices. The zero Client
// searches every up, multicast-capable, non-loopback interface over IPv4
// and IPv6, fetches only from the host that announced a device, and is
// ready to use. Set the fields before first use; a Client is safe for
// concurrent use and keeps its HTTP connections alive between calls.
type Client struct {
	// Interfaces names the interfaces to search on; nil means all usable ones.
	Interfaces []string
	// Network is "udp4", "udp6", or "" for both.
	Network string
	// HTTPClient, when set, makes every request. Redirects are still
	// refused and the same-host rule is still applied to each URL, but the
	// rule's second check, on the address actually dialed, is only made by
	// the Client's own transport, which nil selects: no proxy, 8 KiB of
	// headers, keep-alive, and dialing only the allowed address.
	HTTPClient *http.Client
	// AllowForeignHosts lets descriptions send the control point to other
	// hosts than the one that announced the device (URLBase, SCPDURL,
	// controlURL), and to host names. Off, such URLs fail with
	// ErrForeignHost: a hostile LOCATION cannot turn the control point into
	// a scanner of the LAN (SECURITY.md).
	AllowForeignHosts bool
	// MaxFetches caps the HTTP fetches of descriptions and SCPDs in flight
	// at once, over all discoveries; zero means DefaultMaxFetches.
	MaxFetches int
	// Timeout caps each HTTP exchange, connection to last byte; zero means
	// DefaultTimeout. A context deadline that comes sooner wins.
	Timeout time.Duration
	// Logger receives debug lines about devices that could not be
	// described; nil means none.
	Logger *slog.Logger

	once      sync.Once
	http      *http.Client
	fetchq    chan struct{}
	descq     chan struct{} // descriptions: half the fetch slots (describe.go)
	callbacks callbacks     // GENA callback servers (subscribe.go)
}

func (c *Client) init() {
	c.once.Do(func() {
		n := c.MaxFetches
		if n <= 0 {
			n = DefaultMaxFetches
		}
		c.fetchq = make(chan struct{}, n)
		c.descq = make(chan struct{}, max(1, n/2))
		if c.HTTPClient != nil {
			hc := *c.HTTPClient
			hc.CheckRedirect = refuseRedirect
			c.http = &hc
			return
		}
		tr := &http.Transport{
			Proxy:                  nil,
			DialContext:            dial,
			MaxIdleConns:           64,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        30 * time.Second,
			TLSHandshakeTimeout:    5 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: maxHeader,
		}
		c.http = &http.Client{Transport: tr, CheckRedirect: refuseRedirect}
	})
}

func refuseRedirect(req *http.Request, _ []*http.Request) error {
	return fmt.Errorf("%w: to %s", ErrRedirect, req.URL.Redacted())
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// allowKey carries, in a request's context, the only address the dialer may
// connect to.
type allowKey struct{}

// dial connects like net.Dialer, but when the context names an allowed
// address, the socket may connect to that address only: the check runs on
// the address about to be connected, after any name resolution.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
	if allow, ok := ctx.Value(allowKey{}).(netip.Addr); ok && allow.IsValid() {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !sameIP(ap.Addr(), allow) {
				return fmt.Errorf("%w: dialing %s, allowed %s", ErrForeignHost, address, allow)
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}

func sameIP(a, b netip.Addr) bool {
	return a.Unmap().WithZone("") == b.Unmap().WithZone("")
}

// checkURL applies the same-host rule to u: its host must be an IP literal
// equal to allow. An invalid allow, or AllowForeignHosts, allows anything.
func (c *Client) checkURL(u *url.URL, allow netip.Addr) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("controlpoint: %s: not an http URL", u.Redacted())
	}
	if c.AllowForeignHosts || !allow.IsValid() {
		return nil
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return fmt.Errorf("%w: %s names no IP address", ErrForeignHost, u.Redacted())
	}
	if !sameIP(a, allow) {
		return fmt.Errorf("%w: %s is not on %s", ErrForeignHost, u.Redacted(), allow)
	}
	return nil
}

// withZone gives an IPv6 link-local URL host without a zone the zone of the
// interface the device was seen on; other URLs come back unchanged.
func withZone(u *url.URL, iface string) *url.URL {
	if iface == "" {
		return u
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil || !a.Is6() || !a.IsLinkLocalUnicast() || a.Zone() != "" {
		return u
	}
	v := *u
	host := a.WithZone(iface).String()
	if p := u.Port(); p != "" {
		v.Host = net.JoinHostPort(host, p)
	} else {
		v.Host = "[" + host + "]"
	}
	return &v
}

// do sends req (whose context is set by the caller) under the same-host
// rule and the time cap; the cancel function must be called once the body is
// read.
func (c *Client) do(req *http.Request, allow netip.Addr) (*http.Response, context.CancelFunc, error) {
	c.init()
	if err := c.checkURL(req.URL, allow); err != nil {
		return nil, func() {}, err
	}
	ctx, cancel := context.WithTimeout(req.Context(), c.timeout())
	if !c.AllowForeignHosts && allow.IsValid() {
		ctx = context.WithValue(ctx, allowKey{}, allow)
	}
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, func() {}, err
	}
	return resp, cancel, nil
}

// get fetches an XML document (a description or an SCPD) of at most 1 MiB,
// under the fetch limit, retrying once after a transport error. It returns
// the body and the local address the connection used.
func (c *Client) get(ctx context.Context, u *url.URL, allow netip.Addr) ([]byte, netip.Addr, error) {
	c.init()
	var lastErr error
	for attempt := range 2 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, netip.Addr{}, lastErr
			case <-time.After(100 * time.Millisecond):
			}
		}
		select {
		case c.fetchq <- struct{}{}:
		case <-ctx.Done():
			return nil, netip.Addr{}, ctx.Err()
		}
		b, local, err, retry := c.getOnce(ctx, u, allow)
		<-c.fetchq
		if err == nil || !retry {
			return b, local, err
		}
		lastErr = err
	}
	return nil, netip.Addr{}, lastErr
}

func (c *Client) getOnce(ctx context.Context, u *url.URL, allow netip.Addr) (b []byte, local netip.Addr, err error, retry bool) {
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if ta, ok := ci.Conn.LocalAddr().(*net.TCPAddr); ok {
			mu.Lock()
			local = ta.AddrPort().Addr().Unmap()
			mu.Unlock()
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, local, err, false
	}
	req.Header.Set("Accept", "text/xml, application/xml")
	resp, cancel, err := c.do(req, allow)
	defer cancel()
	if err != nil {
		return nil, local, fmt.Errorf("controlpoint: GET %s: %w", u.Redacted(), err), retryable(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, local, &HTTPError{Method: "GET", URL: u.Redacted(), StatusCode: resp.StatusCode, Status: resp.Status},
			resp.StatusCode >= 500
	}
	b, err = xmlsafe.ReadAll(resp.Body, xmlsafe.Limits{})
	if err != nil {
		return nil, local, fmt.Errorf("controlpoint: GET %s: %w", u.Redacted(), err), false
	}
	mu.Lock()
	defer mu.Unlock()
	return b, local, nil, false
}

// retryable reports whether a failed exchange is worth a second try: a
// transport error, not a refusal of ours nor the caller's cancellation.
func retryable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, ErrForeignHost) && !errors.Is(err, ErrRedirect) &&
		!errors.Is(err, context.DeadlineExceeded)
}
