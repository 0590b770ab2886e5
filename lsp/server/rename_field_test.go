package server

import (
	"sort"
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lsp/mapper"
)

const fieldSrc = `package p

type Order = { id: string, qty: int }

fn total(o: Order) -> int = o.qty

workflow W() -> string {
  let x = { id: "a", qty: 2 }
  let y: Order = { id: "b", qty: 1 }
  let n = total(x) + total(y)
  return x.id + y.id + string(n)
}
`

// applyEdits applies LSP edits of one file (UTF-16 positions).
func applyEdits(t *testing.T, src string, edits []protocol.TextEdit) string {
	t.Helper()
	sort.Slice(edits, func(i, j int) bool {
		a, b := edits[i].Range.Start, edits[j].Range.Start
		return a.Line > b.Line || a.Line == b.Line && a.Character > b.Character
	})
	out := []byte(src)
	for _, ed := range edits {
		next, err := applyChanges(out, []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: ed.Range, Text: ed.NewText}}, mapper.UTF16)
		if err != nil {
			t.Fatal(err)
		}
		out = next
	}
	return string(out)
}

// TestRenameFieldRenamesLiterals renames a record field: the untyped
// record literal whose value is passed as that record, and the selector
// on it, are renamed too, so that the file still checks.
func TestRenameFieldRenamesLiterals(t *testing.T) {
	e := newEnv(t)
	u := e.open("order.knhk", fieldSrc)
	if ds := e.diagnostics(u, 1); len(errorsOf(ds)) != 0 {
		t.Fatalf("the test program has errors: %v", ds)
	}
	edit, err := e.srv.Rename(e.ctx, &protocol.RenameParams{TextDocumentPositionParams: tdpp(u, pos(2, 16)), NewName: "key"})
	if err != nil {
		t.Fatal(err)
	}
	got := applyEdits(t, fieldSrc, edit.Changes[u])
	want := strings.NewReplacer(`{ id:`, `{ key:`, `x.id`, `x.key`, `y.id`, `y.key`).Replace(fieldSrc)
	if got != want {
		t.Fatalf("after rename:\n%s\nwant:\n%s", got, want)
	}
	e.change(u, 2, rng(0, 0, 12, 0), got)
	if ds := errorsOf(e.diagnostics(u, 2)); len(ds) != 0 {
		t.Errorf("the renamed file does not check: %v", ds)
	}
}

// TestRenameFieldRefusesWhatItCannotFollow renames a field of a record
// whose values also come from another declared record type: renaming only
// one would break the file, so the rename is refused with the reason.
func TestRenameFieldRefusesWhatItCannotFollow(t *testing.T) {
	e := newEnv(t)
	src := fieldSrc + "\ntype Item = { id: string, qty: int }\n\nfn each(i: Item) -> int = total(i)\n"
	u := e.open("order.knhk", src)
	if ds := e.diagnostics(u, 1); len(errorsOf(ds)) != 0 {
		t.Fatalf("the test program has errors: %v", ds)
	}
	_, err := e.srv.Rename(e.ctx, &protocol.RenameParams{TextDocumentPositionParams: tdpp(u, pos(2, 16)), NewName: "key"})
	if err == nil || !strings.Contains(err.Error(), "cannot rename id to key") || !strings.Contains(err.Error(), "order.knhk:16:33: cannot use i (type Item) as Order") {
		t.Fatalf("rename = %v, want a refusal that names the call it would break", err)
	}
}

func errorsOf(ds []protocol.Diagnostic) []protocol.Diagnostic {
	var out []protocol.Diagnostic
	for _, d := range ds {
		if d.Severity == protocol.DiagnosticSeverityError {
			out = append(out, d)
		}
	}
	return out
}
