// This file tests "knhk run" on the hello example, the command line the
// README starts with.

package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunHelloExample(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join("..", "..", "examples", "hello.knhk")
	input := filepath.Join("..", "..", "examples", "inputs", "hello.json")
	type greeting struct {
		Lines    []string
		Previous string
		Ticket   string
	}
	runHello := func(args ...string) greeting {
		t.Helper()
		var out, errb strings.Builder
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
		if code := run(e, append([]string{"run", "--data", data}, append(args, file)...)); code != exitOK {
			t.Fatalf("exit %d\n%s", code, errb.String())
		}
		if !strings.Contains(errb.String(), "hello, Ada") && strings.Contains(strings.Join(args, " "), "hello.json") {
			t.Errorf("stderr lacks the log line:\n%s", errb.String())
		}
		var g greeting
		if err := json.Unmarshal([]byte(out.String()), &g); err != nil {
			t.Fatalf("stdout %q: %v", out.String(), err)
		}
		return g
	}
	g := runHello("--input", input)
	if strings.Join(g.Lines, "|") != "hello, Ada|hello, Grace|hello, Linus" || g.Previous != "nobody" || len(g.Ticket) != 64 {
		t.Errorf("first run = %+v", g)
	}
	// The second run in the same data directory sees what the first one
	// stored with std/kv.
	g = runHello("--input-json", `{"names":["zoe"],"style":"loud"}`)
	if strings.Join(g.Lines, "|") != "ZOE" || g.Previous != "Ada, Grace, Linus" {
		t.Errorf("second run = %+v", g)
	}
}
