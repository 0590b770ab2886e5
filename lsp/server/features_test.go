package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lang/format"
)

// mainSrc is the program most tests use. Line 16 holds é (one UTF-16 unit,
// two bytes) and 😀 (two UTF-16 units, four bytes) before the use of o, so
// every position after them differs between encodings.
const mainSrc = `package shop

import "./common.knhk" as common

// Item is one order line.
type Item = { sku: string, qty: int, price: float }

// Order is what a customer buys.
type Order = { id: string, items: [Item], who: common.Customer }

// reserve books the items.
task reserve(items: [Item]) -> string exec "./bin/reserve"

task ship(id: string, count: int) exec "./bin/ship"

workflow Fulfil(o: Order) -> string {
  let note = "café 😀" + o.id
  let r = reserve(o.items)
  return r + note
}
`

const commonSrc = `package common

// Customer is who pays.
type Customer = { name: string, email: string }
`

func openMain(t *testing.T, encodings ...protocol.PositionEncodingKind) (*env, uri.URI) {
	e := newEnv(t, encodings...)
	e.write("common.knhk", commonSrc)
	u := e.open("main.knhk", mainSrc)
	return e, u
}

func hoverText(t *testing.T, h *protocol.Hover) string {
	t.Helper()
	if h == nil {
		t.Fatal("no hover")
	}
	mc, ok := h.Contents.(*protocol.MarkupContent)
	if !ok {
		t.Fatalf("hover contents are %T", h.Contents)
	}
	return mc.Value
}

func TestDiagnosticsOnOpenAndChange(t *testing.T) {
	e := newEnv(t)
	// The # is a bad token after "é😀": UTF-16 column 16.
	src := "package p\n\nworkflow W() -> string {\n  let s = \"é😀\" # 1\n  return s\n}\n"
	u := e.open("bad.knhk", src)
	ds := e.diagnostics(u, 1)
	if len(ds) == 0 {
		t.Fatal("no diagnostics for a bad token")
	}
	d := ds[0]
	if d.Range != rng(3, 16, 3, 17) {
		t.Errorf("range = %v, want 3:16-3:17", d.Range)
	}
	if code, _ := d.Code.(protocol.String); !strings.HasPrefix(string(code), "K") {
		t.Errorf("code = %v, want a K code", d.Code)
	}
	if d.Severity != protocol.DiagnosticSeverityError {
		t.Errorf("severity = %v", d.Severity)
	}
	if src, _ := d.Source.Get(); src != "knhk" {
		t.Errorf("source = %q", src)
	}
	// Delete "# 1": the diagnostics clear.
	e.change(u, 2, rng(3, 15, 3, 19), "")
	if got := e.content(u); got != "package p\n\nworkflow W() -> string {\n  let s = \"é😀\"\n  return s\n}\n" {
		t.Fatalf("content after edit = %q", got)
	}
	if ds := e.diagnostics(u, 2); len(ds) != 0 {
		t.Errorf("diagnostics after fix: %v", ds)
	}
}

func TestDiagnosticsUTF8(t *testing.T) {
	e := newEnv(t, protocol.PositionEncodingKindUTF16, protocol.PositionEncodingKindUTF8)
	u := e.open("bad.knhk", "package p\n\nworkflow W() -> string {\n  let s = \"é😀\" # 1\n  return s\n}\n")
	ds := e.diagnostics(u, 1)
	if len(ds) == 0 || ds[0].Range != rng(3, 19, 3, 20) {
		t.Fatalf("utf-8 diagnostics = %v, want first at 3:19-3:20", ds)
	}
}

func TestIncrementalSync(t *testing.T) {
	e, u := openMain(t)
	// Replace "note" in line 16 (after the emoji: UTF-16 columns 30..) —
	// first insert after the emoji, then replace across a line break.
	e.change(u, 2, rng(16, 19, 16, 21), "🚀")
	e.change(u, 3, rng(17, 20, 18, 2), "s)\n  ")
	got := e.content(u)
	want := strings.Replace(mainSrc, "😀", "🚀", 1)
	want = strings.Replace(want, "o.items)\n  return", "o.s)\n  return", 1)
	if got != want {
		t.Errorf("content = %q\nwant %q", got, want)
	}
	// Ranges past the end of the document are rejected, the document kept.
	err := e.srv.DidChange(e.ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: 4},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: rng(99, 0, 99, 1), Text: "x"}},
	})
	if err != nil {
		t.Fatal(err) // a notification: the client sees no error
	}
	e.sync()
	if e.content(u) != got {
		t.Error("an out-of-range change modified the document")
	}
	// A whole-document change replaces everything.
	_ = e.srv.DidChange(e.ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: 5},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangeWholeDocument{Text: "package x\n"}},
	})
	e.sync()
	if e.content(u) != "package x\n" {
		t.Errorf("content = %q", e.content(u))
	}
}

func TestHover(t *testing.T) {
	e, u := openMain(t)
	// reserve in "let r = reserve(o.items)".
	h, err := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, pos(17, 12))})
	if err != nil {
		t.Fatal(err)
	}
	text := hoverText(t, h)
	if !strings.Contains(text, "task reserve(items: [Item]) -> string") || !strings.Contains(text, "reserve books the items.") {
		t.Errorf("hover = %q", text)
	}
	if *h.Range != rng(17, 10, 17, 17) {
		t.Errorf("hover range = %v", *h.Range)
	}
	// o after "café 😀": UTF-16 column 25.
	h, err = e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, pos(16, 25))})
	if err != nil {
		t.Fatal(err)
	}
	if text := hoverText(t, h); !strings.Contains(text, "(parameter) o: Order") {
		t.Errorf("hover on o = %q", text)
	}
	if *h.Range != rng(16, 25, 16, 26) {
		t.Errorf("hover range on o = %v, want 16:25-16:26", *h.Range)
	}
	// The type declaration with its doc comment.
	h, _ = e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, pos(11, 22))})
	if text := hoverText(t, h); !strings.Contains(text, "type Item = { sku: string, qty: int, price: float }") || !strings.Contains(text, "Item is one order line.") {
		t.Errorf("hover on Item = %q", text)
	}
	// Language words are explained.
	h, _ = e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, pos(11, 40))})
	if text := hoverText(t, h); !strings.Contains(text, "subprocess") || *h.Range != rng(11, 38, 11, 42) {
		t.Errorf("hover on exec = %q %v", text, *h.Range)
	}
	// No hover in whitespace, in an unopened file, or past the end.
	for _, p := range []protocol.TextDocumentPositionParams{tdpp(u, pos(1, 0)), tdpp(uri.File("/nonexistent/x.knhk"), pos(0, 0)), tdpp(u, pos(500, 0))} {
		h, err := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: p})
		if err != nil || h != nil {
			t.Errorf("hover at %v = %v, %v; want nothing", p, h, err)
		}
	}
}

func TestHoverUTF8(t *testing.T) {
	e, u := openMain(t, protocol.PositionEncodingKindUTF8)
	h, err := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, pos(16, 28))})
	if err != nil {
		t.Fatal(err)
	}
	if text := hoverText(t, h); !strings.Contains(text, "o: Order") || *h.Range != rng(16, 28, 16, 29) {
		t.Errorf("utf-8 hover = %q at %v", text, *h.Range)
	}
}

func definition(t *testing.T, e *env, u uri.URI, p protocol.Position) *protocol.Location {
	t.Helper()
	res, err := e.srv.Definition(e.ctx, &protocol.DefinitionParams{TextDocumentPositionParams: tdpp(u, p)})
	if err != nil {
		t.Fatal(err)
	}
	switch r := res.(type) {
	case nil:
		return nil
	case *protocol.Location:
		return r
	case protocol.LocationSlice:
		if len(r) == 1 {
			return &r[0]
		}
	}
	t.Fatalf("definition result %T %v", res, res)
	return nil
}

func TestDefinition(t *testing.T) {
	e, u := openMain(t)
	// o after the emoji -> the parameter.
	if loc := definition(t, e, u, pos(16, 25)); loc == nil || loc.URI != u || loc.Range != rng(15, 16, 15, 17) {
		t.Errorf("definition of o = %v", loc)
	}
	// Item in the task's parameter type -> the type declaration.
	if loc := definition(t, e, u, pos(11, 22)); loc == nil || loc.Range != rng(5, 5, 5, 9) {
		t.Errorf("definition of Item = %v", loc)
	}
	// The import path -> the imported file.
	common := uri.File(e.dir + "/common.knhk")
	if loc := definition(t, e, u, pos(2, 10)); loc == nil || loc.URI != common || loc.Range != rng(0, 0, 0, 0) {
		t.Errorf("definition of the import = %v", loc)
	}
	if loc := definition(t, e, u, pos(1, 0)); loc != nil {
		t.Errorf("definition on a blank line = %v", loc)
	}
	// Customer in common.Customer -> the other file.
	if loc := definition(t, e, u, pos(8, 55)); loc == nil || loc.URI != common || loc.Range != rng(3, 5, 3, 13) {
		t.Errorf("definition of common.Customer = %v", loc)
	}
}

func TestReferences(t *testing.T) {
	e, u := openMain(t)
	refs, err := e.srv.References(e.ctx, &protocol.ReferenceParams{TextDocumentPositionParams: tdpp(u, pos(17, 12)), Context: protocol.ReferenceContext{IncludeDeclaration: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.Range{rng(11, 5, 11, 12), rng(17, 10, 17, 17)}
	if len(refs) != len(want) {
		t.Fatalf("references = %v", refs)
	}
	for i, r := range refs {
		if r.URI != u || r.Range != want[i] {
			t.Errorf("reference %d = %v, want %v", i, r, want[i])
		}
	}
	refs, _ = e.srv.References(e.ctx, &protocol.ReferenceParams{TextDocumentPositionParams: tdpp(u, pos(16, 25))})
	want = []protocol.Range{rng(16, 25, 16, 26), rng(17, 18, 17, 19)}
	if len(refs) != 2 || refs[0].Range != want[0] || refs[1].Range != want[1] {
		t.Errorf("references of o without declaration = %v", refs)
	}
}

func TestReferencesAcrossFiles(t *testing.T) {
	e, u := openMain(t)
	common := e.open("common.knhk", commonSrc)
	refs, err := e.srv.References(e.ctx, &protocol.ReferenceParams{TextDocumentPositionParams: tdpp(common, pos(3, 6)), Context: protocol.ReferenceContext{IncludeDeclaration: true}})
	if err != nil {
		t.Fatal(err)
	}
	var got []protocol.Location
	for _, r := range refs {
		got = append(got, r)
	}
	if len(got) != 2 || got[0].URI != common || got[0].Range != rng(3, 5, 3, 13) || got[1].URI != u || got[1].Range != rng(8, 54, 8, 62) {
		t.Errorf("references of Customer = %v", got)
	}
}

func TestRename(t *testing.T) {
	e, u := openMain(t)
	edit, err := e.srv.Rename(e.ctx, &protocol.RenameParams{TextDocumentPositionParams: tdpp(u, pos(16, 25)), NewName: "order"})
	if err != nil {
		t.Fatal(err)
	}
	edits := edit.Changes[u]
	want := []protocol.Range{rng(15, 16, 15, 17), rng(16, 25, 16, 26), rng(17, 18, 17, 19)}
	if len(edits) != len(want) {
		t.Fatalf("rename edits = %v", edits)
	}
	for i, ed := range edits {
		if ed.Range != want[i] || ed.NewText != "order" {
			t.Errorf("edit %d = %v, want %v", i, ed, want[i])
		}
	}
	for _, bad := range []struct{ name, msg string }{
		{"let", "reserved word"},
		{"1x", "not a valid identifier"},
		{"a-b", "not a valid identifier"},
		{"", "empty"},
	} {
		_, err := e.srv.Rename(e.ctx, &protocol.RenameParams{TextDocumentPositionParams: tdpp(u, pos(16, 25)), NewName: bad.name})
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("rename to %q: err = %v, want %q", bad.name, err, bad.msg)
		}
	}
	// reserve -> Item clashes with the type.
	_, err = e.srv.Rename(e.ctx, &protocol.RenameParams{TextDocumentPositionParams: tdpp(u, pos(11, 6)), NewName: "Item"})
	if err == nil || !strings.Contains(err.Error(), "already declared") {
		t.Errorf("clashing rename: err = %v", err)
	}
	// prepareRename gives the name's range.
	pr, err := e.srv.PrepareRename(e.ctx, &protocol.PrepareRenameParams{TextDocumentPositionParams: tdpp(u, pos(17, 12))})
	if r, ok := pr.(*protocol.Range); err != nil || !ok || *r != rng(17, 10, 17, 17) {
		t.Errorf("prepareRename = %v, %v", pr, err)
	}
}

func completionLabels(t *testing.T, e *env, u uri.URI, p protocol.Position) map[string]protocol.CompletionItem {
	t.Helper()
	res, err := e.srv.Completion(e.ctx, &protocol.CompletionParams{TextDocumentPositionParams: tdpp(u, p)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]protocol.CompletionItem{}
	if l, ok := res.(*protocol.CompletionList); ok {
		for _, it := range l.Items {
			out[it.Label] = it
		}
	}
	return out
}

func TestCompletion(t *testing.T) {
	e, u := openMain(t)
	// A new line at the start of the workflow body.
	e.change(u, 2, rng(16, 0, 16, 0), "  \n")
	got := completionLabels(t, e, u, pos(16, 2))
	for _, want := range []string{"reserve", "ship", "Fulfil", "Item", "o", "let", "parallel", "choose", "select", "flow", "return", "guard"} {
		if _, ok := got[want]; !ok {
			t.Errorf("completion lacks %q", want)
		}
	}
	if it := got["parallel"]; it.InsertTextFormat != protocol.InsertTextFormatSnippet {
		t.Errorf("parallel is not a snippet: %+v", it)
	}
	if it := got["reserve"]; it.Kind != protocol.CompletionItemKindMethod {
		t.Errorf("reserve kind = %v", it.Kind)
	}
	if _, ok := got["note"]; ok {
		t.Error("completion offers note before its declaration")
	}
	for _, no := range []string{"package", "import", "kernel"} {
		if _, ok := got[no]; ok {
			t.Errorf("completion in a workflow body offers %q", no)
		}
	}
	// Between declarations: declaration words, not statements.
	top := completionLabels(t, e, u, pos(12, 0))
	for _, want := range []string{"workflow", "task", "type", "fn", "kernel", "import"} {
		if _, ok := top[want]; !ok {
			t.Errorf("top-level completion lacks %q", want)
		}
	}
	for _, no := range []string{"parallel", "let", "return", "join"} {
		if _, ok := top[no]; ok {
			t.Errorf("top-level completion offers %q", no)
		}
	}
	if it := top["workflow"]; it.InsertTextFormat != protocol.InsertTextFormatSnippet {
		t.Errorf("workflow is not a snippet at top level: %+v", it)
	}
	// A prefix filters.
	e.change(u, 3, rng(16, 2, 16, 2), "re")
	got = completionLabels(t, e, u, pos(16, 4))
	if _, ok := got["reserve"]; !ok || len(got) == 0 {
		t.Errorf("prefix completion = %v", got)
	}
	for l := range got {
		if !strings.HasPrefix(l, "re") {
			t.Errorf("prefix re offered %q", l)
		}
	}
	// Fields after a dot, while the line does not parse.
	e.change(u, 4, rng(16, 2, 16, 4), "let z = o.")
	got = completionLabels(t, e, u, pos(16, 12))
	if len(got) != 3 || got["id"].Kind != protocol.CompletionItemKindField || got["items"].Label == "" || got["who"].Label == "" {
		t.Errorf("field completion = %v", got)
	}
	// Names in scope while the declaration does not parse.
	e.change(u, 5, rng(16, 2, 16, 12), "let z = ")
	got = completionLabels(t, e, u, pos(16, 10))
	for _, want := range []string{"o", "reserve", "Item"} {
		if _, ok := got[want]; !ok {
			t.Errorf("completion in a broken workflow lacks %q", want)
		}
	}
	for l := range got {
		if strings.HasPrefix(l, placeholder) {
			t.Errorf("completion offers the placeholder %q", l)
		}
	}
	// Nothing inside a comment.
	got = completionLabels(t, e, u, pos(4, 6))
	if len(got) != 0 {
		t.Errorf("completion in a comment = %d items", len(got))
	}
}

func TestSignatureHelp(t *testing.T) {
	e, u := openMain(t)
	e.change(u, 2, rng(16, 0, 16, 0), "  ship(o.id, \n")
	sh, err := e.srv.SignatureHelp(e.ctx, &protocol.SignatureHelpParams{TextDocumentPositionParams: tdpp(u, pos(16, 14))})
	if err != nil || sh == nil || len(sh.Signatures) != 1 {
		t.Fatalf("signature help = %v, %v", sh, err)
	}
	sig := sh.Signatures[0]
	if sig.Label != "ship(id: string, count: int)" || len(sig.Parameters) != 2 {
		t.Errorf("signature = %+v", sig)
	}
	if p, ok := sh.ActiveParameter.Get(); !ok || p != 1 {
		t.Errorf("active parameter = %v", sh.ActiveParameter)
	}
	sh, _ = e.srv.SignatureHelp(e.ctx, &protocol.SignatureHelpParams{TextDocumentPositionParams: tdpp(u, pos(1, 0))})
	if sh != nil {
		t.Errorf("signature help outside a call = %v", sh)
	}
}

func TestDocumentSymbols(t *testing.T) {
	e, u := openMain(t)
	res, err := e.srv.DocumentSymbol(e.ctx, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		t.Fatal(err)
	}
	syms := res.(protocol.DocumentSymbolSlice)
	var names []string
	for _, s := range syms {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "Item Order reserve ship Fulfil" {
		t.Fatalf("symbols = %v", names)
	}
	wf := syms[4]
	if wf.Kind != protocol.SymbolKindClass || wf.SelectionRange != rng(15, 9, 15, 15) || wf.Range != rng(15, 0, 19, 1) {
		t.Errorf("Fulfil symbol = %+v", wf)
	}
	var kids []string
	for _, c := range wf.Children {
		kids = append(kids, c.Name)
	}
	if strings.Join(kids, " ") != "o note r" {
		t.Errorf("Fulfil children = %v", kids)
	}
	if note := wf.Children[1]; note.SelectionRange != rng(16, 6, 16, 10) || note.Range != rng(16, 2, 16, 29) {
		t.Errorf("note symbol = %+v", note)
	}
	if len(syms[0].Children) != 3 || syms[0].Children[2].Name != "price" {
		t.Errorf("Item fields = %+v", syms[0].Children)
	}
}

func TestWorkspaceSymbols(t *testing.T) {
	e, _ := openMain(t)
	res, err := e.srv.Symbols(e.ctx, &protocol.WorkspaceSymbolParams{Query: "cust"})
	if err != nil {
		t.Fatal(err)
	}
	syms := res.(protocol.SymbolInformationSlice)
	if len(syms) != 1 || syms[0].Name != "Customer" || syms[0].Location.URI != uri.File(e.dir+"/common.knhk") || syms[0].Location.Range != rng(3, 5, 3, 13) {
		t.Errorf("workspace symbols = %+v", syms)
	}
}

func TestFormatting(t *testing.T) {
	e := newEnv(t)
	src := "package p\n\n// W é😀\nworkflow   W()  {\n      let x = \"é😀\"\n}\n"
	u := e.open("f.knhk", src)
	edits, err := e.srv.Formatting(e.ctx, &protocol.DocumentFormattingParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		t.Fatal(err)
	}
	want, diags := format.Bytes("f.knhk", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("format.Bytes: %v", diags)
	}
	if string(want) == src {
		t.Fatal("test input is already formatted")
	}
	if len(edits) != 1 {
		t.Fatalf("edits = %v", edits)
	}
	// Apply the edit through the same incremental path the editor uses.
	e.change(u, 2, edits[0].Range, edits[0].NewText)
	if got := e.content(u); got != string(want) {
		t.Errorf("formatted = %q, want %q", got, want)
	}
	if edits[0].Range.Start.Line != 3 {
		t.Errorf("edit starts at line %d; unchanged lines 0-2 should be kept", edits[0].Range.Start.Line)
	}
	edits, err = e.srv.Formatting(e.ctx, &protocol.DocumentFormattingParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil || len(edits) != 0 {
		t.Errorf("formatting twice = %v, %v", edits, err)
	}
	// A file that does not parse is refused with an error.
	bad := e.open("bad.knhk", "package p\nworkflow W( {\n")
	if _, err := e.srv.Formatting(e.ctx, &protocol.DocumentFormattingParams{TextDocument: protocol.TextDocumentIdentifier{URI: bad}}); err == nil {
		t.Error("formatting a broken file succeeded")
	}
}

// decoded is one semantic token in absolute coordinates.
type decoded struct{ line, char, length, typ, mods uint32 }

func TestSemanticTokens(t *testing.T) {
	e, u := openMain(t)
	res, err := e.srv.SemanticTokensFull(e.ctx, &protocol.SemanticTokensParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data)%5 != 0 {
		t.Fatalf("data length %d", len(res.Data))
	}
	var toks []decoded
	var line, char uint32
	for i := 0; i < len(res.Data); i += 5 {
		d := res.Data[i : i+5]
		if d[0] > 0 {
			line, char = line+d[0], d[1]
		} else {
			char += d[1]
		}
		toks = append(toks, decoded{line, char, d[2], d[3], d[4]})
	}
	find := func(l, c uint32) (decoded, bool) {
		for _, tk := range toks {
			if tk.line == l && tk.char == c {
				return tk, true
			}
		}
		return decoded{}, false
	}
	for _, want := range []struct {
		line, char, length uint32
		typ                int
	}{
		{0, 0, 7, tokKeyword},     // package
		{4, 0, 26, tokComment},    // the doc comment
		{11, 0, 4, tokKeyword},    // task
		{11, 5, 7, tokFunction},   // reserve
		{11, 21, 4, tokType},      // Item
		{16, 13, 9, tokString},    // "café 😀": 9 UTF-16 units
		{16, 25, 1, tokParameter}, // o, after the emoji
		{15, 0, 8, tokKeyword},    // workflow
	} {
		tk, ok := find(want.line, want.char)
		if !ok || tk.length != want.length || int(tk.typ) != want.typ {
			t.Errorf("token at %d:%d = %+v (found %v), want length %d type %s", want.line, want.char, tk, ok, want.length, tokenTypes[want.typ])
		}
	}
	if tk, _ := find(11, 5); tk.mods&modDeclaration == 0 {
		t.Errorf("reserve's declaration lacks the declaration modifier: %+v", tk)
	}
}

func TestFoldingRanges(t *testing.T) {
	e := newEnv(t)
	src := "package p\n\n// one\n// two\n// three\ntype R = {\n  a: int,\n  b: int,\n}\n\nworkflow W() {\n  parallel {\n    let x = 1\n    let y = 2\n  } join all\n}\n"
	u := e.open("fold.knhk", src)
	frs, err := e.srv.FoldingRanges(e.ctx, &protocol.FoldingRangeParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]uint32]protocol.FoldingRangeKind{}
	for _, f := range frs {
		got[[2]uint32{f.StartLine, f.EndLine}] = f.Kind
	}
	want := map[[2]uint32]protocol.FoldingRangeKind{
		{2, 4}:   protocol.FoldingRangeKindComment,
		{5, 7}:   "",
		{10, 14}: "",
		{11, 13}: "",
	}
	for k, kind := range want {
		if gk, ok := got[k]; !ok || gk != kind {
			t.Errorf("missing fold %v (%q); got %v", k, kind, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("folds = %v, want %v", got, want)
	}
}

func TestCodeAction(t *testing.T) {
	e, u := openMain(t)
	// A misspelt task: the checker suggests "reserve".
	e.change(u, 2, rng(17, 10, 17, 17), "reserv")
	ds := e.diagnostics(u, 2)
	var withFix *protocol.Diagnostic
	for i := range ds {
		if ds[i].Range == rng(17, 10, 17, 16) {
			withFix = &ds[i]
		}
	}
	if withFix == nil {
		t.Fatalf("no diagnostic on reserv: %v", ds)
	}
	acts, err := e.srv.CodeAction(e.ctx, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: rng(17, 12, 17, 12)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range acts {
		ca, ok := a.(*protocol.CodeAction)
		if !ok || ca.Edit == nil {
			continue
		}
		for _, ed := range ca.Edit.Changes[u] {
			if ed.Range == rng(17, 10, 17, 16) && ed.NewText == "reserve" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no quick fix replacing reserv with reserve: %v", acts)
	}
}

func TestDocumentHighlight(t *testing.T) {
	e, u := openMain(t)
	hs, err := e.srv.DocumentHighlight(e.ctx, &protocol.DocumentHighlightParams{TextDocumentPositionParams: tdpp(u, pos(17, 18))})
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.DocumentHighlight{
		{Range: rng(15, 16, 15, 17), Kind: protocol.DocumentHighlightKindWrite},
		{Range: rng(16, 25, 16, 26), Kind: protocol.DocumentHighlightKindRead},
		{Range: rng(17, 18, 17, 19), Kind: protocol.DocumentHighlightKindRead},
	}
	if len(hs) != len(want) {
		t.Fatalf("highlights = %v", hs)
	}
	for i := range want {
		if hs[i] != want[i] {
			t.Errorf("highlight %d = %v, want %v", i, hs[i], want[i])
		}
	}
}
