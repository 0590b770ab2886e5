// This file implements folding ranges: braces that span lines, runs of
// line comments, block comments and the import list.

package server

import (
	"context"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// FoldingRanges returns line-based folds. A brace fold ends on the line
// before the closing brace so the brace stays visible.
func (srv *Server) FoldingRanges(ctx context.Context, params *protocol.FoldingRangeParams) ([]protocol.FoldingRange, error) {
	s := srv.viewFor(ctx)
	a, ok := s.current(params.TextDocument.URI)
	if !ok {
		return nil, nil
	}
	out := []protocol.FoldingRange{}
	add := func(sp source.Span, kind protocol.FoldingRangeKind, keepLast bool) {
		if sp.Start < 0 || int(sp.End) > len(a.content) || sp.End <= sp.Start {
			return
		}
		start, end := a.m.Line(int(sp.Start)), a.m.Line(int(sp.End)-1)
		if keepLast {
			end--
		}
		if end <= start {
			return
		}
		out = append(out, protocol.FoldingRange{StartLine: uint32(start), EndLine: uint32(end), Kind: kind})
	}
	syntax.Inspect(a.file, func(n any) bool {
		switch n := n.(type) {
		case *syntax.Block, *syntax.RecordType, *syntax.EnumType, *syntax.ChooseStmt, *syntax.MultiStmt,
			*syntax.SelectStmt, *syntax.FlowStmt, *syntax.RouteStmt, *syntax.RecordLit, *syntax.ListLit:
			if sp, ok := syntax.SpanOf(n); ok {
				add(sp, "", true)
			}
		}
		return true
	})
	if imps := a.file.Imports; len(imps) > 1 {
		add(source.Span{Start: imps[0].Span().Start, End: imps[len(imps)-1].Span().End}, protocol.FoldingRangeKindImports, false)
	}
	// Runs of adjacent line comments, and multi-line block comments.
	cs := a.file.Comments
	for i := 0; i < len(cs); {
		j := i
		if !cs[i].Block() {
			for j+1 < len(cs) && !cs[j+1].Block() && a.m.Line(int(cs[j+1].Start)) == a.m.Line(int(cs[j].Start))+1 {
				j++
			}
		}
		add(source.Span{Start: cs[i].Start, End: cs[j].End}, protocol.FoldingRangeKindComment, false)
		i = j + 1
	}
	return out, nil
}
