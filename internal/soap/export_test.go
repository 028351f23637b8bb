package soap

import "bytes"

// Msg exposes what one reader collects, for the tests that hold the fast
// reader to the encoding/xml one.
type Msg struct {
	Action, ServiceType string
	Args                []Arg
	Fault               bool
	FaultCode           string
	FaultString         string
	ErrorCode           string
	ErrorDescription    string
}

func (m *message) export() Msg {
	return Msg{m.action, m.serviceType, m.args, m.fault, m.faultCode, m.faultString, m.errorCode, m.errorDescription}
}

// DecodeMsg reads body with the encoding/xml reader only.
func DecodeMsg(body []byte, request bool) (Msg, error) {
	var m message
	err := m.decode(bytes.TrimPrefix(body, bom), request)
	return m.export(), err
}

// ScanMsg reads body with the fast reader only; ok is false when it gives up.
func ScanMsg(body []byte, request bool) (msg Msg, ok bool) {
	var m message
	ok = m.scan(bytes.TrimPrefix(body, bom), request)
	return m.export(), ok
}
