package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// These tests exercise features built on the checker's Info and diagnostics.

func TestHoverTypes(t *testing.T) {
	e, u := openMain(t)
	for _, tt := range []struct {
		p    protocol.Position
		want string
		r    protocol.Range
	}{
		{pos(16, 7), "let note: string", rng(16, 6, 16, 10)},
		{pos(18, 14), "let note: string", rng(18, 13, 18, 17)},
		{pos(16, 28), "(field) id: string", rng(16, 27, 16, 29)},
		{pos(17, 6), "let r: string", rng(17, 6, 17, 7)},
	} {
		h, err := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, tt.p)})
		if err != nil {
			t.Fatal(err)
		}
		if text := hoverText(t, h); !strings.Contains(text, tt.want) || *h.Range != tt.r {
			t.Errorf("hover at %v = %q %v, want %q %v", tt.p, text, *h.Range, tt.want, tt.r)
		}
	}
	// Hover on common.Customer shows the other file's doc comment.
	h, _ := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, pos(8, 56))})
	if text := hoverText(t, h); !strings.Contains(text, "type Customer = { name: string, email: string }") || !strings.Contains(text, "Customer is who pays.") {
		t.Errorf("hover on Customer = %q", text)
	}
}

func TestRenameClashInScope(t *testing.T) {
	e, u := openMain(t)
	// r -> note: note is visible where r is used.
	_, err := e.srv.Rename(e.ctx, &protocol.RenameParams{TextDocumentPositionParams: tdpp(u, pos(17, 6)), NewName: "note"})
	if err == nil || !strings.Contains(err.Error(), "already declared") {
		t.Errorf("rename r to note: err = %v", err)
	}
	// r -> receipt is fine and renames the use in return.
	edit, err := e.srv.Rename(e.ctx, &protocol.RenameParams{TextDocumentPositionParams: tdpp(u, pos(18, 9)), NewName: "receipt"})
	if err != nil {
		t.Fatal(err)
	}
	if ed := edit.Changes[u]; len(ed) != 2 || ed[0].Range != rng(17, 6, 17, 7) || ed[1].Range != rng(18, 9, 18, 10) {
		t.Errorf("rename r edits = %v", ed)
	}
}

func TestRelatedDiagnostics(t *testing.T) {
	e := newEnv(t)
	src := "package p\n\n// é😀\ntask ship(id: string) exec \"a\"\ntask ship(id: string) exec \"b\"\n"
	u := e.open("dup.knhk", src)
	ds := e.diagnostics(u, 1)
	var dup *protocol.Diagnostic
	for i := range ds {
		if code, _ := ds[i].Code.(protocol.String); code == "K301" {
			dup = &ds[i]
		}
	}
	if dup == nil {
		t.Fatalf("no duplicate diagnostic: %v", ds)
	}
	if dup.Range != rng(4, 5, 4, 9) {
		t.Errorf("duplicate range = %v", dup.Range)
	}
	if len(dup.RelatedInformation) != 1 || dup.RelatedInformation[0].Location.URI != u || dup.RelatedInformation[0].Location.Range != rng(3, 5, 3, 9) {
		t.Errorf("related = %+v", dup.RelatedInformation)
	}
}

func TestUnsavedImport(t *testing.T) {
	e, u := openMain(t)
	if ds := e.diagnostics(u, 1); len(ds) != 0 {
		t.Fatalf("main has diagnostics: %v", ds)
	}
	// Rename Customer in the open (unsaved) common.knhk: main.knhk, which
	// imports it, now fails, though the file on disk still has Customer.
	c := e.open("common.knhk", commonSrc)
	e.change(c, 2, rng(3, 5, 3, 13), "Client")
	for tries := 0; ; tries++ {
		e.rec.mu.Lock()
		var last *protocol.PublishDiagnosticsParams
		if ps := e.rec.diags[u]; len(ps) > 0 {
			last = ps[len(ps)-1]
		}
		e.rec.mu.Unlock()
		if last != nil && len(last.Diagnostics) > 0 {
			d := last.Diagnostics[0]
			if d.Range != rng(8, 54, 8, 62) || !strings.Contains(string(d.Message.(protocol.String)), "Customer") {
				t.Errorf("diagnostic = %+v", d)
			}
			break
		}
		if tries > 200 {
			t.Fatal("main.knhk got no diagnostics after the import changed")
		}
		e.sync()
		sleep()
	}
}

func TestSemanticTokensFields(t *testing.T) {
	e, u := openMain(t)
	res, err := e.srv.SemanticTokensFull(e.ctx, &protocol.SemanticTokensParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		t.Fatal(err)
	}
	var line, char uint32
	got := map[[2]uint32][3]uint32{}
	for i := 0; i+5 <= len(res.Data); i += 5 {
		d := res.Data[i : i+5]
		if d[0] > 0 {
			line, char = line+d[0], d[1]
		} else {
			char += d[1]
		}
		got[[2]uint32{line, char}] = [3]uint32{d[2], d[3], d[4]}
	}
	for _, w := range []struct {
		line, char, length uint32
		typ, mods          int
	}{
		{16, 27, 2, tokProperty, 0},             // o.id
		{8, 15, 2, tokProperty, modDeclaration}, // id: string in type Order
		{16, 6, 4, tokVariable, modDeclaration | modReadonly},
		{8, 47, 6, tokNamespace, 0}, // common in common.Customer
		{8, 54, 8, tokType, 0},      // Customer
	} {
		tk, ok := got[[2]uint32{w.line, w.char}]
		if !ok || tk[0] != w.length || int(tk[1]) != w.typ || int(tk[2])&w.mods != w.mods {
			t.Errorf("token at %d:%d = %v (found %v), want length %d type %s mods %b", w.line, w.char, tk, ok, w.length, tokenTypes[w.typ], w.mods)
		}
	}
}

func TestUnusedIsTaggedUnnecessary(t *testing.T) {
	e := newEnv(t)
	u := e.open("unused.knhk", "package p\n\nworkflow W() {\n  let s = \"é😀\"\n}\n")
	ds := e.diagnostics(u, 1)
	if len(ds) != 1 || ds[0].Range != rng(3, 6, 3, 7) || ds[0].Severity != protocol.DiagnosticSeverityWarning {
		t.Fatalf("diagnostics = %+v", ds)
	}
	if tags := ds[0].Tags.Slice(); len(tags) != 1 || tags[0] != protocol.DiagnosticTagUnnecessary {
		t.Errorf("tags = %v", tags)
	}
}

func TestSignatureHelpQualified(t *testing.T) {
	e := newEnv(t)
	e.write("lib.knhk", "package lib\n\n// send mails é😀.\ntask send(to: string, body: string) exec \"./send\"\n")
	u := e.open("main.knhk", "package p\n\nimport \"./lib.knhk\" as lib\n\nworkflow W() {\n  lib.send(\"a\", \n}\n")
	sh, err := e.srv.SignatureHelp(e.ctx, &protocol.SignatureHelpParams{TextDocumentPositionParams: tdpp(u, pos(5, 16))})
	if err != nil || sh == nil || len(sh.Signatures) != 1 {
		t.Fatalf("signature help = %v, %v", sh, err)
	}
	if sig := sh.Signatures[0]; sig.Label != "send(to: string, body: string)" || len(sig.Parameters) != 2 {
		t.Errorf("signature = %+v", sig)
	}
	if p, _ := sh.ActiveParameter.Get(); p != 1 {
		t.Errorf("active parameter = %d", p)
	}
}

func TestWatchedFileChange(t *testing.T) {
	e, u := openMain(t)
	if ds := e.diagnostics(u, 1); len(ds) != 0 {
		t.Fatalf("main has diagnostics: %v", ds)
	}
	// common.knhk changes on disk (not open): Customer is gone.
	e.write("common.knhk", "package common\n\ntype Client = { name: string }\n")
	if err := e.srv.DidChangeWatchedFiles(e.ctx, &protocol.DidChangeWatchedFilesParams{Changes: []protocol.FileEvent{{URI: uri.File(e.dir + "/common.knhk"), Type: protocol.FileChangeTypeChanged}}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		e.rec.mu.Lock()
		ps := e.rec.diags[u]
		n := len(ps[len(ps)-1].Diagnostics)
		e.rec.mu.Unlock()
		if n > 0 {
			break
		}
		if i > 300 {
			t.Fatal("no diagnostics after the imported file changed on disk")
		}
		sleep()
	}
}
