package bft

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/knhk/knhk/runtime/engine"
)

// copyRoot returns a new home holding root's file as it is now: the
// seal root of a node whose home was copied from a validator's
// (bft.InitNode) at that moment.
func copyRoot(t *testing.T, root *SealRoot) *SealRoot {
	t.Helper()
	b, err := os.ReadFile(root.path)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, SealRootFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := LoadSealRoot(home)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSealedStateSync: a node restores by state sync a snapshot that
// holds a sealed tenant's space (sealed under its key), checked against
// the trusted hash like any other, and then applies the tenant's sealed
// transactions as the validators do. After the erasure of one of two
// sealed tenants, the validators offer no snapshot from before it; a
// node whose home was copied after the erasure (its leaf punctured)
// restores the snapshot of the erasure's block, holds the other
// tenant's space and the tombstone, and computes the validators' hashes
// from there on; the snapshot from before the erasure, which it cannot
// open, is refused rather than taken in part.
func TestSealedStateSync(t *testing.T) {
	ctx := context.Background()
	c, roots := sealedChain(t, 1)
	a, k := c.apps[0], c.keys[0]
	if err := a.Persist(Persistence{Path: filepath.Join(t.TempDir(), "app.json"), SnapshotSpacing: 1}); err != nil {
		t.Fatal(err)
	}
	commit := func() {
		t.Helper()
		for _, x := range c.apps {
			if _, err := x.Commit(ctx, &abci.RequestCommit{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	at := time.Duration(0)
	block := func(txs ...[]byte) *abci.ResponseFinalizeBlock {
		t.Helper()
		at += 100 * time.Millisecond
		res := c.block(at, nil, txs...)
		commit()
		return res
	}
	wantCodes(t, block(c.lease(k, 1), c.event(k, 1, c.found(0, "acme", "beta"))), codeOK, codeOK)
	wantCodes(t, block(c.event(k, 1, c.sealing(a.FSM().TenancyRev(), map[string]string{"acme": "encrypt", "beta": "encrypt"}))), codeOK)
	wantCodes(t, block(c.sealedEvent(a, k, 1, "acme", c.start("a1", 0)), c.sealedEvent(a, k, 1, "beta", c.start("b1", 0))), codeOK, codeOK)

	m, _ := engine.NewMachine(compile(t))
	// restore offers the snapshot of height to a new App sealing under
	// root, and returns the App and its answer to the last chunk.
	restore := func(root *SealRoot, height int64) (*App, abci.ResponseApplySnapshotChunk_Result) {
		t.Helper()
		ls, _ := a.ListSnapshots(ctx, &abci.RequestListSnapshots{})
		var snap *abci.Snapshot
		for _, s := range ls.Snapshots {
			if int64(s.Height) == height {
				snap = s
			}
		}
		if snap == nil {
			t.Fatalf("no snapshot of block %d offered: %v", height, ls.Snapshots)
		}
		trusted, _ := a.AppHashAt(height)
		b := NewApp(m, c.prog)
		b.SetSealing(root, testSeals)
		if r, _ := b.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: trusted}); r.Result != abci.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("offer: %v", r.Result)
		}
		chunk, _ := a.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format})
		r, err := b.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: 0, Chunk: chunk.Chunk, Sender: "p"})
		if err != nil {
			t.Fatal(err)
		}
		return b, r.Result
	}

	// Before the erasure: both sealed spaces restore and run on.
	before := c.height
	chunk, _ := a.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: uint64(before), Format: snapshotFormat})
	b, r := restore(copyRoot(t, roots[0]), before)
	if r != abci.ResponseApplySnapshotChunk_ACCEPT || b.Height() != before || b.Space("acme").Events("a1") != 1 || b.Space("beta").Events("b1") != 1 {
		t.Fatalf("a snapshot with sealed spaces: %v at %d", r, b.Height())
	}
	c.apps = []*App{a, b}
	wantCodes(t, block(c.sealedEvent(a, k, 1, "acme", c.start("a2", 0))), codeOK)

	// The erasure of acme: no snapshot from before it is offered.
	wantCodes(t, block(c.event(k, 1, c.sealing(a.FSM().TenancyRev(), map[string]string{"acme": "erased", "beta": "encrypt"}))), codeOK)
	erased := c.height
	ls, _ := a.ListSnapshots(ctx, &abci.RequestListSnapshots{})
	for _, s := range ls.Snapshots {
		if int64(s.Height) < erased {
			t.Fatalf("a snapshot of block %d offered after the erasure at %d", s.Height, erased)
		}
	}
	if _, err := roots[0].Leaf(0); !errors.Is(err, ErrPunctured) {
		t.Fatalf("acme's key after the erasure: %v", err)
	}
	for i, x := range c.apps {
		if _, ok := x.TenantErased("acme"); !ok {
			t.Fatalf("app %d: acme not erased", i)
		}
	}

	// A node whose home was copied now: acme's leaf punctured. It
	// restores the erasure's snapshot and follows the chain: the same
	// hashes (block checks), beta's sealed events applied, acme's
	// refused.
	late := copyRoot(t, roots[0])
	if _, err := late.Leaf(0); !errors.Is(err, ErrPunctured) {
		t.Fatalf("the copied root derives acme's key: %v", err)
	}
	l, r := restore(late, erased)
	if r != abci.ResponseApplySnapshotChunk_ACCEPT || l.Height() != erased || l.Space("beta").Events("b1") != 1 || len(l.Spaces()) != 1 {
		t.Fatalf("the erasure's snapshot on a node with the punctured root: %v at %d, spaces %v", r, l.Height(), l.Spaces())
	}
	if h, ok := l.TenantErased("acme"); !ok || h != erased {
		t.Fatalf("the restored node's tombstone: %d %v", h, ok)
	}
	c.apps = []*App{a, b, l}
	wantCodes(t, block(c.sealedEvent(a, k, 1, "beta", c.start("b2", 0)), c.tenantEvent(k, 1, "acme", c.start("a3", 0))), codeOK, codeTenant)
	for i, x := range c.apps {
		if x.Space("beta").Events("b2") != 1 {
			t.Fatalf("app %d: beta's b2 not applied", i)
		}
	}

	// The snapshot from before the erasure does not open under the
	// punctured root: refused, the App as it was.
	old := NewApp(m, c.prog)
	old.SetSealing(copyRoot(t, roots[0]), testSeals)
	sum := sha256.Sum256(chunk.Chunk)
	snap := &abci.Snapshot{Height: uint64(before), Format: snapshotFormat, Chunks: 1, Hash: sum[:]}
	trusted, _ := a.AppHashAt(before)
	if r, _ := old.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: trusted}); r.Result != abci.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v", r.Result)
	}
	if r, err := old.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: 0, Chunk: chunk.Chunk, Sender: "p"}); err != nil || r.Result != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT || old.Height() != 0 {
		t.Fatalf("the snapshot from before the erasure under the punctured root: %v %v, height %d", r, err, old.Height())
	}
}
