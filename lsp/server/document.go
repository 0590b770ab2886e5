// This file implements the open documents and the overlay that serves
// their unsaved text to the checker.

package server

import (
	"fmt"
	"os"
	"path/filepath"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lsp/mapper"
)

// document is one open editor buffer. Its fields change only under
// Server.mu; content is replaced, never mutated, so a snapshot of it may be
// read without the lock.
type document struct {
	uri     uri.URI
	path    string // cleaned file-system path
	version int32
	content []byte
	cached  *analysis // analysis of content at generation cachedGen, or nil
	gen     int
}

// uriPath returns the cleaned file path of a document URI. Non-file URIs
// (untitled buffers) keep their URI text as their name.
func uriPath(u uri.URI) string {
	if u.IsFile() {
		if p := u.FsPath(); p != "" {
			return filepath.Clean(p)
		}
	}
	return string(u)
}

// fileURI returns the URI of a file path as the checker names it.
func fileURI(path string) uri.URI {
	if filepath.IsAbs(path) {
		return uri.File(path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		return uri.File(abs)
	}
	return uri.URI(path)
}

// snapshot is a consistent view of one document for one request.
type snapshot struct {
	uri     uri.URI
	path    string
	version int32
	content []byte
	gen     int
}

// snapshot returns the document's current state, or an error when it is
// not open.
func (s *Server) snapshot(u uri.URI) (snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[u]
	if !ok {
		return snapshot{}, fmt.Errorf("%s is not open", u)
	}
	return snapshot{uri: u, path: d.path, version: d.version, content: d.content, gen: s.gen}, nil
}

// readFile is check.Config.ReadFile: open buffers first, then the disk.
func (s *Server) readFile(path string) ([]byte, error) {
	clean := filepath.Clean(path)
	s.mu.Lock()
	for _, d := range s.docs {
		if d.path == clean {
			b := d.content
			s.mu.Unlock()
			return b, nil
		}
	}
	s.mu.Unlock()
	return os.ReadFile(clean)
}

// encoding returns the negotiated position encoding.
func (s *Server) encoding() mapper.Encoding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enc
}

// mapperFor returns a mapper for content in the negotiated encoding.
func (s *Server) mapperFor(content []byte) *mapper.Mapper { return mapper.New(content, s.encoding()) }

// location converts a byte span in a file's content to an LSP location.
func (s *Server) location(path string, content []byte, start, end int) (protocol.Location, bool) {
	r, err := s.mapperFor(content).Range(start, end)
	if err != nil {
		return protocol.Location{}, false
	}
	return protocol.Location{URI: fileURI(path), Range: r}, true
}
