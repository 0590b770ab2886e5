// This file implements document highlights: the other occurrences, in the
// same file, of the name under the cursor.

package server

import (
	"context"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/syntax"
)

// DocumentHighlight marks every occurrence of the object under the cursor
// in this document; the declaration is a write, the uses reads.
func (srv *Server) DocumentHighlight(ctx context.Context, params *protocol.DocumentHighlightParams) ([]protocol.DocumentHighlight, error) {
	s := srv.viewFor(ctx)
	a, off, ok := s.at(params.TextDocument.URI, params.Position)
	if !ok {
		return nil, nil
	}
	n, ok := a.nameAt(off)
	if !ok {
		return nil, nil
	}
	o := a.objectOf(n)
	if o == nil {
		return nil, nil
	}
	key := keyOf(o)
	out := []protocol.DocumentHighlight{}
	for _, nn := range a.names() {
		other := a.objectOf(nn)
		if other == nil || keyOf(other) != key {
			continue
		}
		r, err := a.m.Range(int(nn.span.Start), int(nn.span.End))
		if err != nil {
			continue
		}
		kind := protocol.DocumentHighlightKindRead
		if _, isName := nn.node.(*syntax.Name); isName && filepathEq(key.file, a.path) && nn.span.Start == key.start {
			kind = protocol.DocumentHighlightKindWrite
		}
		out = append(out, protocol.DocumentHighlight{Range: r, Kind: kind})
	}
	return out, nil
}
