package device

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/ssdp"
)

// Limits on what the HTTP side accepts (SECURITY.md).
const (
	MaxHeaderBytes    = 8 << 10
	ReadHeaderTimeout = 5 * time.Second
)

// A Server serves one root device: its descriptions, control, icons and
// presentation page over HTTP, and its SSDP advertisements. Set the fields,
// then call ListenAndServe, or mount the Server (an http.Handler) in a mux of
// your own and run an ssdp.Server beside it.
type Server struct {
	// Device is the root device. Required.
	Device *Device
	// Interfaces names the interfaces to serve on; nil means every interface
	// that is up, multicast-capable and not loopback.
	Interfaces []string
	// Network is "udp4" / "tcp4"-style family choice: "4", "6" or "" for both.
	Network string
	// Port is the HTTP port; zero means one the system picks.
	Port int
	// BootIDFile, when set, is a file where BOOTID.UPNP.ORG is kept so that it
	// grows across restarts: written at start and whenever the BOOTID moves on
	// at run time (an interface came back); zero means the start time in
	// seconds is used, which also grows, except between two starts in the same
	// second.
	BootIDFile string
	// Product is the product token of SERVER headers ("name/version"); zero
	// means "upnp-go/0.1".
	Product string
	// Logger receives a line per action and the errors; nil means none.
	Logger *slog.Logger
	// SSDP, when set, is used as the template of the SSDP advertiser (its
	// timing, rate limit and TTL fields); Devices, Location, Interfaces,
	// Network, BootID and ConfigID are filled by the Server.
	SSDP *ssdp.Server
	// Eventing configures GENA subscriptions; the zero value is the safe default.
	Eventing Eventing

	evOnce sync.Once
	evPub  *publisher
	devOf  map[*Service]*Device

	serverOnce sync.Once
	serverVals []string
	initOnce   sync.Once
	initErr    error
	desc       []byte              // the root description
	paths      map[*Service]string // URL base of each service
	scpds      map[string][]byte
	services   map[string]*served // by control path
	icons      map[string]*Icon
	configID   int32

	mu    sync.Mutex
	mcast *multicaster // set while ListenAndServe runs
	ssdp  *ssdp.Server
	https map[netip.AddrPort]*http.Server
	port  int  // the HTTP port all listeners share
	down  bool // the listeners were closed: listen opens no more
}

// served is a service with its device and URLs.
type served struct {
	dev  *Device
	svc  *Service
	base string // /dev/N/ID/
}

var discard = slog.New(slog.DiscardHandler)

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return discard
	}
	return s.Logger
}

func (s *Server) product() string {
	if s.Product == "" {
		return "upnp-go/0.1"
	}
	return s.Product
}

// serverValue is the SERVER header as a shared header value.
func (s *Server) serverValue() []string {
	s.serverOnce.Do(func() { s.serverVals = []string{s.serverHeader()} })
	return s.serverVals
}

func (s *Server) serverHeader() string {
	return runtime.GOOS + "/1.0 UPnP/2.0 " + s.product()
}

// init validates the tree, gives devices without UDN a random one, and
// generates the descriptions once.
func (s *Server) init() error {
	s.initOnce.Do(func() { s.initErr = s.build() })
	return s.initErr
}

func (s *Server) build() error {
	if s.Device == nil {
		return errors.New("device: Server needs a Device")
	}
	for d := range s.Device.All() {
		if d.UDN == "" {
			d.UDN = "uuid:" + newUUID()
		}
	}
	if err := validate(s.Device); err != nil {
		return err
	}
	s.scpds = map[string][]byte{}
	s.services = map[string]*served{}
	s.icons = map[string]*Icon{}
	s.paths = servicePaths(s.Device)
	s.devOf = map[*Service]*Device{}
	i := 0
	for d := range s.Device.All() {
		for _, svc := range d.Services {
			s.devOf[svc] = d
			svc.init()
			svc.mu.Lock()
			svc.onChange = func(svc *Service, changed []string) { s.events().publish(svc, changed) }
			svc.mu.Unlock()
			base := s.paths[svc]
			b, err := svc.SCPD.Marshal()
			if err != nil {
				return fmt.Errorf("device: SCPD of %s: %w", svc.Type, err)
			}
			s.scpds[base+"scpd.xml"] = b
			s.services[base+"control"] = &served{dev: d, svc: svc, base: base}
		}
		for j := range d.Icons {
			s.icons[fmt.Sprintf("/dev/%d/icon/%d", i, j)] = &d.Icons[j]
		}
		i++
	}
	// CONFIGID follows the content of every description: it changes exactly
	// when one of them does.
	h := fnv.New32a()
	root := s.description(0)
	b, err := root.Marshal()
	if err != nil {
		return fmt.Errorf("device: description: %w", err)
	}
	h.Write(b)
	paths := slices.Sorted(maps.Keys(s.scpds))
	for _, p := range paths {
		h.Write([]byte(p))
		h.Write(s.scpds[p])
	}
	s.configID = int32(h.Sum32() & 0xffffff)
	root = s.description(int(s.configID))
	if s.desc, err = root.Marshal(); err != nil {
		return fmt.Errorf("device: description: %w", err)
	}
	for _, x := range s.services {
		x.svc.SCPD.ConfigID = int(s.configID)
		if s.scpds[x.base+"scpd.xml"], err = x.svc.SCPD.Marshal(); err != nil {
			return err
		}
	}
	return nil
}

// description builds the upnp.Root for the tree with the Server's URLs.
func (s *Server) description(configID int) *upnp.Root {
	i := 0
	var conv func(d *Device) upnp.Device
	conv = func(d *Device) upnp.Device {
		n := i
		i++
		u := upnp.Device{
			DeviceType: d.Type, FriendlyName: d.FriendlyName, Manufacturer: d.Manufacturer,
			ManufacturerURL: d.ManufacturerURL, ModelDescription: d.ModelDescription, ModelName: d.ModelName,
			ModelNumber: d.ModelNumber, ModelURL: d.ModelURL, SerialNumber: d.SerialNumber, UDN: d.UDN, UPC: d.UPC,
		}
		if n == 0 {
			u.PresentationURL = "/"
		}
		for j, ic := range d.Icons {
			u.Icons = append(u.Icons, upnp.Icon{MIMEType: ic.MIMEType, Width: ic.Width, Height: ic.Height,
				Depth: ic.Depth, URL: fmt.Sprintf("/dev/%d/icon/%d", n, j)})
		}
		for _, svc := range d.Services {
			base := s.paths[svc]
			u.Services = append(u.Services, upnp.Service{ServiceType: svc.Type, ServiceID: svc.id(),
				SCPDURL: base + "scpd.xml", ControlURL: base + "control", EventSubURL: base + "event"})
		}
		for _, e := range d.Devices {
			u.Devices = append(u.Devices, conv(e))
		}
		return u
	}
	return &upnp.Root{ConfigID: configID, SpecVersion: upnp.SpecVersion{Major: 2, Minor: 0}, Device: conv(s.Device)}
}

// Description returns the root device description the Server serves.
func (s *Server) Description() ([]byte, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	return s.desc, nil
}

// ConfigID returns CONFIGID.UPNP.ORG: a 24-bit hash of every description.
func (s *Server) ConfigID() (int32, error) {
	if err := s.init(); err != nil {
		return 0, err
	}
	return s.configID, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ServeHTTP serves the descriptions, control URLs, icons and the presentation
// page. Requests whose Host header does not name the address they arrived on
// get 400 (DNS rebinding defence, SECURITY.md).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.init(); err != nil {
		http.Error(w, "device not configured", http.StatusInternalServerError)
		return
	}
	if !hostMatches(r) {
		s.logger().Debug("device: Host does not name the local address", "host", r.Host, "from", r.RemoteAddr)
		http.Error(w, "Host must be the device's IP address and port", http.StatusBadRequest)
		return
	}
	w.Header()["Server"] = s.serverValue()
	p := r.URL.Path
	switch {
	case p == "/desc.xml":
		s.serveXML(w, r, s.desc)
	case strings.HasSuffix(p, "/scpd.xml"):
		b, ok := s.scpds[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s.serveXML(w, r, b)
	case strings.HasSuffix(p, "/control"):
		x, ok := s.services[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s.control(w, r, x)
	case strings.HasSuffix(p, "/event"):
		x, ok := s.services[strings.TrimSuffix(p, "event")+"control"]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s.event(w, r, x)
	case s.icons[p] != nil:
		ic := s.icons[p]
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", ic.MIMEType)
		w.Header().Set("Content-Length", strconv.Itoa(len(ic.Data)))
		w.Write(ic.Data)
	case p == "/":
		s.presentation(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveXML(w http.ResponseWriter, r *http.Request, b []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodGet {
		w.Write(b)
	}
}

// hostMatches reports whether the Host header is an IP literal equal to the
// local address of the connection, with its port.
func hostMatches(r *http.Request) bool {
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return true // not served by net/http's server: nothing to compare with
	}
	ta, ok := la.(*net.TCPAddr)
	if !ok {
		return true
	}
	local := ta.AddrPort()
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "80"
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // a zone names the client's interface, not ours
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return a.Unmap() == local.Addr().Unmap().WithZone("") && port == strconv.Itoa(int(local.Port()))
}

// ListenAndServe serves the device on the chosen interfaces until ctx is done:
// an HTTP listener on each of their addresses (all on one port) and the SSDP
// advertiser with a LOCATION per interface. When ctx is done it sends
// ssdp:byebye, closes the listeners and returns nil. It returns an error at
// once if the tree is invalid or nothing can be listened on.
func (s *Server) ListenAndServe(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	bootID, err := s.nextBootID()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
	s.events().open() // closed when an earlier run returned
	if err := s.listen(); err != nil {
		return err
	}
	adv := &ssdp.Server{}
	if s.SSDP != nil {
		*adv = ssdp.Server{MaxAge: s.SSDP.MaxAge, SearchPort: s.SSDP.SearchPort, TTL: s.SSDP.TTL,
			Repeat: s.SSDP.Repeat, RateLimit: s.SSDP.RateLimit, MaxPending: s.SSDP.MaxPending,
			InterfacePoll: s.SSDP.InterfacePoll, Logger: s.SSDP.Logger}
	}
	adv.Devices = []ssdp.Device{ssdpTree(s.Device)}
	adv.Interfaces = s.Interfaces
	adv.Network = map[string]string{"4": "udp4", "6": "udp6"}[s.Network]
	adv.BootID = bootID
	adv.BootIDChanged = func(id int32) {
		if err := s.saveBootID(id); err != nil {
			s.logger().Warn("device: saving the new BOOTID", "err", err)
		}
	}
	adv.ConfigID = s.configID
	adv.Product = s.product()
	s.mu.Lock()
	port := uint16(s.port)
	s.mu.Unlock()
	adv.Location = func(local netip.Addr) string {
		s.ensureListener(local) // never announce an address not served yet
		return "http://" + netip.AddrPortFrom(local, port).String() + "/desc.xml"
	}
	if adv.Logger == nil {
		adv.Logger = s.Logger
	}
	mc := newMulticaster(s, adv.CurrentBootID)
	s.mu.Lock()
	s.ssdp = adv
	s.mcast = mc
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.mcast = nil
		s.mu.Unlock()
		mc.close()
	}()
	errc := make(chan error, 1)
	go func() { errc <- adv.ListenAndServe(ctx) }()
	go s.followAddrs(ctx, adv.InterfacePoll)
	select {
	case err := <-errc:
		s.closeHTTP()
		s.events().close()
		return err
	case <-ctx.Done():
		err := <-errc
		s.closeHTTP()
		s.events().close()
		return err
	}
}

// followAddrs re-reads the addresses every poll (as the SSDP advertiser does)
// and moves the HTTP listeners with them.
func (s *Server) followAddrs(ctx context.Context, poll time.Duration) {
	if poll == 0 {
		poll = 5 * time.Second
	}
	if poll < 0 {
		return
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.listen(); err != nil {
				s.logger().Debug("device: following addresses", "err", err)
			}
		}
	}
}

// Addrs returns the addresses the HTTP listeners are bound to, once
// ListenAndServe has started them.
func (s *Server) Addrs() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]netip.AddrPort, 0, len(s.https))
	for ap := range s.https {
		out = append(out, ap)
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

func (s *Server) closeHTTP() {
	s.mu.Lock()
	hs := s.https
	s.https = nil
	s.port = 0
	s.down = true
	s.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, h := range hs {
		if err := h.Shutdown(sctx); err != nil {
			h.Close()
		}
	}
}

// listen opens an HTTP listener on every address of the chosen interfaces,
// all on one port, and closes the listeners of addresses that went away, so
// that the device follows its addresses (AutoIP to DHCP, a new lease). It
// fails only when no listener at all is left.
func (s *Server) listen() error {
	addrs, err := interfaceAddrs(s.Interfaces, s.Network)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil
	}
	if s.https == nil {
		s.https = map[netip.AddrPort]*http.Server{}
	}
	port := s.port
	if port == 0 {
		port = s.Port
	}
	want := map[netip.Addr]bool{}
	for _, a := range addrs {
		want[a] = true
		if _, ok := s.https[netip.AddrPortFrom(a, uint16(port))]; ok && port != 0 {
			continue
		}
		ln, err := net.Listen("tcp", netip.AddrPortFrom(a, uint16(port)).String())
		if err != nil {
			s.logger().Debug("device: listen", "addr", a, "err", err)
			continue
		}
		ap := s.serveOn(ln, a.Zone())
		if port == 0 {
			port = int(ap.Port())
		}
		s.port = port
	}
	gone := false
	for ap, h := range s.https {
		if !want[ap.Addr()] {
			s.logger().Info("address gone, listener closed", "addr", ap)
			h.Close()
			delete(s.https, ap)
			gone = true
		}
	}
	if gone {
		// A kept-alive NOTIFY connection from the address that went away
		// would swallow the next event until it timed out.
		s.events().client.CloseIdleConnections()
	}
	if len(s.https) == 0 {
		return fmt.Errorf("device: no address to listen on among %v: %w", addrs, ssdp.ErrNoInterface)
	}
	return nil
}

// serveOn serves HTTP on ln, whose address has the given zone, and returns
// that address; s.mu held.
func (s *Server) serveOn(ln net.Listener, zone string) netip.AddrPort {
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap().WithZone(zone), ap.Port())
	h := &http.Server{Handler: s, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.logger().Handler(), slog.LevelDebug)}
	s.https[ap] = h
	s.logger().Info("listening", "addr", ap)
	go h.Serve(ln)
	return ap
}

// ensureListener opens the HTTP listener on local, an address the SSDP
// advertiser is about to announce, when the poll of followAddrs has not
// opened it yet: the advertiser polls the interfaces on its own timer, and
// a control point that fetches a new LOCATION at once must find it served.
// IPv6 link-local addresses, which come without their zone, are left to
// listen.
func (s *Server) ensureListener(local netip.Addr) {
	if local.Is6() && local.IsLinkLocalUnicast() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down || s.port == 0 || s.https == nil {
		return
	}
	ap := netip.AddrPortFrom(local, uint16(s.port))
	if _, ok := s.https[ap]; ok {
		return
	}
	ln, err := net.Listen("tcp", ap.String())
	if err != nil {
		s.logger().Debug("device: listen", "addr", local, "err", err)
		return
	}
	s.serveOn(ln, "")
}

// interfaceAddrs lists the unicast addresses of the chosen interfaces, in
// the chosen family ("4", "6" or "" for both).
func interfaceAddrs(names []string, network string) ([]netip.Addr, error) {
	ifs, err := ssdp.Interfaces(names)
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	var out []netip.Addr
	for _, ifc := range ifs {
		for _, a := range ifc.Addrs {
			if (network == "4" && !a.Is4()) || (network == "6" && !a.Is6()) {
				continue
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// nextBootID reads, increments and writes back the BOOTID kept in BootIDFile.
func (s *Server) nextBootID() (int32, error) {
	if s.BootIDFile == "" {
		return 0, nil // ssdp.Server uses the time
	}
	var id int64
	if b, err := os.ReadFile(s.BootIDFile); err == nil {
		id, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 32)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("device: BOOTID: %w", err)
	}
	id = (id + 1) & 0x7fffffff
	if id == 0 {
		id = 1
	}
	if err := s.saveBootID(int32(id)); err != nil {
		return 0, err
	}
	return int32(id), nil
}

// saveBootID writes id to BootIDFile, if there is one: at start, and each
// time the SSDP server moves to a new BOOTID at run time (an interface came
// back), so that the next start announces a larger one than any announced.
func (s *Server) saveBootID(id int32) error {
	if s.BootIDFile == "" {
		return nil
	}
	if err := os.WriteFile(s.BootIDFile, []byte(strconv.FormatInt(int64(id), 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("device: BOOTID: %w", err)
	}
	return nil
}

// ssdpTree gives package ssdp what it advertises of the tree.
func ssdpTree(d *Device) ssdp.Device {
	t := ssdp.Device{UDN: d.UDN, Type: d.Type}
	for _, s := range d.Services {
		t.ServiceTypes = append(t.ServiceTypes, s.Type)
	}
	for _, e := range d.Devices {
		t.Devices = append(t.Devices, ssdpTree(e))
	}
	return t
}
