package bft

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/knhk/knhk/runtime/engine"
)

// TestSavedState: an App that persists saves its state every Every
// blocks and lets CometBFT prune below the save; a new App loads it
// (height, hash, lease, removals, cases) and goes on alike; a damaged
// file is refused.
func TestSavedState(t *testing.T) {
	c := newChain(t, 1, 3)
	path := filepath.Join(t.TempDir(), "app.json")
	a := c.apps[0]
	if err := a.Persist(Persistence{Path: path, Every: 2, KeepBlocks: 3, SnapshotSpacing: 2}); err != nil {
		t.Fatal(err)
	}
	z := c.keys[2]
	var retain int64
	for i := range 9 {
		var txs [][]byte
		var mis []abci.Misbehavior
		switch i {
		case 0:
			txs = [][]byte{c.lease(c.keys[0], 1), c.event(c.keys[0], 1, c.start("c1", 0))}
		case 3:
			mis = []abci.Misbehavior{{Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: abci.Validator{Address: z.PubKey().Address(), Power: 10}}}
		}
		c.block(time.Duration(i)*100*time.Millisecond, mis, txs...)
		res, err := a.Commit(context.Background(), &abci.RequestCommit{})
		if err != nil {
			t.Fatal(err)
		}
		retain = res.RetainHeight
	}
	// Saved at block 8, blocks from 5 on kept.
	if retain != 5 {
		t.Fatalf("retain height %d, want 5", retain)
	}
	m, _ := engine.NewMachine(compile(t))
	b := NewApp(m, c.prog)
	if err := b.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	info, _ := b.Info(context.Background(), &abci.RequestInfo{})
	want, _ := a.AppHashAt(8)
	if info.LastBlockHeight != 8 || !bytes.Equal(info.LastBlockAppHash, want) {
		t.Fatalf("loaded at height %d hash %X, want 8 %X", info.LastBlockHeight, info.LastBlockAppHash, want)
	}
	if b.Lease() != a.Lease() || len(b.Removed()) != 1 || b.FSM().Events("c1") != 1 || b.ChainID() != "c" || b.LeaseLength() != time.Second {
		t.Fatalf("loaded lease %+v removed %v c1 %d", b.Lease(), b.Removed(), b.FSM().Events("c1"))
	}
	// Block 9 on the loaded App answers what it answers on the first
	// (chain.block compares the hashes and results).
	c.apps = []*App{a, b}
	wantCodes(t, c.block(800*time.Millisecond, nil, c.event(c.keys[0], 1, c.start("c2", 0))), codeOK)

	// Damage: the state no longer hashes to the saved hash.
	raw, _ := os.ReadFile(path)
	bad := bytes.Replace(raw, []byte(`"term":1`), []byte(`"term":7`), 1)
	if bytes.Equal(bad, raw) {
		t.Fatal("the saved state holds no lease term")
	}
	for _, damaged := range [][]byte{bad, raw[:len(raw)/2], []byte(`{"v":9}`)} {
		os.WriteFile(path, damaged, 0o600)
		if err := NewApp(m, c.prog).Persist(Persistence{Path: path}); !errors.Is(err, ErrBadState) {
			t.Fatalf("a damaged state: %v", err)
		}
	}
}

// TestSavedStateSameOnEveryValidator: validators that save one block
// write the same bytes, so that they offer one snapshot to state sync.
func TestSavedStateSameOnEveryValidator(t *testing.T) {
	c := newChain(t, 2, 3)
	dir := t.TempDir()
	for i, a := range c.apps {
		if err := a.Persist(Persistence{Path: filepath.Join(dir, string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	c.block(0, nil, c.lease(c.keys[0], 1), c.event(c.keys[0], 1, c.start("c1", 0)))
	for _, a := range c.apps {
		if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a"))
	b, _ := os.ReadFile(filepath.Join(dir, "b"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("the validators saved %d and %d bytes that differ", len(a), len(b))
	}
}
