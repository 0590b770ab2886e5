package bft

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// instant is a Broadcaster whose every transaction is a block of its
// own on one App: the driver's path to the chain without a network.
type instant struct {
	mu  sync.Mutex
	c   *chain
	app *App
}

func (b *instant) BroadcastTxCommit(ctx context.Context, tx types.Tx) (*coretypes.ResultBroadcastTxCommit, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	chk, _ := b.app.CheckTx(ctx, &abci.RequestCheckTx{Tx: tx})
	if chk.Code != codeOK {
		return &coretypes.ResultBroadcastTxCommit{CheckTx: *chk}, nil
	}
	b.c.height++
	res, err := b.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: b.c.height, Time: b.c.t0.Add(time.Duration(b.c.height) * time.Millisecond), Txs: [][]byte{tx}})
	if err != nil {
		return nil, err
	}
	return &coretypes.ResultBroadcastTxCommit{TxResult: *res.TxResults[0], Height: b.c.height}, nil
}

func (b *instant) BroadcastTxSync(ctx context.Context, tx types.Tx) (*coretypes.ResultBroadcastTx, error) {
	_, err := b.BroadcastTxCommit(ctx, tx)
	return &coretypes.ResultBroadcastTx{}, err
}

// tenantDrivers returns a chain of one validator that holds the lease
// of term 1, a driver of the cluster's own space and one of acme's
// space, each transaction of theirs a block of its own, and their
// context (a minute at most).
func tenantDrivers(t testing.TB) (c *chain, ctx context.Context, cancel context.CancelFunc, own, acme *Driver) {
	t.Helper()
	c = newChain(t, 1, 1)
	c.block(0, nil, c.lease(c.keys[0], 1))
	b := &instant{c: c, app: c.apps[0]}
	prog := compile(t)
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	driver := func(tenant string) *Driver {
		d, err := NewDriver(ctx, prog, &host.Evaluator{}, worker.New(prog, worker.Options{Registry: registry()}), &Log{App: c.apps[0], Node: b, Key: c.keys[0], Term: 1, Tenant: tenant})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		return d
	}
	return c, ctx, cancel, driver(""), driver("acme")
}

// TestTenantDriver: a driver of a tenant's space starts, signals and
// runs its cases to the end in that space only; a tenancy change goes
// through the cluster's driver (Commit), and a tenant's driver cannot
// commit one; a call's one-time keys ride in its first transaction, so
// the same keys on a second call are refused by the block.
func TestTenantDriver(t *testing.T) {
	c, ctx, cancel, own, acme := tenantDrivers(t)
	defer cancel()
	a := c.apps[0]
	if err := acme.Start(ctx, "c1", "W", []any{"c1"}); err == nil || !strings.Contains(err.Error(), "no such tenant") {
		t.Fatalf("a start in a space the tenancy does not hold: %v", err)
	}
	if _, err := acme.Commit(ctx, c.found(0, "beta")); err == nil {
		t.Fatal("a tenant's driver committed a tenancy change")
	}
	if _, err := own.Commit(ctx, c.found(0, "acme")); err != nil {
		t.Fatal(err)
	}
	if _, err := own.Commit(ctx, c.found(0, "beta")); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("a tenancy change from an old revision: %v", err)
	}
	// Each call's context holds its own claim of the keys, as the front
	// makes one per request (a replayed request is a new one).
	once := func() context.Context {
		return cluster.WithNonce(ctx, []string{"acme/once-1"}, "", c.t0, c.t0.Add(time.Hour))
	}
	if err := acme.Start(once(), "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	if err := acme.Start(once(), "c2", "W", []any{"c2"}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("a second start with the same one-time key: %v", err)
	}
	if err := acme.Signal(ctx, "", "c1", "Go", []any{int64(40)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acme's c1 done", func() bool {
		st, _, ok := a.Space("acme").Case("c1")
		return ok && st.Done()
	})
	if a.FSM().Events("c1") != 0 || a.Space("acme").Events("c2") != 0 {
		t.Fatal("acme's driver wrote outside acme's space")
	}
	cancel()
	own.Wait()
	acme.Wait()
}

// TestStandbyStopsDeletedSpaces: the standby drives a tenant's space
// while Live says it is served, and stops its driver (its cases' timers
// and tasks) once it is not: a deleted tenant's cases are not run on.
func TestStandbyStopsDeletedSpaces(t *testing.T) {
	c := newChain(t, 1, 1)
	k := c.keys[0]
	a := c.apps[0]
	c.block(0, nil, c.lease(k, 1), c.event(k, 1, c.found(0, "acme")))
	prog := compile(t)
	var live atomic.Bool
	live.Store(true)
	sb := NewStandby(StandbyConfig{App: a, Node: &instant{c: c, app: a}, Key: k, API: "api", Program: prog, Eval: &host.Evaluator{},
		Worker: worker.New(prog, worker.Options{Registry: registry()}), Live: func(id string) bool { return id != "acme" || live.Load() }})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb.step(ctx)
	d := sb.TenantDriver("acme")
	if d == nil {
		t.Fatal("no driver of acme's space while the validator drives")
	}
	if err := d.Start(ctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	live.Store(false)
	sb.step(ctx)
	if sb.TenantDriver("acme") != nil || d.ctx.Err() == nil {
		t.Fatal("the driver of a space no longer served goes on")
	}
	if sb.Driver() == nil {
		t.Fatal("the cluster's own driver stopped with a tenant's")
	}
	cancel()
	sb.drive(ctx, 0)
}
