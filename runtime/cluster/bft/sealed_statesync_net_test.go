package bft

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/rpc/client/local"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// TestSealedStateSyncJoin: four validators with a seal root seal two
// tenants and erase one (acme). A node whose home was copied after the
// erasure (acme's leaf punctured) joins by state sync: it restores a
// snapshot at or after the erasure (none before it is offered), holds
// beta's sealed space and acme's tombstone, applies beta's sealed
// transactions after it and computes the validators' hashes.
func TestSealedStateSyncJoin(t *testing.T) {
	prog := compile(t)
	dir := t.TempDir()
	secret := NewSealRootSecret()
	rpcs := make([]string, 4)
	roots := make([]*SealRoot, 4)
	vs := network(t, prog, 4, -1, nil, func(i int, c *cfg.Config, a *App) {
		rpcs[i] = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
		c.RPC.ListenAddress = rpcs[i]
		c.RPC.GRPCListenAddress = ""
		roots[i] = sealApp(t, a, secret)
		// Every block saved; the snapshots offered 50 blocks apart, so
		// that one outlives the late node's discovery (statesync.go).
		if err := a.Persist(Persistence{Path: filepath.Join(dir, fmt.Sprint(i)+".json"), SnapshotSpacing: 50}); err != nil {
			t.Fatal(err)
		}
	})
	driver(t, prog, vs[0]) // the lease of term 1
	ctx, cancel := context.WithTimeout(context.Background(), 3*loadedWait)
	defer cancel()
	hash, _ := prog.Hash()
	c := &chain{t: t, prog: hash}
	a := vs[0].app
	log := func(tenant string) *Log {
		return &Log{App: a, Node: local.New(vs[0].node), Key: vs[0].pv.Key.PrivKey, Term: 1, Tenant: tenant}
	}
	submit := func(tenant string, cmd *cluster.Command) {
		t.Helper()
		if err := log(tenant).submit(ctx, cmd); err != nil {
			t.Fatalf("tenant %q: %v", tenant, err)
		}
	}
	submit("", c.found(0, "acme", "beta"))
	submit("", c.sealing(a.FSM().TenancyRev(), map[string]string{"acme": "encrypt", "beta": "encrypt"}))
	submit("acme", c.start("a1", 0))
	submit("beta", c.start("b1", 0))
	submit("", c.sealing(a.FSM().TenancyRev(), map[string]string{"acme": "erased", "beta": "encrypt"}))
	erased, _ := a.TenantErased("acme")
	for i, v := range vs {
		waitFor(t, fmt.Sprintf("acme's key destroyed on validator %d", i), func() bool {
			_, err := roots[i].Leaf(0)
			_, ok := v.app.TenantErased("acme")
			return ok && errors.Is(err, ErrPunctured)
		})
	}
	submit("beta", c.start("b2", 0))
	waitFor(t, "blocks after the erasure", func() bool { return vs[0].node.BlockStore().Height() > erased+3 })

	m, _ := engine.NewMachine(prog)
	app := NewApp(m, hash)
	app.SetSealing(copyRoot(t, roots[0]), testSeals) // punctured
	node, f := lateNode(t, vs, rpcs, app)
	waitForOr(t, "the late node to restore a snapshot", func() bool { return app.Height() > 0 }, func() string {
		ls, _ := a.ListSnapshots(ctx, nil)
		return fmt.Sprintf("%s\nvalidator 0 offers %v; erasure at %d\n%s", f, ls.Snapshots, erased, states(vs))
	})
	restored := app.Height()
	if h, ok := app.TenantErased("acme"); restored < erased || !ok || h != erased || app.Space("beta").Events("b1") == 0 || app.Space("acme").Events("a1") != 0 {
		t.Fatalf("the late node restored block %d (erasure at %d): acme erased at %d %v", restored, erased, h, ok)
	}
	submit("beta", c.start("b3", 0))
	waitFor(t, "b3 on the late node", func() bool { return app.Space("beta").Events("b3") > 0 })
	top := a.Height()
	waitFor(t, "the late node to follow", func() bool { return app.Height() >= top })
	want, _ := a.AppHashAt(top)
	if got, _ := app.AppHashAt(top); string(got) != string(want) || f.String() != "" {
		t.Fatalf("block %d: the late node computed %X, the validators %X (%s)", top, got, want, f)
	}
	if base := node.BlockStore().Base(); base <= 1 {
		t.Fatalf("the late node holds blocks from %d: it did not start from a snapshot", base)
	}
}
