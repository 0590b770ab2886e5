package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func frame(msgs ...string) string {
	var sb strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&sb, "Content-Length: %d\r\n\r\n%s", len(m), m)
	}
	return sb.String()
}

// TestLSPCommand drives "knhk lsp" through initialize, a document with an
// error, shutdown and exit, and checks the replies and the exit code.
func TestLSPCommand(t *testing.T) {
	in := frame(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}`,
		`{"jsonrpc":"2.0","method":"initialized","params":{}}`,
		`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///tmp/a.knhk","languageId":"knhk","version":1,"text":"package a\nfn f() -> int = g\n"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///tmp/a.knhk"},"position":{"line":1,"character":3}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"shutdown","params":null}`,
		`{"jsonrpc":"2.0","method":"exit","params":null}`,
	)
	var stdout, stderr bytes.Buffer
	code := run(&env{stdin: strings.NewReader(in), stdout: &stdout, stderr: &stderr}, []string{"lsp"})
	if code != exitOK {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{`"id":1`, `"capabilities"`, `"id":2`, `fn f() -> int`, `"id":3`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

// TestLSPExitWithoutShutdown checks the exit code the LSP spec asks for.
func TestLSPExitWithoutShutdown(t *testing.T) {
	in := frame(`{"jsonrpc":"2.0","method":"exit","params":null}`)
	var stdout, stderr bytes.Buffer
	if code := run(&env{stdin: strings.NewReader(in), stdout: &stdout, stderr: &stderr}, []string{"lsp"}); code != exitUser {
		t.Fatalf("exit code %d, want %d", code, exitUser)
	}
}
