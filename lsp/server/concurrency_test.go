package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// slowHovers makes every hover request wait until release is closed or
// the request is cancelled; cancelled receives the ids of those cancelled.
func slowHovers(s *Server) (release chan struct{}, cancelled chan jsonrpc2.ID) {
	release, cancelled = make(chan struct{}), make(chan jsonrpc2.ID, 8)
	s.testHook = func(ctx context.Context, req *jsonrpc2.Request) {
		if req.Method() != "textDocument/hover" {
			return
		}
		select {
		case <-release:
		case <-ctx.Done():
			cancelled <- req.ID()
		}
	}
	return release, cancelled
}

func initRaw(rc *rawConn, text string) {
	rc.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
	rc.recv()
	rc.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	rc.send(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///w/a.knhk","languageId":"knhk","version":1,"text":` + text + `}}}`)
}

// TestSlowRequestBlocksNothing holds a hover while an edit and another
// request go through; the hover, when it finishes, answers for the text it
// was asked about, not the text the edit left.
func TestSlowRequestBlocksNothing(t *testing.T) {
	s := New(Options{Debounce: -1, Logf: t.Logf})
	release, _ := slowHovers(s)
	rc, _ := newRawWith(t, s)
	initRaw(rc, `"package p\n\nfn width() -> int = 1\n"`)

	rc.send(`{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.knhk"},"position":{"line":2,"character":4}}}`)
	// Rename width to height: same length, so the hover position still
	// lands on the name.
	rc.send(`{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///w/a.knhk","version":2},"contentChanges":[{"range":{"start":{"line":2,"character":3},"end":{"line":2,"character":8}},"text":"hight"}]}}`)
	rc.send(symbolsRequest(3))
	m := rc.recv()
	if m["id"] != 3.0 || !strings.Contains(mustJSON(t, m["result"]), `"hight"`) {
		t.Fatalf("while a hover was running: got %v, want the symbols of the edited text", m)
	}
	close(release)
	m = rc.recv()
	if m["id"] != 2.0 || !strings.Contains(mustJSON(t, m["result"]), "width") {
		t.Fatalf("the held hover answered %v, want the text before the edit", m)
	}
}

// TestCancelRequest cancels a running hover: it is answered with
// RequestCancelled at once, its context is cancelled, and the server goes
// on serving.
func TestCancelRequest(t *testing.T) {
	s := New(Options{Debounce: -1, Logf: t.Logf})
	_, cancelled := slowHovers(s)
	rc, _ := newRawWith(t, s)
	initRaw(rc, `"package p\n\nfn width() -> int = 1\n"`)

	rc.send(`{"jsonrpc":"2.0","id":"h1","method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.knhk"},"position":{"line":2,"character":4}}}`)
	rc.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"h1"}}`)
	if m := rc.recv(); m["id"] != "h1" || errCode(m) != -32800 {
		t.Fatalf("cancelled hover: got %v, want RequestCancelled (-32800)", m)
	}
	select {
	case id := <-cancelled:
		if v, _ := id.StringValue(); v != "h1" {
			t.Errorf("cancelled %v, want h1", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hover's context was not cancelled")
	}
	// Cancelling what is finished or unknown is harmless.
	rc.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":99}}`)
	rc.send(symbolsRequest(4))
	if m := rc.recv(); m["id"] != 4.0 || errCode(m) != 0 {
		t.Fatalf("after a cancel: %v", m)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConcurrentRequests runs many read requests at once on one document
// while it is being edited: run with -race, it checks that requests share
// analyses and views without data races, and every request is answered.
func TestConcurrentRequests(t *testing.T) {
	e, u := openMain(t)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				p := tdpp(u, pos(16, 7))
				if _, err := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: p}); err != nil {
					errs <- err
				}
				if _, err := e.srv.Completion(e.ctx, &protocol.CompletionParams{TextDocumentPositionParams: p}); err != nil {
					errs <- err
				}
				if _, err := e.srv.SemanticTokensFull(e.ctx, &protocol.SemanticTokensParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}}); err != nil {
					errs <- err
				}
				if _, err := e.srv.References(e.ctx, &protocol.ReferenceParams{TextDocumentPositionParams: p}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for v := int32(2); v < 12; v++ {
		// Insert and remove a comment line at the top, keeping positions.
		if v%2 == 0 {
			e.change(u, v, rng(0, 0, 0, 0), "// x\n")
		} else {
			e.change(u, v, rng(0, 0, 1, 0), "")
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := e.content(u); got != mainSrc {
		t.Errorf("after the edits the document differs from the original")
	}
}
