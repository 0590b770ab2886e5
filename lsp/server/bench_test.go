package server

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// program returns a valid file of about n lines.
func program(n int) string {
	var b strings.Builder
	b.WriteString("package big\n\n// Item is one line of an order, é😀.\ntype Item = { sku: string, qty: int }\n\n")
	for i := 0; b.Len() == 0 || strings.Count(b.String(), "\n") < n-9; i++ {
		fmt.Fprintf(&b, "// t%d does step %d.\ntask t%d(x: string) -> string exec \"./bin/t\"\n\n", i, i, i)
		fmt.Fprintf(&b, "workflow W%d(o: string) -> string {\n  let a = t%d(o)\n  let b = t%d(a)\n  return a + b\n}\n\n", i, i, i)
	}
	return b.String()
}

// quietServer is a server with no connection, for measuring the analysis.
func quietServer(tb testing.TB, src string) (*Server, uri.URI) {
	s := New(Options{Debounce: time.Hour})
	u := uri.File("/bench/big.knhk")
	ctx := context.Background()
	if err := s.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: u, Version: 1, Text: src}}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.diag.stop)
	return s, u
}

// edit toggles a character in the first comment: the file stays valid
// and every version differs from the one before.
func edit(tb testing.TB, s *Server, u uri.URI, version int32) {
	text := "x"
	r := protocol.Range{Start: pos(2, 3), End: pos(2, 3)}
	if version%2 == 1 {
		text, r.End = "", pos(2, 4)
	}
	err := s.DidChange(context.Background(), &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: r, Text: text}},
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkDiagnostics5000 measures one edit of a 5,000-line file and the
// diagnostics for it: applying the change, parsing, checking and
// converting to LSP diagnostics (the debounce delay is excluded).
func BenchmarkDiagnostics5000(b *testing.B) {
	src := program(5000)
	if n := strings.Count(src, "\n"); n < 4990 || n > 5010 {
		b.Fatalf("program has %d lines", n)
	}
	s, u := quietServer(b, src)
	snap, _ := s.newView().snapshot(u)
	if ds := s.newView().diagnose(snap); len(ds) != 0 {
		b.Fatalf("the benchmark program has diagnostics: %v", ds[0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		edit(b, s, u, int32(i+2))
		snap, err := s.newView().snapshot(u)
		if err != nil {
			b.Fatal(err)
		}
		if ds := s.newView().diagnose(snap); len(ds) != 0 {
			b.Fatal(ds)
		}
	}
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryStable checks that the server does not keep what it computed
// for old versions: the heap after 10,000 edits (each analysed, as hover
// or diagnostics would) is less than twice the heap after 1,000.
func TestMemoryStable(t *testing.T) {
	edits := 10000
	if testing.Short() {
		edits = 2000
	}
	s, u := quietServer(t, program(60))
	var at1000 uint64
	for i := 1; i <= edits; i++ {
		edit(t, s, u, int32(i+1))
		snap, _ := s.newView().snapshot(u)
		if a := s.newView().analyze(snap); len(a.diags) != 0 {
			t.Fatalf("edit %d: %v", i, a.diags[0])
		}
		if i == 1000 {
			at1000 = heapAfterGC()
		}
	}
	end := heapAfterGC()
	t.Logf("heap after 1000 edits: %d KiB; after %d: %d KiB (growth %.2fx)", at1000/1024, edits, end/1024, float64(end)/float64(at1000))
	if end >= 2*at1000 {
		t.Errorf("heap grew from %d KiB after 1000 edits to %d KiB after %d", at1000/1024, end/1024, edits)
	}
}

// BenchmarkSemanticTokens5000 measures semantic tokens for a 5,000-line
// file whose analysis is cached, as after diagnostics.
func BenchmarkSemanticTokens5000(b *testing.B) {
	s, u := quietServer(b, program(5000))
	v := s.newView()
	snap, _ := v.snapshot(u)
	a := v.analyze(snap)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if toks := a.semanticTokens(); len(toks) == 0 {
			b.Fatal("no tokens")
		}
	}
}

// programBytes returns a valid file of about n bytes.
func programBytes(n int) string {
	lines := n / 40
	for {
		src := program(lines)
		if len(src) >= n {
			return src
		}
		lines = lines * n / len(src) * 11 / 10
	}
}

// BenchmarkSemanticTokens2MB measures the memory of a semantic-tokens
// request on a 2 MB file, from the request to its JSON answer, with the
// file's analysis cached (diagnostics computed it after didOpen, and the
// request shares it). The baseline is the answer itself: the token data
// the LSP wants, 5 uint32 (20 bytes) per token. It reports the bytes the
// request allocates per token and their ratio to the answer's size.
func BenchmarkSemanticTokens2MB(b *testing.B) {
	src := programBytes(2 << 20)
	s, u := quietServer(b, src)
	v := s.newView()
	snap, _ := v.snapshot(u)
	if a := v.analyze(snap); len(a.diags) != 0 {
		b.Fatal(a.diags[0])
	}
	params := &protocol.SemanticTokensParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}}
	ctx := context.Background()
	var tokens int
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.SemanticTokensFull(ctx, params)
		if err != nil {
			b.Fatal(err)
		}
		wire, err := protocol.Marshal(res)
		if err != nil || len(wire) == 0 {
			b.Fatal(err)
		}
		tokens = len(res.Data) / 5
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	perOp := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
	answer := float64(tokens * 20)
	b.ReportMetric(float64(tokens), "tokens")
	b.ReportMetric(perOp/float64(tokens), "B/token")
	b.ReportMetric(perOp/answer, "ratio-to-answer")
	b.Logf("%d-byte file, %d tokens: the request allocates %.1f MB, %.1f bytes per token, %.2fx the %.1f MB answer",
		len(src), tokens, perOp/(1<<20), perOp/float64(tokens), perOp/answer, answer/(1<<20))
}
