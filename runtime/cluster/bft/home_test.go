package bft

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/knhk/knhk/runtime/eval"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/rpc/client/local"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// TestHomesAndDriver writes four validator homes as knhk cluster
// bft-init does, opens them as knhk serve --bft does, and drives a case
// from one of them to its end on all four; one of them saves its state
// and prunes its blocks.
func TestHomesAndDriver(t *testing.T) {
	skipUnderRace(t)
	prog := compile(t)
	m, err := engine.NewMachine(prog)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := prog.Hash()
	dir := t.TempDir()
	base := 21000 + rand.IntN(8000)
	if err := Init(dir, 4, "127.0.0.1", base, "knhk-test"); err != nil {
		t.Fatal(err)
	}
	if err := Init(dir, 4, "127.0.0.1", base, "knhk-test"); err == nil || !strings.Contains(err.Error(), "holds a validator already") {
		t.Fatalf("a second init over the same directory: %v", err)
	}
	if _, err := Open(t.TempDir(), NewApp(m, hash), io.Discard); err == nil || !strings.Contains(err.Error(), "is not a validator home") {
		t.Fatalf("opening an empty directory: %v", err)
	}
	var apps []*App
	var first *App
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var sb *Standby
	var nodes []*nm.Node
	stopped := make(chan struct{})
	// v3 saves its state every block and keeps five blocks below it.
	hf := dir + "/v3/" + homeName
	b, _ := os.ReadFile(hf)
	var h homeFile
	json.Unmarshal(b, &h)
	h.SaveEvery, h.KeepBlocks = 1, 5
	b, _ = json.Marshal(&h)
	os.WriteFile(hf, b, 0o600)
	for i, home := range []string{"v0", "v1", "v2", "v3"} {
		app := NewApp(m, hash)
		node, err := Open(dir+"/"+home, app, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Stop(); node.Wait() })
		apps, nodes = append(apps, app), append(nodes, node)
		if i == 0 {
			first = app
			key, err := Key(node)
			if err != nil {
				t.Fatal(err)
			}
			sb = NewStandby(StandbyConfig{App: app, Node: local.New(node), Key: key, Program: prog, Eval: &host.Evaluator{},
				Worker: worker.New(prog, worker.Options{Registry: registry()})})
			go func() { sb.Run(ctx); close(stopped) }()
			t.Cleanup(func() { cancel(); <-stopped })
		}
	}
	waitFor(t, "v0 to take the lease", func() bool { return sb.Driver() != nil })
	d := sb.Driver()
	if err := d.Start(ctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c1 to wait for Go", func() bool {
		st, _, ok := first.FSM().Case("c1")
		return ok && len(st.Invs) == 0 && first.FSM().Events("c1") > 2
	})
	if err := d.Signal(ctx, "c1", "Go", []any{int64(10)}); err != nil {
		t.Fatal(err)
	}
	for i, a := range apps {
		waitFor(t, "c1 to end everywhere", func() bool {
			st, _, ok := a.FSM().Case("c1")
			return ok && st.Done()
		})
		if st, _, _ := a.FSM().Case("c1"); st.Result != eval.Int(13) {
			t.Fatalf("validator %d: c1 returned %v, want 13", i, st.Result)
		}
	}

	// v3 saved its state every block and pruned all but the last five
	// blocks below it.
	v3 := nodes[3]
	waitFor(t, "v3 to prune", func() bool { return v3.BlockStore().Base() > 1 })
	// Its saved state loads into a new App at the height it names, with
	// the hash every validator computed for that block.
	app := NewApp(m, hash)
	if err := app.Persist(Persistence{Path: filepath.Join(dir, "v3", "data", appStateFile)}); err != nil {
		t.Fatal(err)
	}
	h0, _ := first.AppHashAt(app.Height())
	if h3, _ := app.AppHashAt(app.Height()); app.Height() < 2 || !bytes.Equal(h0, h3) || app.FSM().Events("c1") == 0 {
		t.Fatalf("the saved state of block %d: hash %X, v0's %X", app.Height(), h3, h0)
	}
}
