package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// TestQualifiedNames checks that hover, completion and diagnostics name a
// type of an imported file as the importing file writes it: lib.Point,
// not Point, which here is another type.
func TestQualifiedNames(t *testing.T) {
	e := newEnv(t)
	e.write("lib.knhk", "package lib\n\ntype Point = { x: int, y: int }\n\nfn origin() -> Point = { x: 0, y: 0 }\n")
	src := "package main\n\nimport \"./lib.knhk\"\n\ntype Point = { name: string }\n\nfn use(p: lib.Point) -> int = p.x\n\nfn m(mine: Point) -> int = use(mine)\n\nworkflow o() -> int {\n  let q = lib.origin()\n  return q.y\n}\n"
	u := e.open("main.knhk", src)

	var msgs []string
	for _, d := range e.diagnostics(u, 1) {
		msgs = append(msgs, string(d.Message.(protocol.String)))
	}
	if want := "cannot use mine (type Point) as lib.Point in argument p of use"; !strings.Contains(strings.Join(msgs, "\n"), want) {
		t.Errorf("diagnostics %q, want %q", msgs, want)
	}
	for _, tt := range []struct {
		p    protocol.Position
		want string
	}{
		{pos(6, 4), "fn use(p: lib.Point) -> int"}, // fn use
		{pos(6, 7), "(parameter) p: lib.Point"},    // its parameter
		{pos(8, 6), "(parameter) mine: Point"},     // main's own Point stays bare
		{pos(11, 6), "let q: lib.Point"},           // inferred from lib.origin()
		{pos(11, 15), "fn origin() -> Point"},      // lib's declaration, as lib writes it
	} {
		h, err := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, tt.p)})
		if err != nil {
			t.Fatal(err)
		}
		if text := hoverText(t, h); !strings.Contains(text, tt.want) {
			t.Errorf("hover at %v = %q, want %q", tt.p, text, tt.want)
		}
	}
	res, err := e.srv.Completion(e.ctx, &protocol.CompletionParams{TextDocumentPositionParams: tdpp(u, pos(11, 14))})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	if list, ok := res.(*protocol.CompletionList); ok {
		for _, it := range list.Items {
			if d, _ := it.Detail.Get(); it.Label == "origin" {
				found = true
				if !strings.Contains(d, "Point") {
					t.Errorf("completion detail of origin = %q", d)
				}
			}
		}
	}
	if !found {
		t.Errorf("no completion origin after lib.: %#v", res)
	}
}
