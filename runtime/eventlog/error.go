// This file implements the errors of the readers: each carries the place
// in the input that it is about.

package eventlog

import (
	"errors"
	"fmt"
)

// ErrEmpty is wrapped by the error for a log without a single event.
var ErrEmpty = errors.New("the log has no events")

// Error is a problem at a place in an input log.
type Error struct {
	File      string // the file name, "" when reading a stream
	Line, Col int    // 1-based; Col is 0 when unknown
	Msg       string
	Err       error // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.File
	if s == "" {
		s = "log"
	}
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
		if e.Col > 0 {
			s += fmt.Sprintf(":%d", e.Col)
		}
	}
	return s + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }
