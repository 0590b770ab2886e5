package bft

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/knhk/knhk/runtime/engine"
)

// TestLegacyBlocksReplay: a validator of the version that hashed the
// whole snapshot saved its state at block 2 and went on to block 4. On
// this version it loads the saved state and replays blocks 3 and 4 to
// the hashes the chain recorded for them (CometBFT stops at the first
// that differs), then commits the incremental hash from block 5 on.
func TestLegacyBlocksReplay(t *testing.T) {
	ctx := context.Background()
	c := newChain(t, 1, 3)
	old := c.apps[0]
	old.tamper = func([]byte) []byte { // the old version's hash
		h, err := old.legacyHash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "app.json")
	if err := old.Persist(Persistence{Path: path, Every: 2}); err != nil {
		t.Fatal(err)
	}
	blocks := [][][]byte{
		{c.lease(c.keys[0], 1), c.event(c.keys[0], 1, c.start("c1", 0))},
		{c.event(c.keys[0], 1, c.start("c2", 0))},
		{c.event(c.keys[0], 1, c.start("c3", 0))},
		{c.event(c.keys[0], 1, c.start("c4", 0))},
	}
	recorded := map[int64][]byte{}
	for i, txs := range blocks {
		c.block(time.Duration(i)*100*time.Millisecond, nil, txs...)
		if _, err := old.Commit(ctx, &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		recorded[int64(i+1)], _ = old.AppHashAt(int64(i + 1))
		if i == 1 { // the state saved at block 2
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path+".2", b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, _ := engine.NewMachine(compile(t))
	a := NewApp(m, c.prog)
	a.setRecorded(func(h int64) []byte { return recorded[h] })
	if err := a.Persist(Persistence{Path: path + ".2", Every: 100}); err != nil {
		t.Fatal(err)
	}
	if h := a.Height(); h != 2 {
		t.Fatalf("loaded at height %d, want 2", h)
	}
	c.apps, c.height = []*App{a}, 2
	for i := 2; i < 4; i++ {
		res := c.block(time.Duration(i)*100*time.Millisecond, nil, blocks[i]...)
		if !bytes.Equal(res.AppHash, recorded[int64(i+1)]) {
			t.Fatalf("block %d replayed to %X, the chain recorded %X", i+1, res.AppHash, recorded[int64(i+1)])
		}
	}
	res := c.block(400*time.Millisecond, nil, c.event(c.keys[0], 1, c.start("c5", 0)))
	wantCodes(t, res, codeOK)
	a.mu.Lock()
	now, err := a.hash()
	a.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.AppHash, now) {
		t.Fatalf("block 5, the first new one, hashed %X, want the incremental %X", res.AppHash, now)
	}
	if a.legacy {
		t.Fatal("still replaying legacy hashes after a new block")
	}

	// A validator without a saved state replays the chain from its
	// first block, to the same hashes.
	g := NewApp(m, c.prog)
	if _, err := g.InitChain(ctx, &abci.RequestInitChain{ChainId: "c", Validators: validators(c), AppStateBytes: []byte(`{"lease_ms":1000}`)}); err != nil {
		t.Fatal(err)
	}
	g.setRecorded(func(h int64) []byte { return recorded[h] })
	c.apps, c.height = []*App{g}, 0
	for i := range 4 {
		res := c.block(time.Duration(i)*100*time.Millisecond, nil, blocks[i]...)
		if !bytes.Equal(res.AppHash, recorded[int64(i+1)]) {
			t.Fatalf("block %d replayed from the first to %X, the chain recorded %X", i+1, res.AppHash, recorded[int64(i+1)])
		}
	}
}
