package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/knhk/knhk/server"
)

// TestCommandsOnAServedDirectory: knhk serve writes no DIR/cases/ID.json;
// query, signal and history --data find the start of a case it served
// in its recovery index or, for a case started since the last index,
// in its meta log (on a copy taken while the server ran, as after a
// crash).
func TestCommandsOnAServedDirectory(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func() *server.Service {
		s, err := server.Open(data, server.Options{IndexEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	startIdle := func(s *server.Service, input string) string {
		id, _, err := s.Start(ctx, server.StartRequest{Workflow: "Hold", Input: []byte(input)})
		if err == nil {
			_, _, err = s.Wait(ctx, id, true)
		}
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	s := open()
	if _, err := s.Deploy("hold.knhk", []byte(holdProgram), nil); err != nil {
		t.Fatal(err)
	}
	a := startIdle(s, "1") // in the index the drain writes
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = open()
	b := startIdle(s, "2") // only in the meta log of the copy
	crashed := filepath.Join(t.TempDir(), "crashed")
	if err := os.CopyFS(crashed, os.DirFS(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(crashed, "cases")); !os.IsNotExist(err) {
		t.Fatalf("the server wrote DIR/cases: %v", err)
	}
	for _, c := range []struct{ dir, id, want string }{{data, a, "22\n"}, {data, b, "42\n"}, {crashed, a, "22\n"}, {crashed, b, "42\n"}} {
		code, out, errs := runCLI("query", "--data", c.dir, c.id, "level")
		if code != 0 || out != c.want {
			t.Fatalf("query --data %s %s level: %d %q %q, want %q", c.dir, c.id, code, out, errs, c.want)
		}
	}
	code, out, errs := runCLI("signal", "--data", crashed, b, "Go", "101")
	if code != 0 || out != "122\n" {
		t.Fatalf("signal --data of a case only the meta log knows: %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI("history", "--data", crashed, b)
	if code != 0 || out == "" {
		t.Fatalf("history --data: %d %q %q", code, out, errs)
	}
}
