package lsp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lsp"
)

// agreeFiles are programs whose diagnostics the editor and knhk check must
// agree on: a deadlock (a K429 error with its trace), a cancel region that
// does nothing (a K429 warning), a type error (no soundness check at all)
// and a clean file.
var agreeFiles = map[string]string{
	"unsound.knhk": `package unsound

task draft(id: string) -> bool exec "./draft"
task legal(id: string) exec "./legal"
task brand(id: string) exec "./brand"
task publish(id: string) exec "./publish"

workflow Release(id: string) {
  flow {
    step d = draft(id)
    step l = legal(id)
    step b = brand(id)
    step p = publish(id)
    start -> d
    d -> l when d
    d -> b when !d
    l, b -> p join all
    p -> end
  }
}
`,
	"idle.knhk": `package idle

task notify(n: int) exec "./notify"

workflow After(n: int) {
  region job {
    notify(n)
  }
  select {
    on signal Stop -> cancel region job
    on timer 1h -> {}
  }
}
`,
	"typeerr.knhk": `package typeerr

task a(n: int) -> int exec "./a"

workflow W(n: int) -> int {
  let x = a("n")
  return x
}
`,
	"clean.knhk": `package clean

task a(n: int) -> int exec "./a"

workflow W(n: int) -> int {
  return a(n)
}
`,
}

// agreed is a diagnostic reduced to what both sides report: 1-based
// position, severity, code, message and the related locations' messages.
type agreed struct {
	Line, Column, EndLine, EndColumn int
	Severity, Code, Message          string
	Related                          string
}

// TestEditorAgreesWithCheck checks each file with knhk check --json and
// with the language server, and requires the same diagnostics, soundness
// errors included.
func TestEditorAgreesWithCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds knhk")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "knhk")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/knhk/knhk/cmd/knhk").CombinedOutput(); err != nil {
		t.Fatalf("go build knhk: %v\n%s", err, out)
	}
	c := startClient(t, dir)
	var names []string
	for name, text := range agreeFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	sawUnsound := false
	for _, name := range names {
		want := checkJSON(t, bin, dir, name)
		for _, d := range want {
			sawUnsound = sawUnsound || d.Code == "K429" && d.Severity == "error"
		}
		got := c.open(t, filepath.Join(dir, name), agreeFiles[name], want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\nknhk check: %v\nserver:     %v", name, want, got)
		}
	}
	if !sawUnsound {
		t.Fatal("knhk check reported no K429 error: the test no longer covers soundness")
	}
}

// checkJSON runs knhk check --json on name in dir.
func checkJSON(t *testing.T, bin, dir, name string) []agreed {
	t.Helper()
	cmd := exec.Command(bin, "check", "--json", name)
	cmd.Dir = dir
	out, err := cmd.Output()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("knhk check: %v", err)
	}
	var ds []struct {
		Line, Column, EndLine, EndColumn int
		Severity, Code, Message          string
		Related                          []struct{ Message string }
	}
	if err := json.Unmarshal(out, &ds); err != nil {
		t.Fatalf("knhk check --json %s: %v\n%s", name, err, out)
	}
	var res []agreed
	for _, d := range ds {
		var rel []string
		for _, r := range d.Related {
			rel = append(rel, r.Message)
		}
		res = append(res, agreed{d.Line, d.Column, d.EndLine, d.EndColumn, d.Severity, d.Code, d.Message, strings.Join(rel, "; ")})
	}
	sortAgreed(res)
	return res
}

func sortAgreed(ds []agreed) {
	sort.Slice(ds, func(i, j int) bool { return fmt.Sprint(ds[i]) < fmt.Sprint(ds[j]) })
}

// client is a minimal LSP client over an in-process server.
type client struct {
	protocol.UnimplementedClient
	srv  protocol.Server
	ctx  context.Context
	mu   sync.Mutex
	cond *sync.Cond
	pubs map[uri.URI][][]protocol.Diagnostic
}

func (c *client) PublishDiagnostics(ctx context.Context, p *protocol.PublishDiagnosticsParams) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pubs[p.URI] = append(c.pubs[p.URI], p.Diagnostics)
	c.cond.Broadcast()
	return nil
}

func (c *client) LogMessage(ctx context.Context, p *protocol.LogMessageParams) error { return nil }

// startClient serves lsp.Serve on a pipe and initializes it with UTF-8
// positions, so that columns are bytes as in knhk check.
func startClient(t *testing.T, root string) *client {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- lsp.Serve(ctx, a, a) }()
	c := &client{ctx: ctx, pubs: map[uri.URI][][]protocol.Diagnostic{}}
	c.cond = sync.NewCond(&c.mu)
	_, conn, srv := protocol.NewClient(ctx, c, jsonrpc2.NewStream(b))
	c.srv = srv
	t.Cleanup(func() {
		_ = srv.Shutdown(ctx)
		_ = srv.Exit(ctx)
		<-done
		cancel()
		conn.Close()
	})
	ru := uri.File(root)
	caps := protocol.ClientCapabilities{General: &protocol.GeneralClientCapabilities{PositionEncodings: []protocol.PositionEncodingKind{protocol.PositionEncodingKindUTF8}}}
	if _, err := srv.Initialize(ctx, &protocol.InitializeParams{RootURI: &ru, Capabilities: caps}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Initialized(ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// open opens path and returns its diagnostics once they equal want (the
// soundness diagnostics may follow the type checker's in a second publish),
// or the last ones published when that does not happen within 20 s.
func (c *client) open(t *testing.T, path, text string, want []agreed) []agreed {
	t.Helper()
	u := uri.File(path)
	err := c.srv.DidOpen(c.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: u, LanguageID: "knhk", Version: 1, Text: text}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	var last []agreed
	for {
		if n := len(c.pubs[u]); n > 0 {
			last = fromLSP(c.pubs[u][n-1])
			if fmt.Sprint(last) == fmt.Sprint(want) {
				return last
			}
		}
		if time.Now().After(deadline) {
			return last
		}
		go func() { time.Sleep(20 * time.Millisecond); c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() }()
		c.cond.Wait()
	}
}

func fromLSP(ds []protocol.Diagnostic) []agreed {
	var res []agreed
	for _, d := range ds {
		sev := "error"
		if d.Severity == protocol.DiagnosticSeverityWarning {
			sev = "warning"
		}
		code, _ := d.Code.(protocol.String)
		msg, _ := d.Message.(protocol.String)
		var rel []string
		for _, r := range d.RelatedInformation {
			rel = append(rel, r.Message)
		}
		res = append(res, agreed{int(d.Range.Start.Line) + 1, int(d.Range.Start.Character) + 1, int(d.Range.End.Line) + 1, int(d.Range.End.Character) + 1,
			sev, string(code), string(msg), strings.Join(rel, "; ")})
	}
	sortAgreed(res)
	return res
}
