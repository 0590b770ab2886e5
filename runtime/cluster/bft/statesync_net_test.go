package bft

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/types"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// TestStateSyncJoin: four validators save their state and prune their
// blocks; a fifth node that joins late cannot replay the chain from
// its first block, and restores a validator's snapshot through state
// sync instead (checked by its light client against the validators'
// headers), then follows the chain: the case it restored runs on, and
// it computes the validators' hashes.
func TestStateSyncJoin(t *testing.T) {
	prog := compile(t)
	dir := t.TempDir()
	rpcs := make([]string, 4)
	vs := network(t, prog, 4, -1, nil, func(i int, c *cfg.Config, a *App) {
		rpcs[i] = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
		c.RPC.ListenAddress = rpcs[i]
		c.RPC.GRPCListenAddress = ""
		if err := a.Persist(Persistence{Path: filepath.Join(dir, fmt.Sprint(i)+".json"), Every: 20, KeepBlocks: 60, SnapshotSpacing: 20}); err != nil {
			t.Fatal(err)
		}
	})
	eng := driver(t, prog, vs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := eng.Start(ctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the validators to prune the first blocks", func() bool {
		for _, v := range vs {
			if v.node.BlockStore().Base() <= 1 {
				return false
			}
		}
		return true
	})

	m, _ := engine.NewMachine(prog)
	hash, _ := prog.Hash()
	app := NewApp(m, hash)
	node, f := lateNode(t, vs, rpcs, app)

	deadline := time.Now().Add(90 * time.Second)
	for app.Height() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the late node restored no snapshot: %s", f)
		}
		time.Sleep(50 * time.Millisecond)
	}
	restored := app.Height()
	if app.FSM().Events("c1") == 0 {
		t.Fatal("the restored state has no c1")
	}
	if err := eng.Signal(ctx, "c1", "Go", []any{int64(10)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c1 to end on the late node", func() bool {
		st, _, ok := app.FSM().Case("c1")
		return ok && st.Done() && st.Result == eval.Int(13)
	})
	top := vs[0].app.Height()
	waitFor(t, "the late node to follow", func() bool { return app.Height() >= top })
	if base := node.BlockStore().Base(); base <= 1 || base > restored+1 {
		t.Fatalf("the late node holds blocks from %d, restored block %d: it did not start from the snapshot", base, restored)
	}
	want, _ := vs[0].app.AppHashAt(top)
	if got, _ := app.AppHashAt(top); string(got) != string(want) {
		t.Fatalf("block %d: the late node computed %X, the validators %X", top, got, want)
	}
}

// lateNode starts a node that joins vs by state sync with app, trusting
// the header of vs[0]'s block before its last (rpcs: the validators'
// RPC addresses), and returns it with its failures.
func lateNode(t *testing.T, vs []*validator, rpcs []string, app *App) (*nm.Node, *failures) {
	t.Helper()
	th := vs[0].node.BlockStore().Height() - 1
	meta := vs[0].node.BlockStore().LoadBlockMeta(th)
	home := filepath.Join(t.TempDir(), "late")
	cfg.EnsureRoot(home)
	c := cfg.TestConfig().SetRoot(home)
	c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	c.P2P.AddrBookStrict = false
	c.P2P.PexReactor = false
	c.RPC.ListenAddress = ""
	var peers []string
	for _, v := range vs {
		peers = append(peers, v.peer)
	}
	c.P2P.PersistentPeers = strings.Join(peers, ",")
	c.StateSync.Enable = true
	c.StateSync.RPCServers = rpcs[:2]
	c.StateSync.TrustHeight = th
	c.StateSync.TrustHash = meta.BlockID.Hash.String()
	c.StateSync.TrustPeriod = time.Hour
	c.StateSync.DiscoveryTime = 5 * time.Second
	os.MkdirAll(filepath.Dir(c.PrivValidatorKeyFile()), 0o755)
	os.MkdirAll(filepath.Dir(c.PrivValidatorStateFile()), 0o755)
	pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	f := &failures{}
	gen := vs[0].gen
	node, err := nm.NewNode(c, pv, nk, proxy.NewLocalClientCreator(app), func() (*types.GenesisDoc, error) { return gen, nil },
		dbProvider(closeGrace(c), nil), nm.DefaultMetricsProvider(c.Instrumentation), logger{f})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Stop(); node.Wait() })
	return node, f
}
