package controlpoint

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp"
)

// A Device is a described root device: its description with the SCPD of
// every service, and how it was found and is reached. It is not changed
// once returned and may be shared between goroutines.
type Device struct {
	// Root is the description. Its URLs are as the device wrote them; the
	// Services hold them resolved.
	Root *upnp.Root
	// Location is the URL the description came from.
	Location string
	// USN is the USN of the SSDP message that led to the device; "" when
	// it was described from a LOCATION alone.
	USN string
	// Server is the SERVER header of that message.
	Server string
	// BootID and ConfigID are BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG of that
	// message; -1 when absent.
	BootID, ConfigID int32
	// Addr is the device's address: the sender of the SSDP message, or the
	// host of the LOCATION given to Describe. Unless the Client allows
	// foreign hosts, every request goes to this address only.
	Addr netip.Addr
	// Interface and Local are our interface and address that reach the
	// device; "" and invalid when unknown.
	Interface string
	Local     netip.Addr
	// Services lists the services of the root device and of its embedded
	// devices, depth first, in description order.
	Services []*Service
	// Found is when the SSDP message arrived (for Describe: when it was
	// called); Described is when the description and every SCPD were in.
	Found, Described time.Time
}

// A Service is a service of a described device, with its URLs resolved and
// its SCPD.
type Service struct {
	Type string // serviceType, e.g. urn:schemas-upnp-org:service:SwitchPower:1
	ID   string // serviceId, e.g. urn:upnp-org:serviceId:SwitchPower
	// Device is the device of the description that holds the service.
	Device *upnp.Device
	// SCPDURL, ControlURL and EventSubURL are absolute; "" when the
	// description's value is empty or cannot be resolved.
	SCPDURL, ControlURL, EventSubURL string
	// SCPD is the service description; nil when it could not be fetched or
	// parsed, and then Err says why. Invoke still works without it, with
	// arguments passed as they are given. Devices that serve byte-identical
	// SCPDs share one parsed SCPD: it must not be modified.
	SCPD *upnp.SCPD
	Err  error

	owner *Device
}

// Describe fetches the description at location and the SCPD of each of its
// services. The host of location must be an IP address, unless
// AllowForeignHosts is set; the SCPDs and control URLs must be on the same
// host. It returns an error when the description cannot be fetched or
// parsed (a *HTTPError, ErrForeignHost, ErrRedirect, upnp.ErrTooLarge and
// the parse errors of upnp.ParseDescription, wrapped); a service whose SCPD
// fails has its Err set instead.
func (c *Client) Describe(ctx context.Context, location string) (*Device, error) {
	u, err := url.Parse(strings.TrimSpace(location))
	if err != nil {
		return nil, fmt.Errorf("controlpoint: describe: %w", err)
	}
	var addr netip.Addr
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		addr = a
	} else if !c.AllowForeignHosts {
		return nil, fmt.Errorf("%w: %s names no IP address", ErrForeignHost, u.Redacted())
	}
	return c.describe(ctx, u, &Device{Location: location, BootID: -1, ConfigID: -1, Addr: addr, Interface: addr.Zone(),
		Found: time.Now()})
}

// describe fills d, which has its Location and SSDP fields set, from
// location.
func (c *Client) describe(ctx context.Context, u *url.URL, d *Device) (*Device, error) {
	c.init()
	u = withZone(u, d.Interface)
	// A description fetch waits for one of half the fetch slots first, so
	// the SCPDs of devices under way do not queue behind the descriptions
	// of a burst of answers: the first device is in after two round trips,
	// not after every other description.
	select {
	case c.descq <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	b, local, err := c.get(ctx, u, d.Addr)
	<-c.descq
	if err != nil {
		return nil, err
	}
	root, err := upnp.ParseDescription(b)
	if err != nil {
		return nil, fmt.Errorf("controlpoint: %s: %w", u.Redacted(), err)
	}
	d.Root = root
	if !d.Local.IsValid() {
		d.Local = local
	}
	if d.Interface == "" && d.Local.IsValid() {
		d.Interface = interfaceOf(d.Local)
	}
	resolve := func(ref string) string {
		if strings.TrimSpace(ref) == "" {
			return ""
		}
		r, err := root.ResolveURL(u, ref)
		if err != nil {
			return ""
		}
		return withZone(r, d.Interface).String()
	}
	for dev := range root.Device.All() {
		for i := range dev.Services {
			s := &dev.Services[i]
			d.Services = append(d.Services, &Service{Type: s.ServiceType, ID: s.ServiceID, Device: dev,
				SCPDURL: resolve(s.SCPDURL), ControlURL: resolve(s.ControlURL), EventSubURL: resolve(s.EventSubURL),
				owner: d})
		}
	}
	c.fetchSCPDs(ctx, d)
	d.Described = time.Now()
	return d, nil
}

// fetchSCPDs fetches every service's SCPD at once (within the Client's
// fetch limit), each distinct URL once.
func (c *Client) fetchSCPDs(ctx context.Context, d *Device) {
	type result struct {
		scpd *upnp.SCPD
		err  error
	}
	byURL := map[string][]*Service{}
	for _, s := range d.Services {
		if s.SCPDURL == "" {
			s.Err = fmt.Errorf("controlpoint: service %s: no usable SCPDURL", s.Type)
			continue
		}
		byURL[s.SCPDURL] = append(byURL[s.SCPDURL], s)
	}
	var wg sync.WaitGroup
	for raw, ss := range byURL {
		wg.Go(func() {
			var r result
			u, err := url.Parse(raw)
			if err == nil {
				var b []byte
				b, _, err = c.get(ctx, u, d.Addr)
				if err == nil {
					r.scpd, err = parseSCPD(b)
					if err != nil {
						err = fmt.Errorf("controlpoint: %s: %w", u.Redacted(), err)
					}
				}
			}
			r.err = err
			for _, s := range ss {
				s.SCPD, s.Err = r.scpd, r.err
			}
		})
	}
	wg.Wait()
}

// scpds holds the SCPDs parsed lately, keyed by their exact bytes. On a LAN
// of many devices of one model every device serves the same SCPDs, and
// parsing each document once instead of once per device takes most of the
// CPU out of a discovery (46 gmediarender: 1.5 MB of SCPD XML, two XML
// passes each, about 4 ms of CPU per device; docs/benchmarks.md). The
// result is a function of the bytes alone, so devices, even of different
// Clients, may share it: a *upnp.SCPD is only read once returned. The cache
// holds at most scpdCacheEntries documents of at most scpdCacheMax bytes.
var scpds struct {
	sync.Mutex
	m     map[string]*upnp.SCPD
	order []string // oldest first
}

const (
	scpdCacheEntries = 32
	scpdCacheMax     = 64 << 10
)

// parseSCPD is upnp.ParseSCPD through the scpds cache.
func parseSCPD(b []byte) (*upnp.SCPD, error) {
	if len(b) > scpdCacheMax {
		return upnp.ParseSCPD(b)
	}
	k, cid, hasCID := scpdKey(b)
	scpds.Lock()
	s := scpds.m[k]
	scpds.Unlock()
	if s != nil {
		return withConfigID(s, cid, hasCID), nil
	}
	s, err := upnp.ParseSCPD(b)
	if err != nil {
		return nil, err
	}
	scpds.Lock()
	defer scpds.Unlock()
	if scpds.m == nil {
		scpds.m = map[string]*upnp.SCPD{}
	}
	if old := scpds.m[k]; old != nil {
		return withConfigID(old, cid, hasCID), nil
	}
	if len(scpds.order) >= scpdCacheEntries {
		delete(scpds.m, scpds.order[0])
		scpds.order = scpds.order[1:]
	}
	scpds.m[k] = s
	scpds.order = append(scpds.order, k)
	return s, nil
}

// scpdKey returns the cache key of an SCPD document: its bytes, except that
// a root element written as <scpd ... configId="N"> (one configId attribute,
// N of 1 to 8 digits, no comment before the root) has N left out, and N is
// returned. A device writes its CONFIGID there (UDA 2.0), and CONFIGID hashes
// its whole description, so identical services of different devices would
// otherwise never share a parse. Everything else about the documents must
// be the same byte for byte.
func scpdKey(b []byte) (key string, cid int, ok bool) {
	root := bytes.Index(b, []byte("<scpd"))
	if root < 0 || bytes.Contains(b[:root], []byte("<!--")) {
		return string(b), 0, false
	}
	end := bytes.IndexByte(b[root:], '>')
	if end < 0 {
		return string(b), 0, false
	}
	tag := b[root : root+end]
	const name = ` configId="`
	i := bytes.Index(tag, []byte(name))
	if i < 0 || bytes.Count(bytes.ToLower(tag), []byte("configid")) != 1 {
		return string(b), 0, false
	}
	digits := tag[i+len(name):]
	n := 0
	for n < len(digits) && n < 9 && '0' <= digits[n] && digits[n] <= '9' {
		cid = cid*10 + int(digits[n]-'0')
		n++
	}
	if n == 0 || n > 8 || n == len(digits) || digits[n] != '"' {
		return string(b), 0, false
	}
	at := root + i + len(name)
	return string(b[:at]) + string(b[at+n:]), cid, true
}

// withConfigID returns s, or when the document had another configId, a
// shallow copy of s with that one (a *upnp.SCPD is only read once returned,
// so copies may share the rest).
func withConfigID(s *upnp.SCPD, cid int, ok bool) *upnp.SCPD {
	if !ok || s.ConfigID == cid {
		return s
	}
	c := *s
	c.ConfigID = cid
	return &c
}

// interfaceOf returns the name of the interface that holds addr, or "".
func interfaceOf(addr netip.Addr) string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifi := range ifs {
		as, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range as {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && sameIP(ip, addr) {
					return ifi.Name
				}
			}
		}
	}
	return ""
}

// Service returns the device's first service that name designates, or nil.
// name is a service type (urn:schemas-upnp-org:service:SwitchPower:1), a
// service type without its version or urn prefix (SwitchPower:1,
// SwitchPower, urn:schemas-upnp-org:service:SwitchPower), or a serviceId,
// whole or its last part (urn:upnp-org:serviceId:SwitchPower,
// SwitchPower). An exact match wins over a loose one; short forms are
// compared without regard to case.
func (d *Device) Service(name string) *Service {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	for _, s := range d.Services {
		if s.Type == name || s.ID == name {
			return s
		}
	}
	for _, s := range d.Services {
		if matchType(s.Type, name, "service") || matchID(s.ID, name) {
			return s
		}
	}
	return nil
}

// matchType reports whether typ, a full type urn:DOMAIN:KIND:NAME:VER,
// matches the loose form name: NAME, NAME:VER, or urn:DOMAIN:KIND:NAME.
func matchType(typ, name, kind string) bool {
	parts := strings.Split(typ, ":")
	if len(parts) != 5 || !strings.EqualFold(parts[2], kind) {
		return strings.EqualFold(typ, name)
	}
	short := parts[3]
	switch {
	case strings.EqualFold(name, typ), strings.EqualFold(name, short),
		strings.EqualFold(name, short+":"+parts[4]),
		strings.EqualFold(name, strings.Join(parts[:4], ":")):
		return true
	}
	return false
}

func matchID(id, name string) bool {
	if strings.EqualFold(id, name) {
		return true
	}
	i := strings.LastIndexByte(id, ':')
	return i >= 0 && strings.EqualFold(id[i+1:], name)
}

// Matches reports whether key designates the device: the UDN of the root
// or of an embedded device (with or without "uuid:"), a friendly name (in
// any case), a device type or a service type (whole, or loose as Service
// takes it).
func (d *Device) Matches(key string) bool {
	key = strings.TrimSpace(key)
	if key == "" || d.Root == nil {
		return false
	}
	for dev := range d.Root.Device.All() {
		if dev.UDN == key || dev.UDN == "uuid:"+key || strings.EqualFold(dev.FriendlyName, key) ||
			dev.DeviceType == key || matchType(dev.DeviceType, key, "device") {
			return true
		}
	}
	for _, s := range d.Services {
		if s.Type == key || matchType(s.Type, key, "service") {
			return true
		}
	}
	return false
}
