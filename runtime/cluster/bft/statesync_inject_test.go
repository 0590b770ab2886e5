package bft

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/engine"
)

// TestStateSyncRefusesInjectedState: a peer that offers a snapshot
// whose FSM carries state the chain never committed (a tenancy, used
// one-time keys, audit records, accelerator time) is refused, though it
// answers the snapshot's own hash: the application hash covers every
// part of the FSM's state, not only the cases.
func TestStateSyncRefusesInjectedState(t *testing.T) {
	ctx := context.Background()
	c := newChain(t, 1, 2)
	a := c.apps[0]
	if err := a.Persist(Persistence{Path: filepath.Join(t.TempDir(), "app.json"), Every: 1}); err != nil {
		t.Fatal(err)
	}
	c.block(0, nil, c.lease(c.keys[0], 1), c.event(c.keys[0], 1, c.start("c1", 0)))
	if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	ls, _ := a.ListSnapshots(ctx, &abci.RequestListSnapshots{})
	snap := *ls.Snapshots[len(ls.Snapshots)-1]
	trusted, _ := a.AppHashAt(int64(snap.Height))
	chunk, _ := a.LoadSnapshotChunk(ctx, &abci.RequestLoadSnapshotChunk{Height: snap.Height, Format: snap.Format})
	rec := audit.Record{Time: "2026-12-03T00:00:00Z", Tenant: "acme", Action: "CreateTenant", Result: audit.ResultOK}
	rec.Hash = rec.ComputeHash()
	recs, _ := json.Marshal(map[string]any{"records": []audit.Record{rec}})
	m, _ := engine.NewMachine(compile(t))
	restore := func(data []byte) abci.ResponseApplySnapshotChunk_Result {
		b := NewApp(m, c.prog)
		s := snap
		sum := sha256.Sum256(data)
		s.Hash = sum[:] // the peer answers the hash of what it sends
		if r, _ := b.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: &s, AppHash: trusted}); r.Result != abci.ResponseOfferSnapshot_ACCEPT {
			t.Fatalf("offer: %v", r.Result)
		}
		r, err := b.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: 0, Chunk: data, Sender: "p"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Result
	}
	if r := restore(chunk.Chunk); r != abci.ResponseApplySnapshotChunk_ACCEPT {
		t.Fatalf("the snapshot as saved: %v", r)
	}
	for name, part := range map[string]string{
		"tenancy": `{"rev":3,"files":{"acme/tenant.json":"e30="},"founders":{"acme":"v0"}}`,
		"nonces":  `{"seen":{"acme\u0000n1":9},"newest":1}`,
		"audit":   string(recs),
		"accel":   `[{"i":1,"month":"2026-12","ns":5000000000,"calls":1}]`,
	} {
		var saved map[string]json.RawMessage
		if err := json.Unmarshal(chunk.Chunk, &saved); err != nil {
			t.Fatal(err)
		}
		var fsmBytes []byte
		var fsm map[string]json.RawMessage
		if err := json.Unmarshal(saved["fsm"], &fsmBytes); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(fsmBytes, &fsm); err != nil {
			t.Fatal(err)
		}
		fsm[name] = json.RawMessage(part)
		fsmBytes, _ = json.Marshal(fsm)
		saved["fsm"], _ = json.Marshal(fsmBytes)
		data, _ := json.Marshal(saved)
		if r := restore(data); r != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT {
			t.Errorf("a snapshot with an injected %s: %v, want it refused", name, r)
		}
	}
}
