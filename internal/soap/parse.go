package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// Bounds of the streaming reader, shared with internal/xmlsafe.
const (
	maxDepth  = xmlsafe.DefaultMaxDepth
	maxTokens = xmlsafe.DefaultMaxTokens
)

// ParseRequest reads a control request (UDA section 3.2.1): the first
// element child of the Body is the action, its local name the action name
// and its namespace URI the service type, and its element children, in
// order, the in arguments. The caller checks that serviceType and action
// agree with the SOAPACTION header and the arguments with the SCPD.
//
// Prefixes, the envelope namespace, Header blocks (mustUnderstand too),
// elements after the Body, attributes, comments, processing instructions
// and text outside arguments are ignored. Parsing stops at the end of the
// Envelope. Errors wrap ErrNoEnvelope (401 Invalid
// Action), ErrBadBody (401: an empty Body, a second element in it, or an
// action in no namespace), ErrNestedArgument (402 Invalid Args), a
// *xml.SyntaxError, upnp.ErrTooDeep, upnp.ErrTooManyTokens or upnp.ErrDTD.
func ParseRequest(body []byte) (serviceType, action string, args []Arg, err error) {
	var m message
	if err := m.parse(body, true); err != nil {
		return "", "", nil, err
	}
	return m.serviceType, m.action, m.args, nil
}

// ParseResponse reads the response to action (UDA section 3.2.2) and returns
// its out arguments in order. The response element may have any prefix; its
// local name must be action+"Response" or, as some devices send, action
// itself, compared case-insensitively (an empty action accepts any name);
// otherwise the error wraps ErrWrongResponse.
//
// A SOAP fault, whatever the HTTP status it came with, returns a
// *upnp.Error with the errorCode and errorDescription of its UPnPError
// detail, found under any prefixes; a fault without a positive numeric
// errorCode returns a *FaultError. Other errors are those of ParseRequest,
// but a response needs no namespaces.
func ParseResponse(body []byte, action string) ([]Arg, error) {
	var m message
	if err := m.parse(body, false); err != nil {
		return nil, err
	}
	if m.fault {
		code, err := strconv.Atoi(trimSpace(m.errorCode))
		if err != nil || code <= 0 {
			return nil, &FaultError{Code: trimSpace(m.faultCode), String: trimSpace(m.faultString)}
		}
		return nil, &upnp.Error{Code: code, Description: trimSpace(m.errorDescription)}
	}
	if action != "" && !isResponseName(m.action, action) {
		return nil, fmt.Errorf("%w: got <%s> for %s", ErrWrongResponse, m.action, action)
	}
	return m.args, nil
}

// isResponseName reports whether name is action+"Response" or action, in
// any case.
func isResponseName(name, action string) bool {
	const suffix = "Response"
	if len(name) == len(action)+len(suffix) {
		return strings.EqualFold(name[:len(action)], action) && strings.EqualFold(name[len(action):], suffix)
	}
	return strings.EqualFold(name, action)
}

// A message is what one pass over a SOAP envelope collects.
type message struct {
	action      string // local name of the Body's element
	serviceType string // its namespace URI (requests only)
	args        []Arg

	fault            bool // the Body's element is a Fault (responses only)
	hasErrorCode     bool // only the first errorCode and errorDescription count
	hasErrorDesc     bool
	faultCode        string
	faultString      string
	errorCode        string
	errorDescription string
}

// parse reads body into m. The fast scanner (scan.go) reads the documents
// peers actually send without allocating; anything it is not sure of, and
// every error, goes to the encoding/xml reader, which defines the result:
// the fast one must agree with it on every document it accepts (the fuzz
// tests check this).
func (m *message) parse(body []byte, request bool) error {
	body = bytes.TrimPrefix(body, bom)
	if m.scan(body, request) {
		return nil
	}
	*m = message{}
	return m.decode(body, request)
}

var bom = []byte("\uFEFF")

// decode reads body with encoding/xml's RawToken, which does not match end
// tags or resolve namespaces: the builder does both.
func (m *message) decode(body []byte, request bool) error {
	b := newBuilder(request, len(body))
	defer b.free()
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = xmlsafe.CharsetReader
	var attrs []attr
	for {
		tok, err := d.RawToken()
		if err != nil {
			if err == io.EOF {
				if len(b.stack) == 0 {
					return fmt.Errorf("%w: no root element", ErrNoEnvelope)
				}
				line, _ := d.InputPos()
				err = &xml.SyntaxError{Msg: "unexpected EOF: <" + string(b.stack[len(b.stack)-1].qname) + "> not closed", Line: line}
			}
			return fmt.Errorf("soap: %w", err)
		}
		done := false
		switch t := tok.(type) {
		case xml.StartElement:
			attrs = attrs[:0]
			for _, a := range t.Attr {
				attrs = append(attrs, attr{[]byte(a.Name.Space), []byte(a.Name.Local), []byte(a.Value)})
			}
			err = b.start([]byte(qname(t.Name)), []byte(t.Name.Space), []byte(t.Name.Local), attrs)
		case xml.EndElement:
			done, err = b.end([]byte(qname(t.Name)))
		case xml.CharData:
			err = b.text(t)
		case xml.Directive:
			err = upnp.ErrDTD
		default: // comments and processing instructions
			err = b.other()
		}
		if err != nil {
			line, col := d.InputPos()
			if se := (*xml.SyntaxError)(nil); errors.As(err, &se) {
				se.Line = line
				return fmt.Errorf("soap: %w", err)
			}
			if errors.Is(err, upnp.ErrDTD) || errors.Is(err, upnp.ErrTooDeep) || errors.Is(err, upnp.ErrTooManyTokens) {
				return fmt.Errorf("soap: %w (line %d, column %d)", err, line, col)
			}
			return err
		}
		if done {
			*m = b.m
			return nil
		}
	}
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// The role of an open element.
type role uint8

const (
	roleOther       role = iota // ignored, with its subtree
	roleEnvelope                //
	roleBody                    //
	roleAction                  // the Body's element: action or response
	roleArg                     // its children
	roleFault                   // the Body's element: a Fault (responses)
	roleInFault                 // anything else under the Fault
	roleFaultCode               // Fault/faultcode
	roleFaultString             // Fault/faultstring
	roleErrorCode               // errorCode anywhere under the Fault
	roleErrorDesc               // errorDescription anywhere under the Fault
)

type frame struct {
	qname []byte // as written, to match the end tag
	role  role
}

// An attr is an attribute of a start tag, its value unescaped.
type attr struct {
	space, local, value []byte
}

// A binding is a namespace declaration in scope: prefix ("" for the default
// namespace) bound to uri by an element at depth.
type binding struct {
	prefix, uri []byte
	depth       int
}

// A span locates a string in builder.buf.
type span struct{ off, end int }

type argSpan struct{ name, value span }

// A builder turns the tokens of a SOAP envelope, from either reader, into a
// message, enforcing the depth and token bounds as they come. Its fixed
// arrays keep the common message off the heap: at the end, the action
// name, service type and argument names and values are copied out in one
// string.
type builder struct {
	m        message // what finish and faultText fill in
	request  bool
	bodyLen  int
	tokens   int
	haveBody bool
	entries  int
	action   span
	stype    span

	stack []frame
	ns    []binding
	args  []argSpan
	uris  []byte // copies of the namespace URIs in ns
	buf   []byte // action, service type, argument names and values

	// For the fast reader: a start tag's attributes, and unescaped text
	// that is not an argument's.
	attrs   []attr
	scratch []byte

	stackBuf   [maxDepth]frame
	nsBuf      [8]binding
	argBuf     [16]argSpan
	attrBuf    [8]attr
	urisBuf    [256]byte
	bufBuf     [512]byte
	scratchBuf [256]byte
}

// Builders are pooled: with their arrays inline they would otherwise be
// allocated (escape analysis cannot keep a struct that points into itself
// on the stack), and reading a body would cost a 4 KB allocation.
var builders = sync.Pool{New: func() any { return new(builder) }}

func newBuilder(request bool, bodyLen int) *builder {
	b := builders.Get().(*builder)
	b.request, b.bodyLen = request, bodyLen
	b.tokens, b.haveBody, b.entries = 0, false, 0
	b.action, b.stype = span{}, span{}
	b.stack = b.stackBuf[:0]
	b.ns = b.nsBuf[:0]
	b.args = b.argBuf[:0]
	b.attrs = b.attrBuf[:0]
	b.uris = b.urisBuf[:0]
	b.buf = b.bufBuf[:0]
	b.scratch = b.scratchBuf[:0]
	return b
}

// free returns b to the pool, dropping its references into the body and
// any buffer a large body made it grow.
func (b *builder) free() {
	clear(b.stackBuf[:])
	clear(b.nsBuf[:])
	clear(b.attrBuf[:])
	b.stack, b.ns, b.args, b.attrs = nil, nil, nil, nil
	b.uris, b.buf, b.scratch = nil, nil, nil
	b.m = message{}
	builders.Put(b)
}

func (b *builder) count(n int) error {
	if b.tokens += n; b.tokens > maxTokens {
		return upnp.ErrTooManyTokens
	}
	return nil
}

func (b *builder) other() error { return b.count(1) }

func (b *builder) start(qname, space, local []byte, attrs []attr) error {
	if err := b.count(1 + len(attrs)); err != nil {
		return err
	}
	if len(b.stack) == maxDepth {
		return upnp.ErrTooDeep
	}
	parent := roleOther
	if len(b.stack) > 0 {
		parent = b.stack[len(b.stack)-1].role
	}
	var r role
	switch {
	case len(b.stack) == 0:
		if string(local) != "Envelope" {
			return fmt.Errorf("%w: root element <%s>", ErrNoEnvelope, qname)
		}
		r = roleEnvelope
	case parent == roleEnvelope:
		r = roleOther
		if string(local) == "Body" && !b.haveBody {
			r, b.haveBody = roleBody, true
		}
	case parent == roleBody:
		if b.entries++; b.entries > 1 {
			return fmt.Errorf("%w: <%s> after <%s>", ErrBadBody, qname, b.buf[b.action.off:b.action.end])
		}
		if bytes.IndexByte(local, ':') >= 0 {
			return &xml.SyntaxError{Msg: "invalid qualified name " + string(qname)}
		}
		b.action = b.appendBuf(local)
		r = roleAction
		if !b.request && string(local) == "Fault" {
			r, b.m.fault = roleFault, true
		}
	case parent == roleAction:
		if bytes.IndexByte(local, ':') >= 0 {
			return &xml.SyntaxError{Msg: "invalid qualified name " + string(qname)}
		}
		name := b.appendBuf(local)
		b.args = append(b.args, argSpan{name, span{name.end, name.end}})
		r = roleArg
	case parent == roleArg:
		return fmt.Errorf("%w: <%s> in <%s>", ErrNestedArgument, qname, b.stack[len(b.stack)-1].qname)
	case parent >= roleFault:
		r = roleInFault
		switch {
		case parent == roleFault && bytes.EqualFold(local, []byte("faultcode")):
			r = roleFaultCode
		case parent == roleFault && bytes.EqualFold(local, []byte("faultstring")):
			r = roleFaultString
		case bytes.EqualFold(local, []byte("errorCode")) && !b.m.hasErrorCode:
			r, b.m.hasErrorCode = roleErrorCode, true
		case bytes.EqualFold(local, []byte("errorDescription")) && !b.m.hasErrorDesc:
			r, b.m.hasErrorDesc = roleErrorDesc, true
		}
	default:
		r = roleOther
	}
	if b.request && len(b.stack) < 3 { // Envelope, Body and the action
		for _, a := range attrs {
			switch {
			case string(a.space) == "xmlns":
				b.bind(a.local, a.value)
			case len(a.space) == 0 && string(a.local) == "xmlns":
				b.bind(nil, a.value)
			}
		}
		if r == roleAction {
			uri, err := b.resolve(space, local)
			if err != nil {
				return err
			}
			b.stype = b.appendBuf(uri)
		}
	}
	b.stack = append(b.stack, frame{qname, r})
	return nil
}

func (b *builder) bind(prefix, uri []byte) {
	off := len(b.uris)
	b.uris = append(b.uris, uri...)
	b.ns = append(b.ns, binding{prefix, b.uris[off:len(b.uris):len(b.uris)], len(b.stack)})
}

// resolve returns the namespace URI of the element named space:local.
func (b *builder) resolve(space, local []byte) ([]byte, error) {
	for i := len(b.ns) - 1; i >= 0; i-- {
		if bytes.Equal(b.ns[i].prefix, space) {
			if len(b.ns[i].uri) == 0 {
				break // xmlns="" undeclares
			}
			return b.ns[i].uri, nil
		}
	}
	if len(space) != 0 {
		return nil, fmt.Errorf("%w: undeclared prefix %q on <%s:%s>", ErrBadBody, space, space, local)
	}
	return nil, fmt.Errorf("%w: action <%s> in no namespace", ErrBadBody, local)
}

func (b *builder) appendBuf(s []byte) span {
	off := len(b.buf)
	b.buf = append(b.buf, s...)
	return span{off, len(b.buf)}
}

// end closes the innermost element; done means it was the Envelope, and m
// is complete.
func (b *builder) end(qname []byte) (done bool, err error) {
	if err := b.count(1); err != nil {
		return false, err
	}
	if len(b.stack) == 0 {
		return false, &xml.SyntaxError{Msg: "unexpected </" + string(qname) + ">"}
	}
	top := b.stack[len(b.stack)-1]
	if !bytes.Equal(top.qname, qname) {
		return false, &xml.SyntaxError{Msg: "<" + string(top.qname) + "> closed by </" + string(qname) + ">"}
	}
	b.stack = b.stack[:len(b.stack)-1]
	for len(b.ns) > 0 && b.ns[len(b.ns)-1].depth >= len(b.stack) {
		b.ns = b.ns[:len(b.ns)-1]
	}
	if top.role != roleEnvelope {
		return false, nil
	}
	if !b.haveBody {
		return false, fmt.Errorf("%w: no Body", ErrNoEnvelope)
	}
	if b.entries == 0 {
		return false, fmt.Errorf("%w: empty Body", ErrBadBody)
	}
	b.finish()
	return true, nil
}

func (b *builder) text(data []byte) error {
	if err := b.count(1); err != nil {
		return err
	}
	switch r := b.top(); r {
	case roleArg:
		b.buf = append(b.buf, data...)
		b.args[len(b.args)-1].value.end = len(b.buf)
	case roleFaultCode, roleFaultString, roleErrorCode, roleErrorDesc:
		b.faultText(r, data)
	}
	return nil
}

// scanText is text for the fast reader: raw is the text as written, which
// it checks and unescapes straight into place.
func (b *builder) scanText(raw []byte, mode int) bool {
	if b.count(1) != nil {
		return false
	}
	var ok bool
	switch r := b.top(); r {
	case roleArg:
		if cap(b.buf)-len(b.buf) < len(raw) {
			// The text of a body is never longer than the body: grow once.
			b.buf = append(make([]byte, 0, max(2*cap(b.buf), len(b.buf)+len(raw), b.bodyLen)), b.buf...)
		}
		b.buf, ok = unescape(b.buf, raw, mode, true)
		b.args[len(b.args)-1].value.end = len(b.buf)
	case roleFaultCode, roleFaultString, roleErrorCode, roleErrorDesc:
		var data []byte
		if data, ok = unescape(b.scratch[:0], raw, mode, true); ok {
			b.faultText(r, data)
		}
	default:
		_, ok = unescape(nil, raw, mode, false)
	}
	return ok
}

func (b *builder) top() role {
	if len(b.stack) == 0 {
		return roleOther
	}
	return b.stack[len(b.stack)-1].role
}

func (b *builder) faultText(r role, data []byte) {
	m := &b.m
	switch r {
	case roleFaultCode:
		m.faultCode += string(data)
	case roleFaultString:
		m.faultString += string(data)
	case roleErrorCode:
		m.errorCode += string(data)
	case roleErrorDesc:
		m.errorDescription += string(data)
	}
}

// finish copies the collected strings out of the builder.
func (b *builder) finish() {
	all := string(b.buf)
	m := &b.m
	m.action = all[b.action.off:b.action.end]
	m.serviceType = all[b.stype.off:b.stype.end]
	if len(b.args) == 0 {
		return
	}
	m.args = make([]Arg, len(b.args))
	for i, a := range b.args {
		m.args[i] = Arg{Name: all[a.name.off:a.name.end], Value: all[a.value.off:a.value.end]}
	}
}

// trimSpace trims XML white space.
func trimSpace(s string) string {
	return strings.Trim(s, " \t\r\n")
}
