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

// document is one version of one open editor buffer. A document is never
// modified: an edit replaces it in Server.docs with a new one, so views
// taken before the edit keep reading the text they were taken with.
type document struct {
	uri     uri.URI
	path    string // cleaned file-system path
	version int32
	content []byte
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

// snapshot is one document as a view sees it.
type snapshot struct {
	uri     uri.URI
	path    string
	version int32
	content []byte
	gen     int
}

// view is an immutable picture of the server's state, taken when a request
// arrives: the open documents, the workspace folders and the position
// encoding. Read requests run concurrently, each on its own view, so a
// request sees exactly the edits that arrived before it, however long it
// runs and whatever arrives meanwhile. A view embeds its server for the
// options, the log and the analysis cache.
type view struct {
	*Server
	gen   int
	docs  map[uri.URI]*document
	roots []string
	enc   mapper.Encoding
}

// newView returns a view of the current state. The documents map is
// copied (documents themselves are immutable), so later edits do not show.
func (s *Server) newView() *view {
	s.mu.Lock()
	defer s.mu.Unlock()
	docs := make(map[uri.URI]*document, len(s.docs))
	for u, d := range s.docs {
		docs[u] = d
	}
	return &view{Server: s, gen: s.gen, docs: docs, roots: s.roots, enc: s.enc}
}

// snapshot returns the document's state in the view, or an error when it
// is not open.
func (s *view) snapshot(u uri.URI) (snapshot, error) {
	d, ok := s.docs[u]
	if !ok {
		return snapshot{}, fmt.Errorf("%s is not open", u)
	}
	return snapshot{uri: u, path: d.path, version: d.version, content: d.content, gen: s.gen}, nil
}

// readFile is check.Config.ReadFile: open buffers first, then the disk.
func (s *view) readFile(path string) ([]byte, error) {
	clean := filepath.Clean(path)
	for _, d := range s.docs {
		if d.path == clean {
			return d.content, nil
		}
	}
	return os.ReadFile(clean)
}

// encoding returns the negotiated position encoding.
func (s *view) encoding() mapper.Encoding { return s.enc }

// mapperFor returns a mapper for content in the negotiated encoding.
func (s *view) mapperFor(content []byte) *mapper.Mapper { return mapper.New(content, s.encoding()) }

// location converts a byte span in a file's content to an LSP location.
func (s *view) location(path string, content []byte, start, end int) (protocol.Location, bool) {
	r, err := s.mapperFor(content).Range(start, end)
	if err != nil {
		return protocol.Location{}, false
	}
	return protocol.Location{URI: fileURI(path), Range: r}, true
}
