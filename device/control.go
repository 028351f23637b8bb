package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/seedb72249f9/upnp"
	"github.com/seedb72249f9/upnp/internal/soap"
	"github.com/seedb72249f9/upnp/ssdp"
)

// MaxStringArg is the longest string argument accepted; longer ones get 605
// String Argument Too Long.
const MaxStringArg = 32 << 10

// controlNamespace is the service type of the deprecated QueryStateVariable action.
const controlNamespace = "urn:schemas-upnp-org:control-1-0"

// control runs one SOAP action (UDA section 3.2).
func (s *Server) control(w http.ResponseWriter, r *http.Request, x *served) {
	if r.Method != http.MethodPost && r.Method != "M-POST" {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	header := r.Header.Get("SOAPACTION")
	if header == "" && r.Method == "M-POST" {
		header = r.Header.Get("01-SOAPACTION")
	}
	hType, hAction, err := soap.ParseSOAPAction(header)
	if err != nil {
		s.fault(w, r, x, "", &upnp.Error{Code: upnp.CodeInvalidAction, Description: "Invalid Action: bad SOAPACTION header"})
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	buf.Reset()
	_, err = buf.ReadFrom(http.MaxBytesReader(w, r.Body, soap.MaxBody))
	body := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	bType, bAction, args, err := soap.ParseRequest(body)
	if err != nil {
		s.logger().Debug("device: bad SOAP body", "from", r.RemoteAddr, "err", err)
		s.fault(w, r, x, hAction, &upnp.Error{Code: upnp.CodeInvalidAction, Description: "Invalid Action: malformed SOAP body"})
		return
	}
	if bAction != hAction || bType != hType {
		s.fault(w, r, x, hAction, &upnp.Error{Code: upnp.CodeInvalidAction, Description: "Invalid Action: SOAPACTION and body disagree"})
		return
	}
	if hType == controlNamespace && hAction == "QueryStateVariable" {
		s.queryStateVariable(w, r, x, args)
		return
	}
	if !typeServes(x.svc.Type, hType) {
		s.fault(w, r, x, hAction, &upnp.Error{Code: upnp.CodeInvalidAction, Description: "Invalid Action: wrong service type"})
		return
	}
	out, uerr := s.invoke(r, x, hAction, args)
	if uerr != nil {
		s.fault(w, r, x, hAction, uerr)
		return
	}
	out2 := bufPool.Get().(*bytes.Buffer)
	defer putBuf(out2)
	b, err := soap.AppendResponse(out2.AvailableBuffer(), hType, hAction, out)
	if err != nil {
		s.logger().Error("device: encoding response", "action", hAction, "err", err)
		s.fault(w, r, x, hAction, &upnp.Error{Code: upnp.CodeActionFailed})
		return
	}
	s.logger().Info("action", "device", x.dev.FriendlyName, "service", x.svc.id(), "action", hAction, "from", r.RemoteAddr)
	writeSOAP(w, http.StatusOK, b)
}

// typeServes reports whether a control point asking for service type asked
// may be served by ours: the same type at the same or an older version.
func typeServes(ours, asked string) bool {
	if ours == asked {
		return true
	}
	a, o := ssdp.ParseTarget(asked), ssdp.ParseTarget(ours)
	return a.Kind == ssdp.TargetService && o.Kind == ssdp.TargetService && a.Matches(o)
}

// invoke validates the arguments, runs the handler and encodes the out
// arguments, in SCPD order.
func (s *Server) invoke(r *http.Request, x *served, name string, args []soap.Arg) ([]soap.Arg, *upnp.Error) {
	act := x.svc.SCPD.Action(name)
	if act == nil {
		return nil, &upnp.Error{Code: upnp.CodeInvalidAction}
	}
	given := make(map[string]string, len(args))
	for _, a := range args {
		if _, dup := given[a.Name]; dup {
			return nil, &upnp.Error{Code: upnp.CodeInvalidArgs, Description: "Invalid Args: " + a.Name + " given twice"}
		}
		given[a.Name] = a.Value
	}
	in := map[string]any{}
	for a := range act.In() {
		name := a.Name
		raw, ok := given[name]
		if !ok {
			// Read leniently: some control points get the case of names wrong.
			for k, v := range given {
				if strings.EqualFold(k, a.Name) {
					name, raw, ok = k, v, true
					break
				}
			}
		}
		if !ok {
			return nil, &upnp.Error{Code: upnp.CodeInvalidArgs, Description: "Invalid Args: missing " + a.Name}
		}
		delete(given, name)
		sv := x.svc.SCPD.StateVariable(a.RelatedStateVariable)
		if sv == nil {
			return nil, &upnp.Error{Code: upnp.CodeActionFailed}
		}
		if sv.DataType == upnp.TypeString && len(raw) > MaxStringArg {
			return nil, &upnp.Error{Code: upnp.CodeStringArgumentTooLong}
		}
		v, err := sv.Decode(raw)
		if err != nil {
			code := upnp.CodeArgumentValueInvalid
			var ve *upnp.ValueError
			if errors.As(err, &ve) && ve.OutOfRange {
				code = upnp.CodeArgumentValueOutOfRange
			}
			return nil, &upnp.Error{Code: code, Description: upnp.ErrorDescription(code) + ": " + a.Name}
		}
		in[a.Name] = v
	}
	for extra := range given {
		return nil, &upnp.Error{Code: upnp.CodeInvalidArgs, Description: "Invalid Args: unknown " + extra}
	}
	h := x.svc.Handlers[name]
	if h == nil {
		return nil, &upnp.Error{Code: upnp.CodeOptionalActionNotImplemented}
	}
	req := &Request{Device: x.dev, Service: x.svc, Action: act, Args: in, RemoteAddr: r.RemoteAddr}
	outVals, err := s.call(r.Context(), h, req)
	if err != nil {
		var ue *upnp.Error
		if errors.As(err, &ue) {
			return nil, ue
		}
		s.logger().Error("device: action failed", "action", name, "err", err)
		return nil, &upnp.Error{Code: upnp.CodeActionFailed}
	}
	var out []soap.Arg
	for a := range act.Out() {
		v, ok := outVals[a.Name]
		if !ok {
			s.logger().Error("device: handler left out an out argument", "action", name, "arg", a.Name)
			return nil, &upnp.Error{Code: upnp.CodeActionFailed}
		}
		sv := x.svc.SCPD.StateVariable(a.RelatedStateVariable)
		w, err := sv.Encode(v)
		if err != nil {
			s.logger().Error("device: bad out argument", "action", name, "arg", a.Name, "err", err)
			return nil, &upnp.Error{Code: upnp.CodeActionFailed}
		}
		out = append(out, soap.Arg{Name: a.Name, Value: w})
	}
	return out, nil
}

// call runs h, turning a panic into an error so that one bad handler cannot
// take the server down.
func (s *Server) call(ctx context.Context, h Handler, r *Request) (out map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.logger().Error("device: handler panicked", "action", r.Action.Name, "panic", p, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, r)
}

// queryStateVariable answers the deprecated QueryStateVariable action (UDA 1.0).
func (s *Server) queryStateVariable(w http.ResponseWriter, r *http.Request, x *served, args []soap.Arg) {
	if len(args) != 1 || args[0].Name != "varName" {
		s.fault(w, r, x, "QueryStateVariable", &upnp.Error{Code: upnp.CodeInvalidArgs})
		return
	}
	if x.svc.SCPD.StateVariable(args[0].Value) == nil {
		s.fault(w, r, x, "QueryStateVariable", &upnp.Error{Code: upnp.CodeInvalidArgs, Description: "Invalid Args: no such variable"})
		return
	}
	b, err := soap.AppendResponse(nil, controlNamespace, "QueryStateVariable",
		[]soap.Arg{{Name: "return", Value: x.svc.Value(args[0].Value)}})
	if err != nil {
		s.fault(w, r, x, "QueryStateVariable", &upnp.Error{Code: upnp.CodeActionFailed})
		return
	}
	writeSOAP(w, http.StatusOK, b)
}

func (s *Server) fault(w http.ResponseWriter, r *http.Request, x *served, action string, e *upnp.Error) {
	s.logger().Info("action fault", "service", x.svc.id(), "action", action, "code", e.Code, "from", r.RemoteAddr)
	writeSOAP(w, http.StatusInternalServerError, soap.AppendFault(make([]byte, 0, 512), e.Code, e.Description))
}

// Header values shared by every response; net/http only reads them.
var (
	soapContentType = []string{soap.ContentType}
	emptyValue      = []string{""}
)

func writeSOAP(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = soapContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	h["Ext"] = emptyValue
	w.WriteHeader(status)
	w.Write(b)
}

// bufPool recycles request and response buffers of the control path.
var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 2048)) }}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bufPool.Put(b)
	}
}
