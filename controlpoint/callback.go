package controlpoint

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/gena"
	"golang.org/x/net/netutil"
)

// maxCallbackConns caps the connections a callback server serves at once;
// more wait in the listen queue.
const maxCallbackConns = 64

// callbacks holds a Client's GENA callback servers, one per local address,
// each shared by every subscription made through that address and closed
// with the last of them.
type callbacks struct {
	mu      sync.Mutex
	servers map[netip.Addr]*callbackServer
}

// A callbackServer receives NOTIFYs on one local address and routes them by
// path to the subscription attempt that owns the path.
type callbackServer struct {
	base   string // http://host:port/
	srv    *http.Server
	done   chan struct{} // closed when Serve has returned
	logger *slog.Logger
	refs   int // guarded by callbacks.mu

	mu     sync.Mutex
	routes map[string]*attempt // by path, without the leading slash
}

// acquire returns the callback server for local, starting it if needed.
func (cs *callbacks) acquire(c *Client, local netip.Addr) (*callbackServer, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if s := cs.servers[local]; s != nil {
		s.refs++
		return s, nil
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(local, 0).String())
	if err != nil {
		return nil, fmt.Errorf("controlpoint: callback server: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).AddrPort().Port()
	s := &callbackServer{
		base:   "http://" + netip.AddrPortFrom(local.WithZone(""), port).String() + "/",
		done:   make(chan struct{}),
		logger: c.logger(),
		refs:   1,
		routes: map[string]*attempt{},
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.done)
		s.srv.Serve(netutil.LimitListener(ln, maxCallbackConns))
	}()
	if cs.servers == nil {
		cs.servers = map[netip.Addr]*callbackServer{}
	}
	cs.servers[local] = s
	return s, nil
}

// release drops a reference to s and closes it with the last one.
func (cs *callbacks) release(s *callbackServer) {
	cs.mu.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		for k, v := range cs.servers {
			if v == s {
				delete(cs.servers, k)
			}
		}
	}
	cs.mu.Unlock()
	if last {
		s.srv.Close()
		<-s.done
	}
}

func (s *callbackServer) add(a *attempt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[a.token] = a
}

// remove stops routing a's path and closes a: a NOTIFY that comes later
// gets 412.
func (s *callbackServer) remove(a *attempt) {
	s.mu.Lock()
	delete(s.routes, a.token)
	s.mu.Unlock()
	a.close()
}

// randomToken returns 128 random bits in hex: a callback path no one can
// guess, so that only the device told of it can send events there.
func randomToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP takes a NOTIFY (UDA section 4.3.2): it checks the path, the
// sender, NT, NTS, SID and SEQ and the body, answers with the status UDA
// prescribes, and hands what passed to the subscription attempt.
func (s *callbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "NOTIFY" {
		w.Header().Set("Allow", "NOTIFY")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	a := s.routes[strings.TrimPrefix(r.URL.Path, "/")]
	s.mu.Unlock()
	if a == nil {
		s.refuse(w, r, http.StatusPreconditionFailed, "no such subscription")
		return
	}
	if from, err := netip.ParseAddrPort(r.RemoteAddr); a.sender.IsValid() && (err != nil || !sameIP(from.Addr(), a.sender)) {
		s.refuse(w, r, http.StatusForbidden, "not the device's address")
		return
	}
	h := r.Header
	nt, nts := h.Get("NT"), h.Get("NTS")
	if nt == "" || nts == "" {
		s.refuse(w, r, http.StatusBadRequest, "NT and NTS required")
		return
	}
	if !strings.EqualFold(strings.TrimSpace(nt), gena.NT) || !strings.EqualFold(strings.TrimSpace(nts), gena.NTS) {
		s.refuse(w, r, http.StatusPreconditionFailed, "NT must be upnp:event, NTS upnp:propchange")
		return
	}
	sid, err := gena.ParseSID(h.Get("SID"))
	if err != nil || len(h.Values("SID")) != 1 {
		s.refuse(w, r, http.StatusPreconditionFailed, "bad SID")
		return
	}
	var seq uint32
	if vs := h.Values("SEQ"); len(vs) != 1 {
		err = gena.ErrBadSEQ
	} else {
		seq, err = gena.ParseSEQ(vs[0])
	}
	if err != nil {
		s.refuse(w, r, http.StatusPreconditionFailed, "bad SEQ")
		return
	}
	body, err := gena.ReadBody(r.Body, gena.MaxBody)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, upnp.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		s.refuse(w, r, status, "body: "+err.Error())
		return
	}
	props, err := gena.ParsePropertySet(body)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	status := a.accept(notification{sid: sid, seq: seq, props: props, time: time.Now()})
	if status != http.StatusOK {
		s.refuse(w, r, status, "no such subscription")
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (s *callbackServer) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	s.logger.Debug("controlpoint: NOTIFY refused", "from", r.RemoteAddr, "path", r.URL.Path, "status", status, "why", why)
	w.Header().Set("Connection", "close")
	http.Error(w, why, status)
}
