package bft

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/knhk/knhk/runtime/engine"
)

// TestStateSyncSnapshot: a persisting App offers its last saved state;
// a new App restores it only when its state hashes to the hash the
// light client trusts for that height, and then applies the next block
// as the first does. A damaged chunk, an untrusted hash, another
// format, or an App that applied blocks already are refused.
func TestStateSyncSnapshot(t *testing.T) {
	ctx := context.Background()
	c := newChain(t, 1, 2)
	a := c.apps[0]
	if err := a.Persist(Persistence{Path: filepath.Join(t.TempDir(), "app.json"), Every: 3, SnapshotSpacing: 3}); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		var txs [][]byte
		if i == 0 {
			txs = [][]byte{c.lease(c.keys[0], 1), c.event(c.keys[0], 1, c.start("c1", 0))}
		}
		c.block(time.Duration(i)*100*time.Millisecond, nil, txs...)
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
	}
	ls, _ := a.ListSnapshots(ctx, &abci.RequestListSnapshots{})
	if len(ls.Snapshots) != 2 || ls.Snapshots[0].Height != 3 || ls.Snapshots[1].Height != 6 || ls.Snapshots[1].Chunks != 1 {
		t.Fatalf("snapshots: %v", ls.Snapshots)
	}
	snap := ls.Snapshots[1]
	trusted, _ := a.AppHashAt(6)
	chunk, _ := a.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format})
	if len(chunk.Chunk) == 0 {
		t.Fatal("no chunk")
	}
	if none, _ := a.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: 4, Format: snap.Format}); len(none.Chunk) != 0 {
		t.Fatal("a chunk of a snapshot no longer offered")
	}
	m, _ := engine.NewMachine(compile(t))
	restore := func(hash, data []byte) (*App, abci.ResponseApplySnapshotChunk_Result) {
		b := NewApp(m, c.prog)
		if r, _ := b.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: hash}); r.Result != abci.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("offer: %v", r.Result)
		}
		r, err := b.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: 0, Chunk: data, Sender: "p"})
		if err != nil {
			t.Fatal(err)
		}
		return b, r.Result
	}
	damaged := bytes.Replace(chunk.Chunk, []byte(`"term":1`), []byte(`"term":2`), 1)
	for name, try := range map[string][2][]byte{"an untrusted hash": {bytes.Repeat([]byte{1}, 32), chunk.Chunk}, "a damaged chunk": {trusted, damaged}} {
		if b, r := restore(try[0], try[1]); r != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT || b.Height() != 0 || b.FSM().Events("c1") != 0 {
			t.Fatalf("%s: %v, height %d", name, r, b.Height())
		}
	}
	b, r := restore(trusted, chunk.Chunk)
	if r != abci.ResponseApplySnapshotChunk_ACCEPT {
		t.Fatalf("restore: %v", r)
	}
	info, _ := b.Info(ctx, &abci.RequestInfo{})
	if info.LastBlockHeight != 6 || !bytes.Equal(info.LastBlockAppHash, trusted) || b.FSM().Events("c1") != 1 {
		t.Fatalf("restored at %d %X", info.LastBlockHeight, info.LastBlockAppHash)
	}
	c.apps = []*App{a, b}
	wantCodes(t, c.block(time.Second, nil, c.event(c.keys[0], 1, c.start("c2", 0))), codeOK)

	if r, _ := b.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: trusted}); r.Result != abci.ResponseOfferSnapshot_ABORT {
		t.Fatalf("an offer to an App with blocks: %v", r.Result)
	}
	other := *snap
	other.Format = 9
	if r, _ := NewApp(m, c.prog).OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: &other, AppHash: trusted}); r.Result != abci.ResponseOfferSnapshot_REJECT_FORMAT {
		t.Fatalf("another format: %v", r.Result)
	}
}
