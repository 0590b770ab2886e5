package server

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// framed joins messages into one stream of Content-Length frames.
func framed(msgs ...string) string {
	var sb strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&sb, "Content-Length: %d\r\n\r\n%s", len(m), m)
	}
	return sb.String()
}

// TestShutdownAnswersEarlierRequests sends a hover, shutdown and exit in
// one go, with the input ending right after exit, as "knhk lsp" under a
// script sees it. The hover runs concurrently and its answer is written
// after its handler returns; shutdown must wait for that write, or exit
// closes the stream first and the hover is never answered. The race is
// narrow, so the session is repeated.
func TestShutdownAnswersEarlierRequests(t *testing.T) {
	in := framed(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`,
		`{"jsonrpc":"2.0","method":"initialized","params":{}}`,
		`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///tmp/a.knhk","languageId":"knhk","version":1,"text":"package a\nfn f() -> int = 1\n"}}}`,
		`{"jsonrpc":"2.0","id":"h","method":"textDocument/hover","params":{"textDocument":{"uri":"file:///tmp/a.knhk"},"position":{"line":1,"character":3}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"shutdown","params":null}`,
		`{"jsonrpc":"2.0","method":"exit","params":null}`,
	)
	for i := range 300 {
		var out bytes.Buffer
		s := New(Options{})
		if err := s.Serve(context.Background(), strings.NewReader(in), &out); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		got := out.String()
		h, sd := strings.Index(got, `"id":"h"`), strings.Index(got, `"id":3`)
		if h < 0 || sd < 0 || h > sd {
			t.Fatalf("session %d: the hover is not answered before shutdown:\n%s", i, got)
		}
		if !strings.Contains(got, "fn f() -> int") {
			t.Fatalf("session %d: the hover's answer lacks the signature:\n%s", i, got)
		}
	}
}

func TestAnswerID(t *testing.T) {
	for _, c := range []struct {
		msg  string
		key  string
		isOK bool
	}{
		{`{"jsonrpc":"2.0","id":7,"result":null}`, "n7", true},
		{`{"jsonrpc":"2.0","id":"x,\"y","error":{"code":1,"message":"m"}}`, `sx,"y`, true},
		{`{"jsonrpc":"2.0","result":{"a":[1,2]},"id":9}`, "n9", true},
		{`{"jsonrpc":"2.0","id":4,"method":"workspace/configuration","params":{}}`, "", false},
		{`{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{}}`, "", false},
		{`not json`, "", false},
	} {
		key, ok := answerID([]byte(c.msg))
		if key != c.key || ok != c.isOK {
			t.Errorf("answerID(%s) = %q, %v; want %q, %v", c.msg, key, ok, c.key, c.isOK)
		}
	}
}
