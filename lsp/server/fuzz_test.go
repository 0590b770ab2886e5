package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// FuzzFeatures opens arbitrary text and asks every position request at an
// arbitrary position, calling the handlers directly so that a panic fails
// the test (over a connection it would become an internal error). Results
// must be nil or lie inside the document.
func FuzzFeatures(f *testing.F) {
	f.Add(mainSrc, uint32(16), uint32(25))
	f.Add("package p\nworkflow W( {\n  let x = o.\n", uint32(2), uint32(12))
	f.Add("package p\n\ntype R = enum { a, b }\nfn f(r: R) -> int = len([r])\n", uint32(3), uint32(22))
	if b, err := os.ReadFile(filepath.Join("..", "..", "examples", "orders.knhk")); err == nil {
		f.Add(string(b), uint32(70), uint32(10))
	}
	f.Fuzz(func(t *testing.T, text string, line, char uint32) {
		finished := make(chan struct{})
		defer close(finished)
		go func() {
			select {
			case <-finished:
			case <-time.After(30 * time.Second):
				panic(fmt.Sprintf("SLOW input %q at %d:%d", text, line, char))
			}
		}()
		s := New(Options{Debounce: time.Hour})
		defer s.diag.stop()
		ctx := context.Background()
		u := uri.File("/fuzz/a.knhk")
		if err := s.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: u, Version: 1, Text: text}}); err != nil {
			t.Fatal(err)
		}
		line, char = line%64, char%128
		p := tdpp(u, pos(line, char))
		doc := protocol.TextDocumentIdentifier{URI: u}
		snap, _ := s.newView().snapshot(u)
		m := s.newView().mapperFor(snap.content)
		inDoc := func(r protocol.Range) {
			if _, _, err := m.Offsets(r); err != nil {
				t.Fatalf("range %v outside the document: %v", r, err)
			}
		}
		_ = s.newView().diagnose(snap)
		if h, _ := s.Hover(ctx, &protocol.HoverParams{TextDocumentPositionParams: p}); h != nil && h.Range != nil {
			inDoc(*h.Range)
		}
		_, _ = s.Definition(ctx, &protocol.DefinitionParams{TextDocumentPositionParams: p})
		refs, _ := s.References(ctx, &protocol.ReferenceParams{TextDocumentPositionParams: p, Context: protocol.ReferenceContext{IncludeDeclaration: true}})
		for _, r := range refs {
			if r.URI == u {
				inDoc(r.Range)
			}
		}
		_, _ = s.Completion(ctx, &protocol.CompletionParams{TextDocumentPositionParams: p})
		_, _ = s.SignatureHelp(ctx, &protocol.SignatureHelpParams{TextDocumentPositionParams: p})
		_, _ = s.PrepareRename(ctx, &protocol.PrepareRenameParams{TextDocumentPositionParams: p})
		_, _ = s.Rename(ctx, &protocol.RenameParams{TextDocumentPositionParams: p, NewName: "renamed"})
		_, _ = s.DocumentSymbol(ctx, &protocol.DocumentSymbolParams{TextDocument: doc})
		_, _ = s.SemanticTokensFull(ctx, &protocol.SemanticTokensParams{TextDocument: doc})
		frs, _ := s.FoldingRanges(ctx, &protocol.FoldingRangeParams{TextDocument: doc})
		for _, fr := range frs {
			if fr.EndLine <= fr.StartLine || int(fr.EndLine) >= m.LineCount() {
				t.Fatalf("bad fold %+v", fr)
			}
		}
		_, _ = s.CodeAction(ctx, &protocol.CodeActionParams{TextDocument: doc, Range: protocol.Range{Start: pos(0, 0), End: pos(line, char)}})
		_ = s.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
			TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: doc, Version: 2},
			ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: protocol.Range{Start: pos(line, char), End: pos(line, char+3)}, Text: "é😀"}},
		})
		_, _ = s.Hover(ctx, &protocol.HoverParams{TextDocumentPositionParams: p})
	})
}
