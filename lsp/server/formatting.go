// This file implements document formatting through lang/format.

package server

import (
	"context"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// Formatting formats the whole document and returns one edit covering the
// lines that changed. A document that does not parse is left alone and the
// request fails with the first syntax error.
func (srv *Server) Formatting(ctx context.Context, params *protocol.DocumentFormattingParams) ([]protocol.TextEdit, error) {
	s := srv.viewFor(ctx)
	if s.opts.Format == nil {
		return nil, jsonrpc2.NewError(jsonrpc2.MethodNotFound, "formatting is not available")
	}
	snap, err := s.snapshot(params.TextDocument.URI)
	if err != nil {
		return nil, nil
	}
	out, diags := s.opts.Format(snap.path, snap.content)
	if diags.HasErrors() {
		return nil, jsonrpc2.NewError(codeRequestFailed, "cannot format: "+diags.Errors()[0].Error())
	}
	if out == nil || string(out) == string(snap.content) {
		return []protocol.TextEdit{}, nil
	}
	return []protocol.TextEdit{s.minimalEdit(snap.content, out)}, nil
}

// minimalEdit returns one edit turning old into new, trimmed to the lines
// that differ so that the editor keeps the cursor and folds elsewhere.
func (s *view) minimalEdit(old, new []byte) protocol.TextEdit {
	pre := 0
	for pre < len(old) && pre < len(new) && old[pre] == new[pre] {
		pre++
	}
	for pre > 0 && old[pre-1] != '\n' {
		pre-- // start at a line start
	}
	suf := 0
	for suf < len(old)-pre && suf < len(new)-pre && old[len(old)-1-suf] == new[len(new)-1-suf] {
		suf++
	}
	for suf > 0 && suf < len(old) && old[len(old)-suf-1] != '\n' {
		suf-- // keep whole lines: the edit ends at a line start, never inside "\r\n"
	}
	m := s.mapperFor(old)
	r, _ := m.Range(pre, len(old)-suf)
	return protocol.TextEdit{Range: r, NewText: string(new[pre : len(new)-suf])}
}

// codeRequestFailed is LSP's RequestFailed: the request was valid but
// could not be carried out.
const codeRequestFailed jsonrpc2.Code = -32803
