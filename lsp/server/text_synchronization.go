// This file implements document synchronization: didOpen, didChange
// (incremental) and didClose.

package server

import (
	"context"
	"fmt"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lsp/mapper"
)

// DidOpen records the buffer and publishes its diagnostics at once.
func (s *Server) DidOpen(ctx context.Context, params *protocol.DidOpenTextDocumentParams) error {
	item := params.TextDocument
	s.mu.Lock()
	s.docs[item.URI] = &document{uri: item.URI, path: uriPath(item.URI), version: item.Version, content: []byte(item.Text)}
	s.gen++
	s.mu.Unlock()
	s.diag.schedule(item.URI, 0)
	s.diag.scheduleOthers(item.URI)
	return nil
}

// DidChange applies the changes in order; each range is interpreted against
// the text as left by the change before it.
func (s *Server) DidChange(ctx context.Context, params *protocol.DidChangeTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	d, ok := s.docs[u]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("didChange: %s is not open", u)
	}
	content, err := applyChanges(d.content, params.ContentChanges, s.enc)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("didChange %s: %w", u, err)
	}
	s.docs[u] = &document{uri: u, path: d.path, version: params.TextDocument.Version, content: content}
	s.gen++
	s.mu.Unlock()
	s.diag.schedule(u, s.diag.delay())
	s.diag.scheduleOthers(u)
	return nil
}

// applyChanges returns content with the changes applied. It never modifies
// content: analyses of earlier versions may still be reading it.
func applyChanges(content []byte, changes []protocol.TextDocumentContentChangeEvent, enc mapper.Encoding) ([]byte, error) {
	for _, ch := range changes {
		switch ch := ch.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			content = []byte(ch.Text)
		case *protocol.TextDocumentContentChangePartial:
			start, end, err := mapper.New(content, enc).Offsets(ch.Range)
			if err != nil {
				return nil, err
			}
			next := make([]byte, 0, len(content)-(end-start)+len(ch.Text))
			next = append(next, content[:start]...)
			next = append(next, ch.Text...)
			next = append(next, content[end:]...)
			content = next
		default:
			return nil, fmt.Errorf("unknown content change %T", ch)
		}
	}
	return content, nil
}

// DidClose forgets the buffer and clears its diagnostics; files that
// imported it now see the version on disk.
func (s *Server) DidClose(ctx context.Context, params *protocol.DidCloseTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	_, ok := s.docs[u]
	delete(s.docs, u)
	s.gen++
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("didClose: %s is not open", u)
	}
	s.diag.cancel(u)
	s.cache.forget(u)
	s.diag.scheduleOthers(u)
	if s.client != nil {
		return s.client.PublishDiagnostics(ctx, &protocol.PublishDiagnosticsParams{URI: u, Diagnostics: []protocol.Diagnostic{}})
	}
	return nil
}

// DidSave needs no action: the buffer already holds the saved text.
func (s *Server) DidSave(ctx context.Context, params *protocol.DidSaveTextDocumentParams) error {
	return nil
}

// DidChangeWatchedFiles re-checks every open document: a file they import
// may have changed on disk.
func (s *Server) DidChangeWatchedFiles(ctx context.Context, params *protocol.DidChangeWatchedFilesParams) error {
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
	s.diag.scheduleOthers("")
	return nil
}
