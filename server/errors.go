// This file implements the errors of the Service: a code the transport
// maps to its own (Connect, HTTP) and, for bad input, the offending field
// or the source's diagnostics.

package server

import (
	"errors"
	"fmt"

	"github.com/knhk/knhk/lang/source"
)

// Code classifies an [Error].
type Code int

// The codes; each maps to the Connect code of the same name.
const (
	CodeInternal Code = iota
	CodeInvalidArgument
	CodeNotFound
	CodeFailedPrecondition
	CodeUnavailable
	CodeDeadlineExceeded
	CodeAlreadyExists
)

// Error is what every Service method returns on failure. Message is the
// text knhk's CLI prints for the same mistake.
type Error struct {
	Code    Code
	Field   string // the request field at fault, for CodeInvalidArgument
	Message string
	Diags   source.Diagnostics // a deployed source's errors
	Err     error              // the cause, when there is one
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

func errf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err: that of an [*Error] in its chain,
// otherwise CodeInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrClosed is the cause of the CodeUnavailable error of a call made
// while the Service drains or after it closed.
var ErrClosed = errors.New("the server is shutting down")
