// This file implements the application's half of CometBFT's state
// sync: a validator that saves its state offers the last save as a
// snapshot, and a new node restores it, checked against the application
// hash its light client trusts, instead of replaying every block.

package bft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
)

// snapshotFormat is the format of the snapshots: the saved state's
// encoding (see persist.go), in chunks.
const snapshotFormat = 1

// chunkSize is the size of a snapshot chunk, below CometBFT's limit on
// a chunk message (16 MB).
const chunkSize = 4 << 20

// restoring is a snapshot being restored.
type restoring struct {
	snap    abci.Snapshot
	appHash []byte // what the light client trusts for the snapshot's height
	buf     bytes.Buffer
}

// ListSnapshots offers the last saved state.
func (a *App) ListSnapshots(context.Context, *abci.RequestListSnapshots) (*abci.ResponseListSnapshots, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.snap) == 0 {
		return &abci.ResponseListSnapshots{}, nil
	}
	sum := sha256.Sum256(a.snap)
	n := (len(a.snap) + chunkSize - 1) / chunkSize
	return &abci.ResponseListSnapshots{Snapshots: []*abci.Snapshot{{Height: uint64(a.snapHeight), Format: snapshotFormat, Chunks: uint32(n), Hash: sum[:]}}}, nil
}

// LoadSnapshotChunk answers a chunk of the last saved state; nothing
// when the state has been saved again since it was offered.
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.RequestLoadSnapshotChunk) (*abci.ResponseLoadSnapshotChunk, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.Format != snapshotFormat || req.Height != uint64(a.snapHeight) || int(req.Chunk)*chunkSize >= len(a.snap) {
		return &abci.ResponseLoadSnapshotChunk{}, nil
	}
	from := int(req.Chunk) * chunkSize
	return &abci.ResponseLoadSnapshotChunk{Chunk: a.snap[from:min(from+chunkSize, len(a.snap))]}, nil
}

// OfferSnapshot accepts a snapshot of this format for an App that has
// applied no block.
func (a *App) OfferSnapshot(_ context.Context, req *abci.RequestOfferSnapshot) (*abci.ResponseOfferSnapshot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case req.Snapshot == nil || req.Snapshot.Format != snapshotFormat:
		return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_REJECT_FORMAT}, nil
	case a.height != 0:
		return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_ABORT}, nil
	}
	a.restoring = &restoring{snap: *req.Snapshot, appHash: req.AppHash}
	return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_ACCEPT}, nil
}

// ApplySnapshotChunk takes the chunks in order; with the last, it
// checks the snapshot's hash, then that its state hashes to the hash
// the light client trusts, and only then takes it as its state (and
// saves it when the App persists).
func (a *App) ApplySnapshotChunk(_ context.Context, req *abci.RequestApplySnapshotChunk) (*abci.ResponseApplySnapshotChunk, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.restoring
	reject := &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT, RejectSenders: []string{req.Sender}}
	if r == nil {
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ABORT}, nil
	}
	if req.Index != uint32(r.buf.Len()/chunkSize) || r.buf.Len()%chunkSize != 0 {
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_RETRY_SNAPSHOT}, nil
	}
	r.buf.Write(req.Chunk)
	if req.Index+1 < r.snap.Chunks {
		return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ACCEPT}, nil
	}
	a.restoring = nil
	b := r.buf.Bytes()
	if sum := sha256.Sum256(b); !bytes.Equal(sum[:], r.snap.Hash) {
		return reject, nil
	}
	// Check on a scratch App first: a snapshot that does not load, or
	// whose state is not the trusted one, leaves this App as it was.
	scratch := NewApp(a.m, a.prog)
	if err := scratch.load(b); err != nil || !bytes.Equal(scratch.appHash, r.appHash) || scratch.height != int64(r.snap.Height) {
		return reject, nil
	}
	if err := a.load(b); err != nil {
		return nil, fmt.Errorf("restoring a checked snapshot: %w", err)
	}
	a.snap, a.snapHeight = append([]byte(nil), b...), a.height
	if a.persist.Path != "" {
		if err := a.save(); err != nil {
			return nil, fmt.Errorf("saving the restored state: %w", err)
		}
	}
	return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ACCEPT}, nil
}
