// This file implements runtime errors: what went wrong and the span of
// the instruction that did it.

package eval

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

// Error is a runtime failure of an expression: an index out of range, a
// division by zero, none where a value is needed, a conversion out of
// range, an overflow. Loc is the IR location of the failing instruction
// (a file index into [ir.Program.Files] and a byte span), so that the
// engine can report file:line:col through [Error.Diagnostic].
type Error struct {
	Loc  ir.Loc
	Func string // the function that failed, for messages
	Msg  string
}

// Location returns where the failing expression is; with Reason it lets
// the engine record the failure's position without parsing the text.
func (e *Error) Location() ir.Loc { return e.Loc }

// Reason returns the message without the location.
func (e *Error) Reason() string { return e.Msg }

// Error formats e with the file index and byte offsets; use
// [Error.Diagnostic] for line and column.
func (e *Error) Error() string {
	if !e.Loc.Known() {
		return e.Msg
	}
	return fmt.Sprintf("file %d:%d-%d: %s", e.Loc.File, e.Loc.Span.Start, e.Loc.Span.End, e.Msg)
}

// Diagnostic turns e into a diagnostic with code, positioned in files
// (the map compiler.SourceFiles returns). Without the file, the
// diagnostic has no position.
func (e *Error) Diagnostic(files map[int32]*source.File, code source.Code) *source.Diagnostic {
	d := &source.Diagnostic{Severity: source.Error, Code: code, Message: e.Msg}
	if f := files[e.Loc.File]; f != nil && e.Loc.Known() {
		d.File, d.Span = f, e.Loc.Span
	}
	return d
}

// failure is an error raised below the instruction level; exec adds the
// instruction's location.
type failure string

func (f failure) Error() string { return string(f) }

func failf(format string, args ...any) error { return failure(fmt.Sprintf(format, args...)) }
