// This file implements the JSON form of diagnostics printed by
// "knhk check --json".

package main

import (
	"fmt"

	"github.com/knhk/knhk/lang/source"
)

// jsonDiagnostic is one element of the array "knhk check --json" prints.
// Lines and columns are 1-based and columns count bytes; the end is
// exclusive. Position fields are 0 when the diagnostic has no position.
type jsonDiagnostic struct {
	File      string        `json:"file"`
	Line      int           `json:"line"`
	Column    int           `json:"column"`
	EndLine   int           `json:"endLine"`
	EndColumn int           `json:"endColumn"`
	Severity  string        `json:"severity"`
	Code      string        `json:"code"`
	CodeName  string        `json:"codeName"`
	Message   string        `json:"message"`
	Related   []jsonRelated `json:"related"`
	Fixes     []jsonFix     `json:"fixes"`
}

// jsonRelated is a secondary location of a diagnostic.
type jsonRelated struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"endLine"`
	EndColumn int    `json:"endColumn"`
	Message   string `json:"message"`
}

// jsonFix is a suggested edit in the diagnostic's file: replace the range
// with newText.
type jsonFix struct {
	Message   string `json:"message"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"endLine"`
	EndColumn int    `json:"endColumn"`
	NewText   string `json:"newText"`
}

// span converts sp in f to 1-based start and end lines and columns. An end
// before the start (unknown) collapses to the start.
func span(f *source.File, sp source.Span) (line, col, endLine, endCol int) {
	if f == nil {
		return 0, 0, 0, 0
	}
	end := sp.End
	if end < sp.Start {
		end = sp.Start
	}
	s, e := f.Position(sp.Start), f.Position(end)
	return s.Line, s.Column, e.Line, e.Column
}

// toJSON converts d; path names the file when d has none (an unreadable
// file).
func toJSON(path string, d *source.Diagnostic) jsonDiagnostic {
	j := jsonDiagnostic{
		File:     path,
		Severity: d.Severity.String(),
		CodeName: d.Code.Name(),
		Message:  d.Message,
		Related:  []jsonRelated{},
		Fixes:    []jsonFix{},
	}
	if d.Code != 0 {
		j.Code = fmt.Sprintf("K%d", int(d.Code))
	}
	if d.File != nil {
		j.File = d.File.Name
	}
	j.Line, j.Column, j.EndLine, j.EndColumn = span(d.File, d.Span)
	for _, r := range d.Related {
		jr := jsonRelated{Message: r.Message}
		if r.File != nil {
			jr.File = r.File.Name
		}
		jr.Line, jr.Column, jr.EndLine, jr.EndColumn = span(r.File, r.Span)
		j.Related = append(j.Related, jr)
	}
	for _, f := range d.Fixes {
		jf := jsonFix{Message: f.Message, NewText: f.NewText}
		jf.Line, jf.Column, jf.EndLine, jf.EndColumn = span(d.File, f.Span)
		j.Fixes = append(j.Fixes, jf)
	}
	return j
}
