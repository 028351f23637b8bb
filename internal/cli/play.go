package cli

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp/av"
)

// playPoll is how often play reads the renderer's state while it plays.
const playPoll = 500 * time.Millisecond

// playStart bounds the wait for the renderer to start playing.
const playStart = 20 * time.Second

func runPlay(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "play", "TARGET FILE|URL")
	var f targetFlags
	f.add(fs)
	volume := fs.Int("volume", -1, "set the volume (usually 0-100) before playing")
	detach := fs.Bool("detach", false, "return once the renderer plays (only for a URL: a FILE is served by this process)")
	title := fs.String("title", "", "title shown by the renderer; default: the file name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErr("play needs TARGET and a FILE or URL")
	}
	if *volume > 65535 {
		return usageErr("--volume %d is out of range", *volume)
	}
	src := fs.Arg(1)
	remote := strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
	var file *os.File
	if !remote {
		if *detach {
			return usageErr("--detach needs a URL: a FILE is served by this process while it plays")
		}
		var err error
		if file, err = os.Open(src); err != nil {
			return err
		}
		defer file.Close()
		if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", src)
		}
	}

	d, c, err := findDevice(ctx, &f, fs.Arg(0))
	if err != nil {
		return err
	}
	r, err := av.NewRenderer(c, d)
	if err != nil {
		return notFound("%q is not a media renderer: %v", d.Root.Device.FriendlyName, err)
	}

	link, name := src, filepath.Base(src)
	mimeType := ""
	if remote {
		if u, err := url.Parse(src); err == nil {
			name = filepath.Base(u.Path)
		}
		mimeType = mime.TypeByExtension(filepath.Ext(name))
	} else {
		// Serve the file on our address that reaches the renderer, and to
		// the renderer only.
		if !d.Local.IsValid() {
			return fmt.Errorf("the local address that reaches %s is unknown; serve the file yourself and give its URL", d.Addr)
		}
		ln, err := net.Listen("tcp", netip.AddrPortFrom(d.Local, 0).String())
		if err != nil {
			return err
		}
		st, _ := file.Stat()
		srv := &http.Server{
			Handler:           fileHandler(file, st, d.Addr),
			ReadHeaderTimeout: 10 * time.Second,
		}
		go srv.Serve(ln)
		defer srv.Close()
		link = "http://" + ln.Addr().String() + "/" + url.PathEscape(name)
		if mimeType = mime.TypeByExtension(filepath.Ext(name)); mimeType == "" {
			head := make([]byte, 512)
			n, _ := file.ReadAt(head, 0)
			mimeType = http.DetectContentType(head[:n])
		}
	}
	if *title == "" {
		*title = name
	}
	if i := strings.IndexByte(mimeType, ';'); i >= 0 {
		mimeType = mimeType[:i]
	}

	fault := func(what string, err error) error { return upnpFault(e, false, what, err) }
	if *volume >= 0 {
		if err := r.SetVolume(ctx, uint16(*volume)); err != nil {
			return fault("volume", err)
		}
	}
	if err := r.Load(ctx, link, av.Metadata(*title, link, mimeType, upnpClass(mimeType))); err != nil {
		return fault("load", err)
	}
	if err := r.Play(ctx); err != nil {
		return fault("play", err)
	}
	fmt.Fprintf(e.stdout, "playing %s on %s\n", link, d.Root.Device.FriendlyName)

	// Follow the renderer until it stops after playing, or until Ctrl-C,
	// which stops it.
	started, last := false, ""
	deadline := time.Now().Add(playStart)
	tick := time.NewTicker(playPoll)
	defer tick.Stop()
	for {
		state, err := r.State(ctx)
		switch {
		case ctx.Err() != nil:
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			defer cancel()
			if err := r.Stop(stopCtx); err != nil {
				return fault("stop", err)
			}
			fmt.Fprintln(e.stdout, "stopped")
			return nil
		case err != nil:
			return fault("state", err)
		}
		if state != last {
			fmt.Fprintln(e.stdout, "state", state)
			last = state
		}
		switch state {
		case av.Playing, av.PausedPlayback:
			if !started && *detach {
				return nil
			}
			started = true
		case av.Stopped, av.NoMediaPresent:
			if started {
				return nil // the end of the media, or someone stopped it
			}
		}
		if !started && time.Now().After(deadline) {
			return fmt.Errorf("the renderer did not start playing within %v (state %s)", playStart, state)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// upnpClass is the UPnP class of an item of mimeType, for its metadata.
func upnpClass(mimeType string) string {
	switch {
	case strings.HasPrefix(mimeType, "video/"):
		return "object.item.videoItem"
	case strings.HasPrefix(mimeType, "image/"):
		return "object.item.imageItem.photo"
	}
	return "object.item.audioItem.musicTrack"
}

// fileHandler serves one file, with ranges (renderers seek, sometimes with
// several requests at once: each reads through its own SectionReader), to the
// host renderer only; anyone else gets 403.
func fileHandler(f *os.File, st os.FileInfo, renderer netip.Addr) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if a, err := netip.ParseAddr(host); err != nil || a.Unmap() != renderer.Unmap() {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if ct := mime.TypeByExtension(filepath.Ext(f.Name())); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		http.ServeContent(w, r, filepath.Base(f.Name()), st.ModTime(), io.NewSectionReader(f, 0, st.Size()))
	})
}
