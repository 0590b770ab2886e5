package bft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/knhk/knhk/runtime/engine"
)

// TestSavedStateWithLegacyHash: a state saved by a version that hashed
// the whole FSM snapshot loads with the hash it was saved with (the one
// its chain holds), the next block commits the incremental hash on
// every validator alike, and any other saved hash is still refused.
func TestSavedStateWithLegacyHash(t *testing.T) {
	c := newChain(t, 1, 3)
	path := filepath.Join(t.TempDir(), "app.json")
	a := c.apps[0]
	if err := a.Persist(Persistence{Path: path, Every: 1}); err != nil {
		t.Fatal(err)
	}
	c.block(0, nil, c.lease(c.keys[0], 1), c.event(c.keys[0], 1, c.start("c1", 0)))
	if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	legacy, err := a.legacyHash()
	if err != nil {
		t.Fatal(err)
	}
	if now, _ := a.AppHashAt(1); bytes.Equal(now, legacy) {
		t.Fatal("the incremental and the legacy hash are the same")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	resave := func(h []byte) {
		var s map[string]json.RawMessage
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		s["app_hash"], _ = json.Marshal(h)
		b, _ := json.Marshal(s)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := engine.NewMachine(compile(t))
	resave(legacy)
	b := NewApp(m, c.prog)
	if err := b.Persist(Persistence{Path: path}); err != nil {
		t.Fatalf("a state saved with the legacy hash: %v", err)
	}
	if info, _ := b.Info(context.Background(), &abci.RequestInfo{}); info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, legacy) {
		t.Fatalf("loaded at height %d hash %X, want 1 %X", info.LastBlockHeight, info.LastBlockAppHash, legacy)
	}
	// Block 2: chain.block checks that both answer the same hash.
	c.apps = []*App{a, b}
	wantCodes(t, c.block(100*time.Millisecond, nil, c.event(c.keys[0], 1, c.start("c2", 0))), codeOK)

	bad := append([]byte(nil), legacy...)
	bad[0] ^= 1
	resave(bad)
	if err := NewApp(m, c.prog).Persist(Persistence{Path: path}); !errors.Is(err, ErrBadState) {
		t.Fatalf("a state saved with a wrong hash: %v", err)
	}
}
