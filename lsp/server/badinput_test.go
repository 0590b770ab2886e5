package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn speaks the LSP base protocol by hand, to send what no client
// library would.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	r  *bufio.Reader
	tp *textproto.Reader
}

func newRaw(t *testing.T) (*rawConn, chan error) {
	return newRawWith(t, New(Options{Debounce: -1, Logf: t.Logf}))
}

// newRawWith serves s on a raw connection.
func newRawWith(t *testing.T, s *Server) (*rawConn, chan error) {
	a, b := net.Pipe()
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- s.Serve(context.Background(), a, a)
	}()
	r := bufio.NewReader(b)
	rc := &rawConn{t: t, c: b, r: r, tp: textproto.NewReader(r)}
	// Wait for Serve to return, so that nothing it started logs after the
	// test has ended.
	t.Cleanup(func() {
		b.Close()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after the connection closed")
		}
	})
	return rc, done
}

func (rc *rawConn) send(body string) {
	rc.t.Helper()
	_ = rc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(rc.c, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

// recv reads messages until one that is not a notification from the
// server (publishDiagnostics), and returns it decoded.
func (rc *rawConn) recv() map[string]any {
	rc.t.Helper()
	for {
		_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		h, err := rc.tp.ReadMIMEHeader()
		if err != nil {
			rc.t.Fatalf("read header: %v", err)
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil {
			rc.t.Fatalf("bad Content-Length %q", h.Get("Content-Length"))
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(rc.r, body); err != nil {
			rc.t.Fatalf("read body: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			rc.t.Fatalf("server sent invalid JSON %q", body)
		}
		if _, isNote := m["method"]; isNote {
			continue
		}
		return m
	}
}

func errCode(m map[string]any) int {
	e, ok := m["error"].(map[string]any)
	if !ok {
		return 0
	}
	c, _ := e["code"].(float64)
	return int(c)
}

func TestBadInput(t *testing.T) {
	rc, done := newRaw(t)
	rc.send(`{"jsonrpc":"2.0","id":0,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.knhk"},"position":{"line":0,"character":0}}}`)
	if m := rc.recv(); m["id"] != 0.0 || errCode(m) != -32002 {
		t.Fatalf("request before initialize: %v", m)
	}
	rc.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
	if m := rc.recv(); m["id"] != 1.0 || m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	rc.send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	rc.send(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///w/a.knhk","languageId":"knhk","version":1,"text":"package p\nworkflow W( {\n"}}}`)

	steps := []struct {
		name, body string
		id         any // the id the answer must carry
		code       int // 0: a result (possibly null) is expected
		nullResult bool
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":2,"method":`, nil, -32700, false},
		{"not an object", `[1,2`, nil, -32700, false},
		{"a bare number", `42`, nil, -32600, false},
		{"wrong version", `{"jsonrpc":"1.0","id":3,"method":"shutdown"}`, 3.0, -32600, false},
		{"unknown method", `{"jsonrpc":"2.0","id":4,"method":"knhk/nonsense","params":{}}`, 4.0, -32601, false},
		{"unknown notification", `{"jsonrpc":"2.0","method":"knhk/nonsense","params":{}}`, nil, 0, false},
		{"params of the wrong shape", `{"jsonrpc":"2.0","id":5,"method":"textDocument/hover","params":{"textDocument":7}}`, 5.0, 0, false},
		{"unopened file", `{"jsonrpc":"2.0","id":6,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/none.knhk"},"position":{"line":0,"character":0}}}`, 6.0, 0, true},
		{"change to unopened file", `{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"file:///w/none.knhk","version":2},"contentChanges":[{"text":"x"}]}}`, nil, 0, false},
		{"line out of range", `{"jsonrpc":"2.0","id":7,"method":"textDocument/definition","params":{"textDocument":{"uri":"file:///w/a.knhk"},"position":{"line":900,"character":0}}}`, 7.0, 0, true},
		{"character out of range", `{"jsonrpc":"2.0","id":8,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.knhk"},"position":{"line":1,"character":4000}}}`, 8.0, 0, true},
		{"file that does not parse", `{"jsonrpc":"2.0","id":9,"method":"textDocument/documentSymbol","params":{"textDocument":{"uri":"file:///w/a.knhk"}}}`, 9.0, 0, false},
		{"completion in a broken file", `{"jsonrpc":"2.0","id":10,"method":"textDocument/completion","params":{"textDocument":{"uri":"file:///w/a.knhk"},"position":{"line":1,"character":12}}}`, 10.0, 0, false},
		{"second initialize", `{"jsonrpc":"2.0","id":12,"method":"initialize","params":{"capabilities":{}}}`, 12.0, -32600, false},
		{"rename out of range", `{"jsonrpc":"2.0","id":11,"method":"textDocument/rename","params":{"textDocument":{"uri":"file:///w/a.knhk"},"position":{"line":50,"character":0},"newName":"x"}}`, 11.0, -32602, false},
	}
	for _, st := range steps {
		rc.send(st.body)
		isNote := !strings.Contains(st.body, `"id"`) && st.code == 0
		if isNote {
			continue
		}
		m := rc.recv()
		if fmt.Sprint(m["id"]) != fmt.Sprint(st.id) {
			t.Errorf("%s: answer id = %v, want %v (%v)", st.name, m["id"], st.id, m)
		}
		switch {
		case st.code == 0 && st.name == "params of the wrong shape":
			if errCode(m) == 0 {
				t.Errorf("%s: no error: %v", st.name, m)
			}
		case st.code != 0:
			if errCode(m) != st.code {
				t.Errorf("%s: error code = %d, want %d (%v)", st.name, errCode(m), st.code, m)
			}
		default:
			if errCode(m) != 0 {
				t.Errorf("%s: error %v", st.name, m["error"])
			}
			if _, has := m["result"]; !has {
				t.Errorf("%s: no result: %v", st.name, m)
			}
			if st.nullResult && m["result"] != nil {
				t.Errorf("%s: result = %v, want null", st.name, m["result"])
			}
		}
	}
	// After all that the server still serves.
	rc.send(`{"jsonrpc":"2.0","id":20,"method":"textDocument/documentSymbol","params":{"textDocument":{"uri":"file:///w/a.knhk"}}}`)
	if m := rc.recv(); m["id"] != 20.0 || errCode(m) != 0 {
		t.Fatalf("server stopped serving: %v", m)
	}
	rc.send(`{"jsonrpc":"2.0","id":21,"method":"shutdown"}`)
	if m := rc.recv(); m["id"] != 21.0 || errCode(m) != 0 {
		t.Fatalf("shutdown: %v", m)
	}
	rc.send(`{"jsonrpc":"2.0","id":22,"method":"textDocument/documentSymbol","params":{"textDocument":{"uri":"file:///w/a.knhk"}}}`)
	if m := rc.recv(); m["id"] != 22.0 || errCode(m) != -32600 {
		t.Fatalf("request after shutdown: %v", m)
	}
	rc.send(`{"jsonrpc":"2.0","method":"exit"}`)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after exit")
	}
}

func TestEOFEndsServe(t *testing.T) {
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- New(Options{}).Serve(context.Background(), a, a) }()
	b.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve at EOF: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return at EOF")
	}
}

func TestExitWithoutShutdown(t *testing.T) {
	rc, done := newRaw(t)
	rc.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
	rc.recv()
	rc.send(`{"jsonrpc":"2.0","method":"exit"}`)
	select {
	case err := <-done:
		if err != ErrExitWithoutShutdown {
			t.Errorf("Serve = %v, want ErrExitWithoutShutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after exit")
	}
}
