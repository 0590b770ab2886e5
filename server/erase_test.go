package server

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/engine"
)

// openShredded opens a Service over dir with crypto-shredding wired as
// knhk serve wires it (cmd/knhk/erase.go): Shred on the engines' logs,
// the keys at the store's seal and open hooks, the keys as Erasure.
func openShredded(t *testing.T, dir string) *Service {
	t.Helper()
	keys, err := audit.Enable(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{IndexEvery: -1, Erasure: keys}
	o.LogFor = func(log engine.EventLog, _ string) engine.EventLog { return audit.Shred(log, keys) }
	o.Store.OpenPayload, o.Store.SealPayload = keys.OpenRecord, keys.SealRecord
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dirHolds(dir, s string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			found = found || bytes.Contains(b, []byte(s))
		}
		return nil
	})
	return found
}

// TestEraseService: a completed case's result is encrypted in the index
// and read back after a restart; a case parked (its snapshot saved beside the engine)
// and recovered after a restart reads and answers its query from the
// encrypted log; an erased case's history, query and export are refused
// with the erasure's message, its summary keeps no result, a running
// case refuses its erasure, and EraseAll takes the rest; no input or
// result is left in clear in the directory.
func TestEraseService(t *testing.T) {
	dir := t.TempDir()
	s := openShredded(t, dir)
	deploy(t, s)
	ctx := context.Background()
	done := start(t, s, "Hold", `"secret-done"`)
	waitFor(t, s, done, func(sum Summary) bool { return len(sum.Waiting) > 0 })
	if _, err := s.Signal(ctx, done, "Approve", []byte(`"approver-done"`)); err != nil {
		t.Fatal(err)
	}
	if sum := wait(t, s, done); sum.Result != `"secret-done by approver-done"` {
		t.Fatalf("the live case: %+v", sum)
	}
	held := start(t, s, "Hold", `"secret-held"`)
	waitFor(t, s, held, func(sum Summary) bool { return len(sum.Waiting) > 0 })
	closeSvc(t, s)
	if dirHolds(dir, "secret-held") || dirHolds(dir, "secret-done") || dirHolds(dir, "approver-done") {
		t.Fatal("an input or a result is in clear (log, snapshots or index)")
	}

	s = openShredded(t, dir)
	defer closeSvc(t, s)
	if sum, _ := s.Get(done); sum.Result != `"secret-done by approver-done"` {
		t.Fatalf("the live case's result read back from the encrypted index: %+v", sum)
	}
	if b, err := s.Query(ctx, held, "stage"); err != nil || string(b) != `"waiting"` {
		t.Fatalf("query of the recovered case: %s %v", b, err)
	}
	if err := s.EraseCase(ctx, held); CodeOf(err) != CodeFailedPrecondition || !strings.Contains(err.Error(), "is waiting; cancel it first") && !strings.Contains(err.Error(), "cancel it first") {
		t.Fatalf("erasing a running case: %v", err)
	}
	if err := s.EraseCase(ctx, done); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.History(ctx, done, 0, 100, true)
	if CodeOf(err) != CodeNotFound || !errors.Is(err, audit.ErrErased) || !strings.Contains(err.Error(), "case "+done+" was erased (crypto-shredded)") {
		t.Fatalf("history of the erased case: %v", err)
	}
	if _, err := s.Query(ctx, done, ""); !errors.Is(err, audit.ErrErased) {
		t.Fatalf("query of the erased case: %v", err)
	}
	var out bytes.Buffer
	if err := s.Export(ctx, []string{done}, "csv", &out); !errors.Is(err, audit.ErrErased) {
		t.Fatalf("export of the erased case: %v", err)
	}
	if sum, _ := s.Get(done); sum.Result != "" || sum.Status != "completed" || !strings.Contains(sum.Error, "erased (crypto-shredded)") {
		t.Fatalf("the erased case's summary: %+v", sum)
	}
	if _, _, err := s.History(ctx, held, 0, 100, true); err != nil {
		t.Fatalf("the other case's history: %v", err)
	}
	if dirHolds(dir, "secret-done") || dirHolds(dir, "approver-done") {
		t.Fatal("the erased case's data is in clear")
	}
	if _, err := s.EraseAll(ctx); CodeOf(err) != CodeFailedPrecondition || !strings.Contains(err.Error(), held) {
		t.Fatalf("EraseAll with a running case: %v", err)
	}
	if _, err := s.Signal(ctx, held, "Approve", []byte(`"approver-held"`)); err != nil {
		t.Fatal(err)
	}
	wait(t, s, held)
	if n, err := s.EraseAll(ctx); err != nil || n != 2 {
		t.Fatalf("EraseAll: %d %v", n, err)
	}
	if _, _, err := s.History(ctx, held, 0, 100, true); !errors.Is(err, audit.ErrErased) || !strings.Contains(err.Error(), "this tenant's data was erased") {
		t.Fatalf("history after EraseAll: %v", err)
	}
	if dirHolds(dir, "secret-held") || dirHolds(dir, "approver-held") {
		t.Fatal("the tenant's data is in clear")
	}
}

// TestEraseUnencrypted: a Service without encryption refuses to erase.
func TestEraseUnencrypted(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	deploy(t, s)
	id := start(t, s, "Inc", `1`)
	wait(t, s, id)
	if err := s.EraseCase(context.Background(), id); CodeOf(err) != CodeFailedPrecondition || !strings.Contains(err.Error(), "cannot erase: case "+id+" was written without encryption") {
		t.Fatalf("erase: %v", err)
	}
}
