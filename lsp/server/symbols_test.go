package server

import (
	"testing"

	"go.lsp.dev/protocol"
)

// TestWorkspaceSymbolsOpenFileOnce opens a file that is also on disk under
// the workspace folder: its symbols are listed once, from the buffer.
func TestWorkspaceSymbolsOpenFileOnce(t *testing.T) {
	e := newEnv(t)
	e.write("orders.knhk", "package orders\n\ntask ship(id: string) exec \"./ship\"\n")
	u := e.open("orders.knhk", "package orders\n\n// unsaved: one line more\ntask ship(id: string) exec \"./ship\"\n")
	res, err := e.srv.Symbols(e.ctx, &protocol.WorkspaceSymbolParams{Query: "ship"})
	if err != nil {
		t.Fatal(err)
	}
	syms := res.(protocol.SymbolInformationSlice)
	if len(syms) != 1 {
		t.Fatalf("workspace symbols = %+v, want ship once", syms)
	}
	if syms[0].Location.URI != u || syms[0].Location.Range.Start.Line != 3 {
		t.Errorf("ship at %v, want line 3 of the open buffer %s", syms[0].Location, u)
	}
}
