package bft

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/rpc/client/local"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// initHomes writes four validator homes of chain id under a new
// directory, listening from a random base port, for the test program.
func initHomes(t *testing.T, id string) (prog *ir.Program, m *engine.Machine, hash, dir string, base int) {
	t.Helper()
	prog = compile(t)
	m, err := engine.NewMachine(prog)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ = prog.Hash()
	dir = t.TempDir()
	base = 21000 + rand.IntN(8000)
	if err := Init(dir, 4, "127.0.0.1", base, id); err != nil {
		t.Fatal(err)
	}
	return prog, m, hash, dir, base
}

// TestHomesAndDriver writes four validator homes as knhk cluster
// bft-init does, opens them as knhk serve --bft does, and drives a case
// from one of them to its end on all four; one of them saves its state
// and prunes its blocks.
func TestHomesAndDriver(t *testing.T) {
	skipUnderRace(t)
	prog, m, hash, dir, base := initHomes(t, "knhk-test")
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
	// v3 saves its state every block and keeps five blocks below it;
	// v0 and v1 save every twenty blocks and serve RPC, for the light
	// client of a node that joins by state sync.
	rpcs := []string{fmt.Sprintf("127.0.0.1:%d", base+100), fmt.Sprintf("127.0.0.1:%d", base+101)}
	editHome(t, dir+"/v3", func(h *homeFile) { h.SaveEvery, h.KeepBlocks = 1, 5 })
	editHome(t, dir+"/v0", func(h *homeFile) { h.SaveEvery, h.RPC = 20, rpcs[0] })
	editHome(t, dir+"/v1", func(h *homeFile) { h.SaveEvery, h.RPC = 20, rpcs[1] })
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
	// The same request id three times, two of them at once: one
	// delivery, the same answer to each.
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- d.Signal(ctx, "sig-1", "c1", "Go", []any{int64(10)}) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Signal(ctx, "sig-1", "c1", "Go", []any{int64(10)}); err != nil {
		t.Fatalf("a retry after the delivery: %v", err)
	}
	for i, a := range apps {
		waitFor(t, "c1 to end everywhere", func() bool {
			st, _, ok := a.FSM().Case("c1")
			return ok && st.Done()
		})
		if st, _, _ := a.FSM().Case("c1"); st.Result != eval.Int(13) {
			t.Fatalf("validator %d: c1 returned %v, want 13", i, st.Result)
		}
		if n := goSignals(t, a, "c1"); n != 1 {
			t.Fatalf("validator %d: c1 got %d Go signals, want 1", i, n)
		}
	}

	// A cancel, in a block, ends c2 on every validator.
	if err := d.Start(ctx, "c2", "W", []any{"c2"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Cancel(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		waitFor(t, "c2 to be cancelled everywhere", func() bool {
			st, _, ok := a.FSM().Case("c2")
			return ok && st.Status == engine.Cancelled
		})
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

	// A node that joins later, by state sync, trusting a header v0
	// hands out.
	late := dir + "/late"
	if err := InitNode(late, dir+"/v0", fmt.Sprintf("127.0.0.1:%d", base+4)); err != nil {
		t.Fatal(err)
	}
	if err := InitNode(late, dir+"/v0", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "holds a node already") {
		t.Fatalf("a second InitNode: %v", err)
	}
	th := nodes[0].BlockStore().Height() - 1
	trust := nodes[0].BlockStore().LoadBlockMeta(th).BlockID.Hash.String()
	editHome(t, late, func(h *homeFile) {
		h.StateSync = &stateSyncFile{RPCServers: rpcs[:1], TrustHeight: th, TrustHash: trust}
	})
	if _, err := Open(late, NewApp(m, hash), io.Discard); err == nil || !strings.Contains(err.Error(), "state_sync") {
		t.Fatalf("state sync with one RPC server: %v", err)
	}
	editHome(t, late, func(h *homeFile) { h.StateSync.RPCServers = rpcs })
	lapp := NewApp(m, hash)
	var llog bytes.Buffer
	lnode, err := Open(late, lapp, &llog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lnode.Stop(); lnode.Wait() })
	// It restores a snapshot, then applies blocks after it.
	var restored int64
	for deadline := time.Now().Add(90 * time.Second); restored == 0 || lapp.Height() <= restored || lnode.BlockStore().Base() == 0; time.Sleep(50 * time.Millisecond) {
		if restored == 0 {
			restored = lapp.Height()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the late node is at block %d (restored %d), v0 at %d\n%s", lapp.Height(), restored, first.Height(), llog.String())
		}
	}
	if base := lnode.BlockStore().Base(); base <= 1 || base > restored+1 {
		t.Fatalf("the late node holds blocks from %d, restored block %d: it did not start from a snapshot", base, restored)
	}
	top := max(first.Height(), lapp.Height()) + 1
	waitFor(t, "the late node to follow", func() bool { return lapp.Height() >= top && first.Height() >= top })
	want, _ := first.AppHashAt(top)
	if got, _ := lapp.AppHashAt(top); !bytes.Equal(got, want) || lapp.FSM().Events("c1") != first.FSM().Events("c1") {
		t.Fatalf("block %d: the late node computed %X, v0 %X", top, got, want)
	}
}

func editHome(t *testing.T, home string, edit func(*homeFile)) {
	t.Helper()
	hf := filepath.Join(home, homeName)
	b, err := os.ReadFile(hf)
	if err != nil {
		t.Fatal(err)
	}
	var h homeFile
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	edit(&h)
	b, _ = json.Marshal(&h)
	if err := os.WriteFile(hf, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// goSignals counts the Go signals case id holds on app.
func goSignals(t *testing.T, app *App, id string) int {
	t.Helper()
	evs, _, ok := app.FSM().CaseEvents(id)
	if !ok {
		t.Fatalf("no case %s", id)
	}
	n := 0
	for _, e := range evs {
		ev, err := engine.DecodeEvent(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == engine.EvSignal && ev.Name == "Go" {
			n++
		}
	}
	return n
}
