// This file implements the common first step of position requests: find
// the open document, analyse it, and convert the position to an offset.

package server

import (
	"path/filepath"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// at returns the analysis of the open document u and the byte offset of
// pos in it. ok is false for an unopened document or a position outside
// it: such requests get an empty result, not an error.
func (s *view) at(u uri.URI, pos protocol.Position) (a *analysis, off int, ok bool) {
	snap, err := s.snapshot(u)
	if err != nil {
		s.logf("%v", err)
		return nil, 0, false
	}
	a = s.analyze(snap)
	off, err = a.m.Offset(pos)
	if err != nil {
		s.logf("%s: %v", u, err)
		return nil, 0, false
	}
	return a, off, true
}

// current returns the analysis of the open document u.
func (s *view) current(u uri.URI) (*analysis, bool) {
	snap, err := s.snapshot(u)
	if err != nil {
		s.logf("%v", err)
		return nil, false
	}
	return s.analyze(snap), true
}

func filepathEq(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }
