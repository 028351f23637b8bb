package controlpoint

import (
	"errors"
	"fmt"
)

// Errors to branch on with errors.Is.
var (
	// ErrForeignHost means a URL names a host other than the one that
	// announced the device, or a host name rather than an IP address; the
	// request is not sent (see Client.AllowForeignHosts).
	ErrForeignHost = errors.New("controlpoint: URL is not on the device's host")
	// ErrRedirect means a device answered with a redirect, which is never
	// followed.
	ErrRedirect = errors.New("controlpoint: redirect refused")
	// ErrNoService means a device has no service of the type or ID asked for.
	ErrNoService = errors.New("controlpoint: no such service")
	// ErrNoAction means a service's SCPD has no action of the name asked for.
	ErrNoAction = errors.New("controlpoint: no such action")
	// ErrArgument means the arguments given to Invoke do not match the
	// action: an in argument is missing, unknown, or its value does not
	// convert to its data type (then the error also wraps the
	// *upnp.ValueError).
	ErrArgument = errors.New("controlpoint: bad argument")
)

// An HTTPError is an HTTP answer other than the one expected: a status
// other than 200 for a GET, or other than 200 and a SOAP fault for a
// control request.
type HTTPError struct {
	Method     string
	URL        string
	StatusCode int
	Status     string // as the device sent it, e.g. "404 Not Found"
}

// Error returns "controlpoint: METHOD URL: STATUS".
func (e *HTTPError) Error() string {
	return fmt.Sprintf("controlpoint: %s %s: %s", e.Method, e.URL, e.Status)
}

// A DescribeError is the failure to describe one device found by a search:
// its LOCATION could not be fetched or parsed.
type DescribeError struct {
	Location string
	From     string // the address that announced it
	Err      error
}

// Error returns "controlpoint: describe LOCATION (from FROM): ERR".
func (e *DescribeError) Error() string {
	return fmt.Sprintf("controlpoint: describe %s (from %s): %v", e.Location, e.From, e.Err)
}

// Unwrap returns Err.
func (e *DescribeError) Unwrap() error { return e.Err }
