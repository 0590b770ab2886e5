// This file tests that a data directory written by an earlier knhk still
// opens: testdata/compat/v1 was written by the knhk of December 2026
// (KNHK_UPDATE=1 rewrites it, which a change of the value encoding must
// never need). Every event decodes and encodes back to its bytes, a
// completed case reads back its result, and a waiting case resumes and
// completes with the same result.

package host

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { c.t = c.t.Add(time.Millisecond); return c.t }

func TestCompatDataDir(t *testing.T) {
	src, err := os.ReadFile("testdata/compat/values.knhk")
	if err != nil {
		t.Fatal(err)
	}
	p := compile(t, string(src))
	ctx := context.Background()
	newEngine := func(st *store.Store) *engine.Engine {
		eng, err := engine.New(engine.Config{Program: p, Eval: &Evaluator{}, Worker: fakeWorker{}, Log: engine.StoreLog{Store: st},
			Clock: &fixedClock{t: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}, Rounds: true})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	rec := p.Net("W").Params[0].Type
	in := `{"c":"green","d":"1h30m0s","lines":[{"price":2.5,"qty":3,"sku":"a"},{"price":-1,"qty":0,"sku":"b"}],"n":-5,"name":"x","ok":true,"opt":null,"raw":"AAE=","scores":{"a":1.5,"b":-2},"small":-7,"tags":["p","q"],"tiny":0.1,"u":4000000000,"when":"2026-01-02T03:04:05Z"}`
	signal := func(eng *engine.Engine, id string) {
		t.Helper()
		extraT := ir.TypeID(-1)
		for i, ty := range p.Types {
			if ty.Kind == ir.KindList && p.Type(ty.Elem) != nil && p.Type(ty.Elem).Name == "Line" {
				extraT = ir.FirstComposite + ir.TypeID(i)
			}
		}
		extra, err := eval.FromJSON(p, extraT, []byte(`[{"price":9.75,"qty":1,"sku":"z"}]`))
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Signal(ctx, id, "Go", []any{"ann", extra}); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join("testdata", "compat", "v1")
	if os.Getenv("KNHK_UPDATE") != "" {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := eval.FromJSON(p, rec, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		eng := newEngine(st)
		for _, id := range []string{"waiting", "done"} {
			if err := eng.Start(ctx, id, "W", []any{v}); err != nil {
				t.Fatal(err)
			}
		}
		signal(eng, "done")
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A copy: opening a store may write (its lock, a recovered tail).
	tmp := t.TempDir()
	if err := os.CopyFS(tmp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chmod(path, 0o644)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(tmp, store.Options{})
	if err != nil {
		t.Fatalf("the v1 data directory does not open: %v", err)
	}
	defer st.Close()
	events := 0
	if err := st.Scan(ctx, 0, func(r store.Record) error {
		if r.Kind == engine.SnapshotKind {
			return nil
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			t.Errorf("record %d (%s) of case %s does not decode: %v", r.Seq, r.Kind, r.CaseID, err)
			return nil
		}
		b, err := engine.EncodeEvent(ev)
		if err != nil || string(b) != string(r.Payload) {
			t.Errorf("record %d (%s) encodes back as\n%s, %v\nnot\n%s", r.Seq, r.Kind, b, err, r.Payload)
		}
		events++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if events < 8 {
		t.Errorf("%d events in the v1 data directory", events)
	}

	want, err := os.ReadFile("testdata/compat/result.txt")
	if err != nil && os.Getenv("KNHK_UPDATE") == "" {
		t.Fatal(err)
	}
	eng := newEngine(st)
	result := func(id string) string {
		t.Helper()
		s, err := eng.Snapshot(id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != engine.Completed {
			t.Fatalf("case %s is %v (%s), not completed", id, s.Status, s.Error)
		}
		v, err := FromEngine(p, s.Result, p.Net("W").Result)
		if err != nil {
			t.Fatal(err)
		}
		return v.String() + "\n"
	}
	if err := eng.Recover(ctx, "done"); err != nil {
		t.Fatal(err)
	}
	got := result("done")
	if os.Getenv("KNHK_UPDATE") != "" {
		if err := os.WriteFile("testdata/compat/result.txt", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		want = []byte(got)
	}
	if got != string(want) {
		t.Errorf("the completed v1 case's result is\n%s\nwant\n%s", got, want)
	}
	if err := eng.Recover(ctx, "waiting"); err != nil {
		t.Fatal(err)
	}
	signal(eng, "waiting")
	if got := result("waiting"); got != string(want) {
		t.Errorf("the resumed v1 case's result is\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(string(want), "x by ann") {
		t.Errorf("result %s lacks the signalled name", want)
	}
}
