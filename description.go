package upnp

import (
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// DeviceNamespace is the XML namespace of device descriptions.
const DeviceNamespace = "urn:schemas-upnp-org:device-1-0"

// A SpecVersion is the UDA version a description follows: 1.0, 1.1 or 2.0.
type SpecVersion struct {
	Major, Minor int
}

// A Root is a device description document (UDA section 2, Device
// description): the root device and its embedded devices and services.
//
// ParseDescription fills it from any document; Validate checks the fields
// UDA requires; Marshal writes it. String fields hold values trimmed of
// surrounding white space, "" when absent. The zero Root is not valid.
type Root struct {
	// ConfigID is the configId attribute (UDA 1.1), 0 to 16777215; -1 or
	// any negative number means absent. Note that the zero value, 0, is
	// written.
	ConfigID    int
	SpecVersion SpecVersion
	// URLBase is the deprecated base URL for the relative URLs of the
	// description. ResolveURL honours it when it is an absolute http or
	// https URL; devices should leave it empty.
	URLBase string
	Device  Device
}

// A Device is a device in a description: the root device or an embedded
// one. DeviceType, FriendlyName, Manufacturer, ModelName and UDN are
// required; the rest are optional.
type Device struct {
	DeviceType       string // urn:schemas-upnp-org:device:MediaRenderer:1
	FriendlyName     string
	Manufacturer     string
	ManufacturerURL  string
	ModelDescription string
	ModelName        string
	ModelNumber      string
	ModelURL         string
	SerialNumber     string
	UDN              string // uuid:...
	UPC              string
	PresentationURL  string
	Icons            []Icon
	Services         []Service
	Devices          []Device // embedded devices
}

// An Icon is an entry of a device's iconList. All fields are required.
type Icon struct {
	MIMEType             string // image/png
	Width, Height, Depth int
	URL                  string
}

// A Service is an entry of a device's serviceList. All fields are
// required; EventSubURL is empty when the service has no evented state
// variables. The URLs are usually relative: see Root.ResolveURL.
type Service struct {
	ServiceType string // urn:schemas-upnp-org:service:AVTransport:1
	ServiceID   string // urn:upnp-org:serviceId:AVTransport
	SCPDURL     string
	ControlURL  string
	EventSubURL string
}

var descVocabulary = newVocabulary(
	"root", "specVersion", "URLBase", "device",
	"deviceType", "friendlyName", "manufacturer", "manufacturerURL",
	"modelDescription", "modelName", "modelNumber", "modelURL",
	"serialNumber", "UDN", "UPC", "presentationURL",
	"iconList", "icon", "mimetype", "width", "height", "depth", "url",
	"serviceList", "service", "serviceType", "serviceId", "SCPDURL", "controlURL", "eventSubURL",
	"deviceList",
)

// ParseDescription reads a device description. It is lenient, as real
// devices are sloppy (PROTOCOL.md section 2): it accepts any namespace or
// prefix, element names in any case, white space around values, missing
// and unknown elements, and the UTF-8, ISO-8859-1 and windows-1252
// encodings. Only a document without a root element named root, or without
// a device element in it, is an error (ErrNotDescription); call Validate
// for the checks UDA requires.
//
// The input is bounded before any tree is built: over 1 MiB is
// ErrTooLarge, elements nested over 32 deep ErrTooDeep, over 50,000 tokens
// ErrTooManyTokens, and a DTD ErrDTD. Malformed XML is an *xml.SyntaxError
// or another error, wrapped.
func ParseDescription(b []byte) (*Root, error) {
	doc, err := xmlsafe.Parse(b, xmlsafe.Limits{})
	if err != nil {
		return nil, fmt.Errorf("upnp: parse description: %w", err)
	}
	re := doc.Root()
	if re == nil || descVocabulary.name(re) != "root" {
		return nil, fmt.Errorf("%w: no <root> element", ErrNotDescription)
	}
	r := &Root{ConfigID: readConfigID(re)}
	found := false
	for _, c := range re.ChildElements() {
		switch descVocabulary.name(c) {
		case "specVersion":
			r.SpecVersion = readSpecVersion(c)
		case "URLBase":
			r.URLBase = text(c)
		case "device":
			if !found {
				r.Device, found = readDevice(c), true
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no <device> in <root>", ErrNotDescription)
	}
	return r, nil
}

// readDevice reads a <device>. Its recursion into <deviceList> is bounded by
// the XML depth limit.
func readDevice(e *etree.Element) Device {
	var d Device
	for _, c := range e.ChildElements() {
		switch descVocabulary.name(c) {
		case "deviceType":
			d.DeviceType = text(c)
		case "friendlyName":
			d.FriendlyName = text(c)
		case "manufacturer":
			d.Manufacturer = text(c)
		case "manufacturerURL":
			d.ManufacturerURL = text(c)
		case "modelDescription":
			d.ModelDescription = text(c)
		case "modelName":
			d.ModelName = text(c)
		case "modelNumber":
			d.ModelNumber = text(c)
		case "modelURL":
			d.ModelURL = text(c)
		case "serialNumber":
			d.SerialNumber = text(c)
		case "UDN":
			d.UDN = text(c)
		case "UPC":
			d.UPC = text(c)
		case "presentationURL":
			d.PresentationURL = text(c)
		case "iconList":
			for _, ic := range c.ChildElements() {
				if descVocabulary.name(ic) == "icon" {
					d.Icons = append(d.Icons, readIcon(ic))
				}
			}
		case "serviceList":
			for _, sc := range c.ChildElements() {
				if descVocabulary.name(sc) == "service" {
					d.Services = append(d.Services, readService(sc))
				}
			}
		case "deviceList":
			for _, dc := range c.ChildElements() {
				if descVocabulary.name(dc) == "device" {
					d.Devices = append(d.Devices, readDevice(dc))
				}
			}
		}
	}
	return d
}

func readIcon(e *etree.Element) Icon {
	var ic Icon
	for _, c := range e.ChildElements() {
		switch descVocabulary.name(c) {
		case "mimetype":
			ic.MIMEType = text(c)
		case "width":
			ic.Width = atoi(text(c), 0)
		case "height":
			ic.Height = atoi(text(c), 0)
		case "depth":
			ic.Depth = atoi(text(c), 0)
		case "url":
			ic.URL = text(c)
		}
	}
	return ic
}

func readService(e *etree.Element) Service {
	var s Service
	for _, c := range e.ChildElements() {
		switch descVocabulary.name(c) {
		case "serviceType":
			s.ServiceType = text(c)
		case "serviceId":
			s.ServiceID = text(c)
		case "SCPDURL":
			s.SCPDURL = text(c)
		case "controlURL":
			s.ControlURL = text(c)
		case "eventSubURL":
			s.EventSubURL = text(c)
		}
	}
	return s
}

// Validate checks what UDA requires of a description: a specVersion of 1.0
// or later, a configId in range, an absolute URLBase if any, the required
// fields of every device, icon and service, UDNs that start with "uuid:"
// and are unique, and serviceIds unique within their device. It returns
// all problems found, joined with errors.Join, or nil.
func (r *Root) Validate() error {
	errs := []error{checkHeader("description", r.ConfigID, r.SpecVersion)}
	if r.URLBase != "" {
		if u, err := url.Parse(r.URLBase); err != nil || !u.IsAbs() || u.Host == "" {
			errs = append(errs, fmt.Errorf("upnp: URLBase %q is not an absolute URL", r.URLBase))
		}
	}
	udns := make(map[string]bool)
	for d := range r.Device.All() {
		errs = append(errs, d.validate(udns))
	}
	return errors.Join(errs...)
}

func (d *Device) validate(udns map[string]bool) error {
	var errs []error
	name := d.UDN
	if name == "" {
		name = d.FriendlyName
	}
	missing := func(what string) {
		errs = append(errs, fmt.Errorf("upnp: device %q: missing %s", name, what))
	}
	for _, f := range []struct{ v, name string }{
		{d.DeviceType, "deviceType"}, {d.FriendlyName, "friendlyName"},
		{d.Manufacturer, "manufacturer"}, {d.ModelName, "modelName"}, {d.UDN, "UDN"},
	} {
		if f.v == "" {
			missing(f.name)
		}
	}
	if d.UDN != "" {
		if !strings.HasPrefix(d.UDN, "uuid:") {
			errs = append(errs, fmt.Errorf("upnp: device %q: UDN does not start with uuid:", name))
		}
		if udns[d.UDN] {
			errs = append(errs, fmt.Errorf("upnp: device %q: UDN not unique", name))
		}
		udns[d.UDN] = true
	}
	for i, ic := range d.Icons {
		for _, f := range []struct {
			ok   bool
			name string
		}{
			{ic.MIMEType != "", "mimetype"}, {ic.Width > 0, "width"}, {ic.Height > 0, "height"},
			{ic.Depth > 0, "depth"}, {ic.URL != "", "url"},
		} {
			if !f.ok {
				missing(f.name + " of icon " + strconv.Itoa(i+1))
			}
		}
	}
	ids := make(map[string]bool)
	for i, s := range d.Services {
		for _, f := range []struct{ v, name string }{
			{s.ServiceType, "serviceType"}, {s.ServiceID, "serviceId"},
			{s.SCPDURL, "SCPDURL"}, {s.ControlURL, "controlURL"},
		} {
			if f.v == "" {
				missing(f.name + " of service " + strconv.Itoa(i+1))
			}
		}
		if ids[s.ServiceID] {
			errs = append(errs, fmt.Errorf("upnp: device %q: serviceId %q not unique", name, s.ServiceID))
		}
		ids[s.ServiceID] = true
	}
	return errors.Join(errs...)
}

// Marshal writes r as a canonical UDA description: namespace
// DeviceNamespace, the configId attribute unless negative, elements in UDA
// order, optional elements only when set, indented with two spaces. It
// returns Validate's error if r is not valid, and an error if a value holds
// characters XML cannot carry.
func (r *Root) Marshal() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	w, re := newWriter("root", DeviceNamespace, r.ConfigID, r.SpecVersion)
	w.opt(re, "URLBase", r.URLBase)
	w.device(re, &r.Device)
	return w.bytes()
}

func (w *writer) device(parent *etree.Element, d *Device) {
	e := parent.CreateElement("device")
	w.elem(e, "deviceType", d.DeviceType)
	w.elem(e, "friendlyName", d.FriendlyName)
	w.elem(e, "manufacturer", d.Manufacturer)
	w.opt(e, "manufacturerURL", d.ManufacturerURL)
	w.opt(e, "modelDescription", d.ModelDescription)
	w.elem(e, "modelName", d.ModelName)
	w.opt(e, "modelNumber", d.ModelNumber)
	w.opt(e, "modelURL", d.ModelURL)
	w.opt(e, "serialNumber", d.SerialNumber)
	w.elem(e, "UDN", d.UDN)
	w.opt(e, "UPC", d.UPC)
	if len(d.Icons) > 0 {
		l := e.CreateElement("iconList")
		for _, ic := range d.Icons {
			ie := l.CreateElement("icon")
			w.elem(ie, "mimetype", ic.MIMEType)
			w.int(ie, "width", ic.Width)
			w.int(ie, "height", ic.Height)
			w.int(ie, "depth", ic.Depth)
			w.elem(ie, "url", ic.URL)
		}
	}
	if len(d.Services) > 0 {
		l := e.CreateElement("serviceList")
		for _, s := range d.Services {
			se := l.CreateElement("service")
			w.elem(se, "serviceType", s.ServiceType)
			w.elem(se, "serviceId", s.ServiceID)
			w.elem(se, "SCPDURL", s.SCPDURL)
			w.elem(se, "controlURL", s.ControlURL)
			w.elem(se, "eventSubURL", s.EventSubURL)
		}
	}
	if len(d.Devices) > 0 {
		l := e.CreateElement("deviceList")
		for i := range d.Devices {
			w.device(l, &d.Devices[i])
		}
	}
	w.opt(e, "presentationURL", d.PresentationURL)
}

// ResolveURL resolves ref, a URL from the description (SCPDURL,
// controlURL, eventSubURL, an icon's url, presentationURL), against
// r.URLBase if that is an absolute http or https URL, else against base,
// the URL the description was fetched from (UDA section 2, Device
// description). It returns an error if ref is empty or malformed or the
// result is not an absolute http or https URL. It does not check where the URL points: a control
// point must still refuse hosts other than the device's (SECURITY.md).
func (r *Root) ResolveURL(base *url.URL, ref string) (*url.URL, error) {
	ref = trimXML(ref)
	if ref == "" {
		return nil, errors.New("upnp: resolve URL: empty URL")
	}
	if r.URLBase != "" {
		if u, err := url.Parse(r.URLBase); err == nil && httpURL(u) {
			base = u
		}
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("upnp: resolve URL: %w", err)
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if !httpURL(u) {
		return nil, fmt.Errorf("upnp: resolve URL %q: not an absolute http URL", ref)
	}
	// url.Parse takes a host such as "::" in a scheme-relative reference
	// ("//::/") that it refuses in the absolute URL that comes out: a URL
	// that does not parse back is no URL (FuzzDescribe found it).
	if _, err := url.Parse(u.String()); err != nil {
		return nil, fmt.Errorf("upnp: resolve URL %q: %w", ref, err)
	}
	return u, nil
}

func httpURL(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// All returns an iterator over d and its embedded devices, depth first, d
// first.
func (d *Device) All() iter.Seq[*Device] {
	return func(yield func(*Device) bool) { d.walk(yield) }
}

func (d *Device) walk(yield func(*Device) bool) bool {
	if !yield(d) {
		return false
	}
	for i := range d.Devices {
		if !d.Devices[i].walk(yield) {
			return false
		}
	}
	return true
}

// FindDevice returns the first device in d.All whose deviceType or UDN is
// typeOrUDN, or nil.
func (d *Device) FindDevice(typeOrUDN string) *Device {
	for x := range d.All() {
		if x.DeviceType == typeOrUDN || x.UDN == typeOrUDN {
			return x
		}
	}
	return nil
}

// FindService returns the first service of a device in d.All whose
// serviceType or serviceId is typeOrID, or nil.
func (d *Device) FindService(typeOrID string) *Service {
	for x := range d.All() {
		for i := range x.Services {
			if s := &x.Services[i]; s.ServiceType == typeOrID || s.ServiceID == typeOrID {
				return s
			}
		}
	}
	return nil
}
