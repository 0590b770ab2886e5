// This file implements Diagnostic, the one report type of every phase.

package source

import (
	"fmt"
	"sort"
	"strings"
)

// Severity says how bad a [Diagnostic] is.
type Severity int

const (
	Error Severity = iota
	Warning
	Info
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return "info"
	}
}

// Related is a secondary location that explains a diagnostic, such as the
// earlier declaration of a duplicate name.
type Related struct {
	File    *File
	Span    Span
	Message string
}

// Fix is a suggested edit: replace Span in File with NewText.
type Fix struct {
	Message string
	Span    Span
	NewText string
}

// Diagnostic is a problem found in source. Every phase reports the same
// type so that the CLI prints and the language server publishes them alike.
type Diagnostic struct {
	Severity Severity
	Code     Code
	File     *File
	Span     Span
	Message  string
	Related  []Related
	Fixes    []Fix
}

// Error formats d as "file:line:col: message".
func (d *Diagnostic) Error() string {
	if d.File == nil {
		return d.Message
	}
	p := d.File.Position(d.Span.Start)
	sev := ""
	if d.Severity != Error {
		sev = d.Severity.String() + ": "
	}
	return fmt.Sprintf("%s:%d:%d: %s%s", d.File.Name, p.Line, p.Column, sev, d.Message)
}

// Diagnostics is a list of diagnostics. Like go/scanner.ErrorList it is
// itself an error.
type Diagnostics []*Diagnostic

// HasErrors reports whether any diagnostic is an error (not a warning).
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the error-severity diagnostics.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == Error {
			out = append(out, d)
		}
	}
	return out
}

// Err returns ds as an error when it holds at least one error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return ds
}

// Error returns the first error and how many more there are.
func (ds Diagnostics) Error() string {
	errs := ds.Errors()
	switch len(errs) {
	case 0:
		return "no errors"
	case 1:
		return errs[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", errs[0].Error(), len(errs)-1)
}

// Sort orders diagnostics by file name, then offset, then message, so that
// output is deterministic whatever order the phases found them in.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		an, bn := "", ""
		if a.File != nil {
			an = a.File.Name
		}
		if b.File != nil {
			bn = b.File.Name
		}
		if an != bn {
			return an < bn
		}
		if a.Span.Start != b.Span.Start {
			return a.Span.Start < b.Span.Start
		}
		return a.Message < b.Message
	})
}

// Errorf builds an error diagnostic.
func Errorf(f *File, sp Span, code Code, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Error, Code: code, File: f, Span: sp, Message: fmt.Sprintf(format, args...)}
}

// Warnf builds a warning diagnostic.
func Warnf(f *File, sp Span, code Code, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Warning, Code: code, File: f, Span: sp, Message: fmt.Sprintf(format, args...)}
}

// Print writes d as "file:line:col: message", then the source line and a
// caret line under the whole span (or up to the end of its first line),
// then any related locations and fixes.
func (d *Diagnostic) Print(sb *strings.Builder) {
	sb.WriteString(d.Error())
	if d.Code != 0 {
		fmt.Fprintf(sb, " [%s]", d.Code)
	}
	sb.WriteByte('\n')
	if d.File != nil && len(d.File.Content) > 0 {
		writeCaret(sb, d.File, d.Span)
	}
	for _, r := range d.Related {
		if r.File == nil {
			continue
		}
		p := r.File.Position(r.Span.Start)
		fmt.Fprintf(sb, "\t%s:%d:%d: %s\n", r.File.Name, p.Line, p.Column, r.Message)
	}
	for _, f := range d.Fixes {
		fmt.Fprintf(sb, "\thelp: %s\n", f.Message)
	}
}

// maxCaretLine bounds the source excerpt printed under a diagnostic so
// that a 10 MB single-line file does not flood the terminal.
const maxCaretLine = 160

func writeCaret(sb *strings.Builder, f *File, sp Span) {
	start := f.Position(sp.Start)
	line := f.Line(start.Line)
	lineStart := int(f.LineStart(start.Line))
	from := start.Offset - lineStart
	to := int(sp.End) - lineStart
	if to > len(line) {
		to = len(line)
	}
	if to <= from {
		to = from + 1
	}
	// Window very long lines around the span.
	cut := 0
	if len(line) > maxCaretLine {
		cut = from - maxCaretLine/4
		if cut < 0 {
			cut = 0
		}
		end := cut + maxCaretLine
		if end > len(line) {
			end = len(line)
		}
		line = line[cut:end]
		from -= cut
		to -= cut
		if to > len(line) {
			to = len(line) + 1
		}
	}
	// Tabs in the prefix are kept so the caret lines up.
	sb.WriteString("\t")
	sb.WriteString(strings.ToValidUTF8(line, "\uFFFD"))
	sb.WriteString("\n\t")
	for i, r := range line {
		if i >= from {
			break
		}
		if r == '\t' {
			sb.WriteByte('\t')
		} else {
			sb.WriteByte(' ')
		}
	}
	n := 0
	for i := range line {
		if i >= from && i < to {
			n++
		}
	}
	if n == 0 {
		n = 1
	}
	sb.WriteString(strings.Repeat("^", n))
	sb.WriteByte('\n')
}

// Format prints all diagnostics with caret lines.
func (ds Diagnostics) Format() string {
	var sb strings.Builder
	for _, d := range ds {
		d.Print(&sb)
	}
	return sb.String()
}
