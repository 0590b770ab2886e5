// This file implements the in-process test harness: a server and a
// protocol client joined by net.Pipe.

package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lang/format"
)

// recorder is the test's LSP client: it records published diagnostics.
type recorder struct {
	protocol.UnimplementedClient
	mu    sync.Mutex
	cond  *sync.Cond
	diags map[uri.URI][]*protocol.PublishDiagnosticsParams
}

func (r *recorder) PublishDiagnostics(ctx context.Context, p *protocol.PublishDiagnosticsParams) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := *p
	cp.Diagnostics = append([]protocol.Diagnostic(nil), p.Diagnostics...)
	r.diags[p.URI] = append(r.diags[p.URI], &cp)
	r.cond.Broadcast()
	return nil
}

func (r *recorder) LogMessage(ctx context.Context, p *protocol.LogMessageParams) error { return nil }

type env struct {
	t      *testing.T
	ctx    context.Context
	s      *Server
	srv    protocol.Server
	rec    *recorder
	dir    string
	done   chan error
	cancel context.CancelFunc
}

// newEnv starts a server and an initialized client; encodings lists the
// position encodings the client offers.
func newEnv(t *testing.T, encodings ...protocol.PositionEncodingKind) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	a, b := net.Pipe()
	s := New(Options{Format: format.Bytes, Debounce: 5 * time.Millisecond, Logf: t.Logf})
	e := &env{t: t, ctx: ctx, s: s, dir: t.TempDir(), done: make(chan error, 1), cancel: cancel}
	go func() { e.done <- s.Serve(ctx, a, a) }()
	e.rec = &recorder{diags: map[uri.URI][]*protocol.PublishDiagnosticsParams{}}
	e.rec.cond = sync.NewCond(&e.rec.mu)
	_, conn, srv := protocol.NewClient(ctx, e.rec, jsonrpc2.NewStream(b))
	e.srv = srv
	t.Cleanup(func() {
		_ = e.srv.Shutdown(ctx)
		_ = e.srv.Exit(ctx)
		select {
		case err := <-e.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after exit")
		}
		cancel()
		conn.Close()
	})
	caps := protocol.ClientCapabilities{}
	if len(encodings) > 0 {
		caps.General = &protocol.GeneralClientCapabilities{PositionEncodings: encodings}
	}
	root := uri.File(e.dir)
	res, err := srv.Initialize(ctx, &protocol.InitializeParams{RootURI: &root, Capabilities: caps})
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	want := protocol.PositionEncodingKindUTF16
	for _, enc := range encodings {
		if enc == protocol.PositionEncodingKindUTF8 {
			want = enc
		}
	}
	if res.Capabilities.PositionEncoding != want {
		t.Fatalf("positionEncoding = %q, want %q", res.Capabilities.PositionEncoding, want)
	}
	if err := srv.Initialized(ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// write puts a file on disk in the test directory and returns its URI.
func (e *env) write(name, text string) uri.URI {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return uri.File(p)
}

// open opens name with text (without writing it to disk).
func (e *env) open(name, text string) uri.URI {
	e.t.Helper()
	u := uri.File(filepath.Join(e.dir, name))
	err := e.srv.DidOpen(e.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: u, LanguageID: "knhk", Version: 1, Text: text}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sync()
	return u
}

// sync waits until the server has handled every message sent so far:
// requests are handled in order, so one round trip suffices.
func (e *env) sync() {
	e.t.Helper()
	if _, err := e.srv.FoldingRanges(e.ctx, &protocol.FoldingRangeParams{TextDocument: protocol.TextDocumentIdentifier{URI: "file:///sync"}}); err != nil {
		e.t.Fatalf("sync: %v", err)
	}
}

// change sends one incremental change.
func (e *env) change(u uri.URI, version int32, r protocol.Range, text string) {
	e.t.Helper()
	err := e.srv.DidChange(e.ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{Range: r, Text: text}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sync()
}

// diagnostics waits for the diagnostics of version of u.
func (e *env) diagnostics(u uri.URI, version int32) []protocol.Diagnostic {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	r := e.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for _, p := range r.diags[u] {
			if v, ok := p.Version.Get(); ok && v == version {
				return p.Diagnostics
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no diagnostics for %s version %d", u, version)
		}
		go func() { time.Sleep(20 * time.Millisecond); r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() }()
		r.cond.Wait()
	}
}

func (e *env) content(u uri.URI) string {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return string(e.s.docs[u].content)
}

func pos(line, char uint32) protocol.Position { return protocol.Position{Line: line, Character: char} }

func rng(l1, c1, l2, c2 uint32) protocol.Range {
	return protocol.Range{Start: pos(l1, c1), End: pos(l2, c2)}
}

func tdpp(u uri.URI, p protocol.Position) protocol.TextDocumentPositionParams {
	return protocol.TextDocumentPositionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: p}
}

func sleep() { time.Sleep(10 * time.Millisecond) }
