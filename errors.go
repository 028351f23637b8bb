package upnp

import (
	"errors"
	"strconv"

	"github.com/seedb72249f9/upnp/internal/xmlsafe"
)

// Standard UPnP error codes (UDA section 3, Action error response). Codes
// 700-799 are defined by each service's specification and 800-899 by
// vendors; 606-612 are the security codes of UDA 1.0's DeviceSecurity.
const (
	CodeInvalidAction                = 401
	CodeInvalidArgs                  = 402
	CodeActionFailed                 = 501
	CodeArgumentValueInvalid         = 600
	CodeArgumentValueOutOfRange      = 601
	CodeOptionalActionNotImplemented = 602
	CodeOutOfMemory                  = 603
	CodeHumanInterventionRequired    = 604
	CodeStringArgumentTooLong        = 605
	CodeActionNotAuthorized          = 606 // DeviceProtection:1 uses it for access control
	CodeSignatureFailure             = 607
	CodeSignatureMissing             = 608
	CodeNotEncrypted                 = 609
	CodeInvalidSequence              = 610
	CodeInvalidControlURL            = 611
	CodeNoSuchSession                = 612
)

var descriptions = map[int]string{
	CodeInvalidAction:                "Invalid Action",
	CodeInvalidArgs:                  "Invalid Args",
	CodeActionFailed:                 "Action Failed",
	CodeArgumentValueInvalid:         "Argument Value Invalid",
	CodeArgumentValueOutOfRange:      "Argument Value Out of Range",
	CodeOptionalActionNotImplemented: "Optional Action Not Implemented",
	CodeOutOfMemory:                  "Out of Memory",
	CodeHumanInterventionRequired:    "Human Intervention Required",
	CodeStringArgumentTooLong:        "String Argument Too Long",
	CodeActionNotAuthorized:          "Action not authorized",
	CodeSignatureFailure:             "Signature failure",
	CodeSignatureMissing:             "Signature missing",
	CodeNotEncrypted:                 "Not encrypted",
	CodeInvalidSequence:              "Invalid sequence",
	CodeInvalidControlURL:            "Invalid control URL",
	CodeNoSuchSession:                "No such session",
}

// ErrorDescription returns the standard errorDescription for one of the Code
// constants, or "" for any other code.
func ErrorDescription(code int) string {
	return descriptions[code]
}

// An Error is a UPnP error: the errorCode and errorDescription a device
// returns in a SOAP fault (UDA section 3, Action error response). Device
// handlers return one to choose the fault sent; control points receive one.
//
// The zero Description means the standard one for Code (ErrorDescription), so
// &Error{Code: CodeInvalidArgs} is complete. errors.Is(err, &Error{Code: c})
// reports whether err is, or wraps, an *Error with code c, whatever its
// description.
type Error struct {
	Code        int
	Description string
}

// Error returns "upnp: error <code>: <description>".
func (e *Error) Error() string {
	d := e.Description
	if d == "" {
		d = ErrorDescription(e.Code)
	}
	if d == "" {
		return "upnp: error " + strconv.Itoa(e.Code)
	}
	return "upnp: error " + strconv.Itoa(e.Code) + ": " + d
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

// Errors the parsers return; test for them with errors.Is.
var (
	// ErrTooLarge means an XML document is larger than its limit (1 MiB for
	// descriptions and SCPDs).
	ErrTooLarge = xmlsafe.ErrTooLarge
	// ErrTooDeep means XML elements are nested deeper than the limit (32).
	ErrTooDeep = xmlsafe.ErrTooDeep
	// ErrTooManyTokens means an XML document holds more tokens (elements,
	// attributes, text runs) than the limit (50,000).
	ErrTooManyTokens = xmlsafe.ErrTooManyTokens
	// ErrDTD means an XML document holds a DTD or entity declaration, which
	// UPnP never uses; such documents are rejected unread (XML bombs).
	ErrDTD = xmlsafe.ErrDTD

	// ErrNotDescription means a document has no <root> element, or no
	// <device> inside it.
	ErrNotDescription = errors.New("upnp: not a device description")
	// ErrNotSCPD means a document has no <scpd> element.
	ErrNotSCPD = errors.New("upnp: not a service description")
	// ErrUnknownDataType means a DataType is not one of the UDA data types.
	ErrUnknownDataType = errors.New("upnp: unknown data type")
)
