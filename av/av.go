package av

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/controlpoint"
	"github.com/seedb72249f9/upnp/internal/outarg"
	"github.com/seedb72249f9/upnp/ssdp"
)

// Types of the renderer device and its services.
const (
	MediaRenderer1    = "urn:schemas-upnp-org:device:MediaRenderer:1"
	AVTransport1      = "urn:schemas-upnp-org:service:AVTransport:1"
	RenderingControl1 = "urn:schemas-upnp-org:service:RenderingControl:1"
)

// Transport states (AVTransport 2.2.1, CurrentTransportState).
const (
	Stopped        = "STOPPED"
	Playing        = "PLAYING"
	Transitioning  = "TRANSITIONING"
	PausedPlayback = "PAUSED_PLAYBACK"
	NoMediaPresent = "NO_MEDIA_PRESENT"
)

// Errors from the AVTransport specification that callers branch on;
// errors.Is matches them by code against the *upnp.Error a renderer returns.
var (
	// ErrTransition (701): the action is not possible in the current state,
	// such as Pause while stopped.
	ErrTransition = &upnp.Error{Code: 701, Description: "Transition not available"}
	// ErrNoContents (702): Play or Seek with nothing loaded.
	ErrNoContents = &upnp.Error{Code: 702, Description: "No contents"}
	// ErrSeekTarget (711): the seek position is out of the track.
	ErrSeekTarget = &upnp.Error{Code: 711, Description: "Illegal seek target"}
	// ErrFormat (714): the renderer cannot play the resource's format.
	ErrFormat = &upnp.Error{Code: 714, Description: "Illegal MIME-type"}
	// ErrResource (716): the renderer cannot fetch the resource.
	ErrResource = &upnp.Error{Code: 716, Description: "Resource not found"}

	// ErrNotRenderer is returned by NewRenderer for a device without an
	// AVTransport service.
	ErrNotRenderer = errors.New("av: device has no AVTransport service")
	// ErrPlayback is returned by State, with the state, when the renderer
	// reports that playing failed (CurrentTransportStatus ERROR_OCCURRED),
	// for example when it could not fetch or decode the resource.
	ErrPlayback = errors.New("av: the renderer reports an error playing (ERROR_OCCURRED)")
	// ErrNoRenderingControl is returned by the volume and mute methods of a
	// renderer without a RenderingControl service.
	ErrNoRenderingControl = errors.New("av: renderer has no RenderingControl service")
)

// A Renderer is a media renderer's AVTransport and RenderingControl
// services. NewRenderer and Discover fill it in; Client makes the calls, and
// nil means a shared zero controlpoint.Client. A Renderer is safe for
// concurrent use, though a renderer plays one thing at a time.
type Renderer struct {
	Client    *controlpoint.Client
	Device    *controlpoint.Device
	Transport *controlpoint.Service // AVTransport
	Rendering *controlpoint.Service // RenderingControl; nil when the device has none
	// Instance is the InstanceID of every call: 0, the renderer's only
	// instance unless ConnectionManager.PrepareForConnection made others.
	Instance uint32
}

// NewRenderer returns the Renderer of dev: its first AVTransport:1 (or later)
// service, and the RenderingControl of the same (embedded) device, or else
// the first one in dev; ErrNotRenderer when dev (or nil) has no AVTransport.
func NewRenderer(c *controlpoint.Client, dev *controlpoint.Device) (*Renderer, error) {
	if dev == nil {
		return nil, ErrNotRenderer
	}
	r := &Renderer{Client: c, Device: dev}
	for _, svc := range dev.Services {
		if sameType(svc.Type, AVTransport1) {
			r.Transport = svc
			break
		}
	}
	if r.Transport == nil {
		return nil, ErrNotRenderer
	}
	for _, svc := range dev.Services {
		if sameType(svc.Type, RenderingControl1) {
			if svc.Device == r.Transport.Device {
				r.Rendering = svc // a multi-zone device: this zone's volume
				break
			}
			if r.Rendering == nil {
				r.Rendering = svc
			}
		}
	}
	return r, nil
}

// sameType reports whether t is want or a later version of it.
func sameType(t, want string) bool {
	i, j := strings.LastIndexByte(t, ':'), strings.LastIndexByte(want, ':')
	if i < 0 || j < 0 || !strings.EqualFold(t[:i], want[:j]) {
		return false
	}
	v, err := strconv.Atoi(t[i+1:])
	w, _ := strconv.Atoi(want[j+1:])
	return err == nil && v >= w
}

// Discover searches for media renderers with c (an empty req.Target means
// MediaRenderer1) and yields each as it is described. Devices that answer but
// have no AVTransport are skipped; errors are those of
// controlpoint.Client.Discover. A nil c means a zero Client.
func Discover(ctx context.Context, c *controlpoint.Client, req ssdp.SearchRequest) iter.Seq2[*Renderer, error] {
	if c == nil {
		c = &controlpoint.Client{}
	}
	if req.Target == "" {
		req.Target = MediaRenderer1
	}
	return func(yield func(*Renderer, error) bool) {
		for dev, err := range c.Discover(ctx, req) {
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			if r, err := NewRenderer(c, dev); err == nil && !yield(r, nil) {
				return
			}
		}
	}
}

// defaultClient makes the calls of Renderers without a Client.
var defaultClient = &controlpoint.Client{}

func (r *Renderer) call(ctx context.Context, svc *controlpoint.Service, action string, args map[string]any) (map[string]any, error) {
	if svc == nil {
		return nil, ErrNotRenderer // a Renderer without its Transport
	}
	c := r.Client
	if c == nil {
		c = defaultClient
	}
	if args == nil {
		args = map[string]any{}
	}
	args["InstanceID"] = strconv.FormatUint(uint64(r.Instance), 10)
	return c.Invoke(ctx, svc, action, args)
}

// Load sets the renderer's current resource (SetAVTransportURI): uri, with
// metadata, a DIDL-Lite document such as Metadata returns, or "" (which some
// renderers refuse). It does not start playing.
func (r *Renderer) Load(ctx context.Context, uri, metadata string) error {
	_, err := r.call(ctx, r.Transport, "SetAVTransportURI", map[string]any{
		"CurrentURI": uri, "CurrentURIMetaData": metadata,
	})
	return err
}

// Play starts or resumes playing at normal speed.
func (r *Renderer) Play(ctx context.Context) error {
	_, err := r.call(ctx, r.Transport, "Play", map[string]any{"Speed": "1"})
	return err
}

// Pause pauses; ErrTransition when the renderer cannot pause now.
func (r *Renderer) Pause(ctx context.Context) error {
	_, err := r.call(ctx, r.Transport, "Pause", nil)
	return err
}

// Stop stops playing.
func (r *Renderer) Stop(ctx context.Context) error {
	_, err := r.call(ctx, r.Transport, "Stop", nil)
	return err
}

// Next and Previous go to the next or previous track of a playlist.
func (r *Renderer) Next(ctx context.Context) error {
	_, err := r.call(ctx, r.Transport, "Next", nil)
	return err
}

// Previous goes to the previous track; see Next.
func (r *Renderer) Previous(ctx context.Context) error {
	_, err := r.call(ctx, r.Transport, "Previous", nil)
	return err
}

// Seek moves to pos from the start of the current track, in whole seconds:
// unit REL_TIME, or ABS_TIME when the renderer's SCPD lists only that.
func (r *Renderer) Seek(ctx context.Context, pos time.Duration) error {
	if pos < 0 {
		return fmt.Errorf("av: seek to %v", pos)
	}
	unit := "REL_TIME"
	if r.Transport != nil && r.Transport.SCPD != nil {
		if v := r.Transport.SCPD.StateVariable("A_ARG_TYPE_SeekMode"); v != nil && len(v.AllowedValues) > 0 &&
			!slices.Contains(v.AllowedValues, "REL_TIME") && slices.Contains(v.AllowedValues, "ABS_TIME") {
			unit = "ABS_TIME"
		}
	}
	_, err := r.call(ctx, r.Transport, "Seek", map[string]any{"Unit": unit, "Target": FormatDuration(pos)})
	return err
}

// State returns the transport state (Stopped, Playing, PausedPlayback,
// Transitioning, NoMediaPresent or a vendor state) from GetTransportInfo,
// with ErrPlayback when the renderer's status says playing failed.
func (r *Renderer) State(ctx context.Context) (string, error) {
	out, err := r.call(ctx, r.Transport, "GetTransportInfo", nil)
	if err != nil {
		return "", err
	}
	state := outarg.Text(out["CurrentTransportState"])
	if strings.EqualFold(outarg.Text(out["CurrentTransportStatus"]), "ERROR_OCCURRED") {
		return state, ErrPlayback
	}
	return state, nil
}

// A Position is where playback is (GetPositionInfo). Durations the renderer
// does not know (NOT_IMPLEMENTED, empty) are 0.
type Position struct {
	Track    uint32        // track number in the current resource, from 1; 0 when none
	Duration time.Duration // of the track
	Elapsed  time.Duration // from the start of the track (RelTime)
	URI      string        // of the track
	Metadata string        // of the track, DIDL-Lite
}

// Position returns where playback is.
func (r *Renderer) Position(ctx context.Context) (Position, error) {
	out, err := r.call(ctx, r.Transport, "GetPositionInfo", nil)
	if err != nil {
		return Position{}, err
	}
	var p Position
	if n, err := strconv.ParseUint(outarg.Text(out["Track"]), 10, 32); err == nil {
		p.Track = uint32(n)
	}
	p.Duration, _ = ParseDuration(outarg.Text(out["TrackDuration"]))
	p.Elapsed, _ = ParseDuration(outarg.Text(out["RelTime"]))
	p.URI = outarg.Text(out["TrackURI"])
	p.Metadata = outarg.Text(out["TrackMetaData"])
	return p, nil
}

// Volume returns the master volume (GetVolume, channel Master), usually 0-100.
func (r *Renderer) Volume(ctx context.Context) (uint16, error) {
	if r.Rendering == nil {
		return 0, ErrNoRenderingControl
	}
	out, err := r.call(ctx, r.Rendering, "GetVolume", map[string]any{"Channel": "Master"})
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(outarg.Text(out["CurrentVolume"]), 10, 16)
	if err != nil {
		return 0, fmt.Errorf("av: GetVolume returned %q: %w", outarg.Text(out["CurrentVolume"]), err)
	}
	return uint16(v), nil
}

// SetVolume sets the master volume; a value out of the renderer's range is
// refused before it is sent (controlpoint checks it against the SCPD).
func (r *Renderer) SetVolume(ctx context.Context, v uint16) error {
	if r.Rendering == nil {
		return ErrNoRenderingControl
	}
	_, err := r.call(ctx, r.Rendering, "SetVolume", map[string]any{
		"Channel": "Master", "DesiredVolume": strconv.Itoa(int(v)),
	})
	return err
}

// Mute reports whether the master channel is muted.
func (r *Renderer) Mute(ctx context.Context) (bool, error) {
	if r.Rendering == nil {
		return false, ErrNoRenderingControl
	}
	out, err := r.call(ctx, r.Rendering, "GetMute", map[string]any{"Channel": "Master"})
	if err != nil {
		return false, err
	}
	switch s := strings.ToLower(outarg.Text(out["CurrentMute"])); s {
	case "1", "true", "yes":
		return true, nil
	case "0", "false", "no":
		return false, nil
	default:
		return false, fmt.Errorf("av: GetMute returned %q", s)
	}
}

// SetMute mutes or unmutes the master channel.
func (r *Renderer) SetMute(ctx context.Context, mute bool) error {
	if r.Rendering == nil {
		return ErrNoRenderingControl
	}
	m := "0"
	if mute {
		m = "1"
	}
	_, err := r.call(ctx, r.Rendering, "SetMute", map[string]any{"Channel": "Master", "DesiredMute": m})
	return err
}

// FormatDuration writes d in the H+:MM:SS form of AVTransport's time values,
// in whole seconds (negative durations as 0:00:00).
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// ParseDuration reads an AVTransport time value, H+:MM:SS with an optional
// fraction (.F+ or .F0/F1), leniently (M and S of one digit, a leading "+"
// or "-" sign). NOT_IMPLEMENTED and "" give 0 and an error, as does anything
// else that is not a time.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	h, rest, ok1 := strings.Cut(s, ":")
	m, sec, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("av: not a time: %q", s)
	}
	sec, frac, _ := strings.Cut(sec, ".")
	hh, err1 := strconv.ParseUint(h, 10, 32)
	mm, err2 := strconv.ParseUint(m, 10, 8)
	ss, err3 := strconv.ParseUint(sec, 10, 8)
	if err1 != nil || err2 != nil || err3 != nil || mm > 59 || ss > 59 || len(m) > 2 || len(sec) > 2 ||
		hh >= maxHours {
		return 0, fmt.Errorf("av: not a time: %q", s)
	}
	d := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second
	if frac != "" {
		if num, den, ok := strings.Cut(frac, "/"); ok { // F0/F1
			n, err1 := strconv.ParseUint(num, 10, 31)
			q, err2 := strconv.ParseUint(den, 10, 31)
			if err1 != nil || err2 != nil || q == 0 || n >= q {
				return 0, fmt.Errorf("av: not a time: %q", s)
			}
			d += time.Duration(n) * time.Second / time.Duration(q)
		} else { // F+: decimal digits
			if len(frac) > 9 {
				frac = frac[:9]
			}
			n, err := strconv.ParseUint(frac, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("av: not a time: %q", s)
			}
			d += time.Duration(n) * time.Duration(pow10(9-len(frac)))
		}
	}
	if neg {
		d = -d
	}
	return d, nil
}

// maxHours keeps every time ParseDuration accepts within a time.Duration.
const maxHours = math.MaxInt64 / 3_600_000_000_000

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// Metadata returns a minimal DIDL-Lite document describing one resource, for
// Load: title, the resource's URL and its MIME type (such as "audio/mpeg";
// "" means unknown). Renderers that refuse an empty CurrentURIMetaData, or
// guess the format from it, accept this; class is the UPnP class of the item,
// "" meaning object.item.audioItem.musicTrack.
func Metadata(title, uri, mimeType, class string) string {
	if class == "" {
		class = "object.item.audioItem.musicTrack"
	}
	if mimeType == "" {
		mimeType = "*"
	}
	var b strings.Builder
	b.WriteString(`<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"` +
		` xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/">` +
		`<item id="0" parentID="-1" restricted="1"><dc:title>`)
	xml.EscapeText(&b, []byte(title))
	b.WriteString(`</dc:title><upnp:class>`)
	xml.EscapeText(&b, []byte(class))
	b.WriteString(`</upnp:class><res protocolInfo="http-get:*:`)
	xml.EscapeText(&b, []byte(mimeType))
	b.WriteString(`:*">`)
	xml.EscapeText(&b, []byte(uri))
	b.WriteString(`</res></item></DIDL-Lite>`)
	return b.String()
}
