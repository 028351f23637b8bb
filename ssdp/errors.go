package ssdp

import (
	"errors"
	"strconv"
)

// ErrTooLarge means a message breaks a size limit: a datagram over MaxDatagram
// bytes, a header line over 1024 bytes, or more than 64 header lines. Parse returns
// it inside a *ParseError, Append wrapped; test for it with errors.Is. Such a
// datagram is dropped, never truncated (SECURITY.md).
var ErrTooLarge = errors.New("ssdp: message too large")

// A ParseError reports a datagram Parse could not read.
//
// Line is the 1-based line of the datagram where reading stopped (1 is the start
// line), or 0 when the fault is the datagram as a whole. Err is the underlying
// cause for the faults callers may want to tell apart (ErrTooLarge), else nil.
type ParseError struct {
	Line   int
	Reason string
	Err    error
}

func (e *ParseError) Error() string {
	if e.Line <= 0 {
		return "ssdp: " + e.Reason
	}
	return "ssdp: line " + strconv.Itoa(e.Line) + ": " + e.Reason
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }
