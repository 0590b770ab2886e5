package server

import (
	"context"
	"runtime"
	"testing"

	"go.lsp.dev/protocol"
)

// TestSemanticTokensMemory bounds what a semantic-tokens request allocates,
// from the request to its JSON answer, once the file's analysis is cached:
// at most 10 times the answer (5 uint32 per token). The server used to
// build a slice of every name, a map of every identifier and a slice of
// every token before encoding them, about 22 times the answer.
func TestSemanticTokensMemory(t *testing.T) {
	s, u := quietServer(t, program(8000))
	s.diag.stop() // nothing else allocates while we measure
	v := s.newView()
	snap, _ := v.snapshot(u)
	a := v.analyze(snap)
	a.index() // built once per analysis, shared by every request
	params := &protocol.SemanticTokensParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := s.SemanticTokensFull(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.Marshal(res); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	tokens := len(res.Data) / 5
	answer := uint64(tokens * 20)
	used := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d tokens: %d bytes allocated, %.2fx the %d-byte answer", tokens, used, float64(used)/float64(answer), answer)
	if tokens < 10000 {
		t.Fatalf("only %d tokens: the program is too small to measure", tokens)
	}
	if used > 10*answer {
		t.Errorf("the request allocated %d bytes, %.1fx its %d-byte answer; want at most 10x", used, float64(used)/float64(answer), answer)
	}
}
