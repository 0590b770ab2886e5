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

// keepSnapshots is how many saved states an App offers: a node that
// discovered one fetches it some seconds later, after newer saves.
const keepSnapshots = 3

// snapshot is a saved state offered to state sync.
type snapshot struct {
	height int64
	data   []byte
	sum    [sha256.Size]byte // of data, answered by every ListSnapshots
}

// offer offers the state just saved or loaded at a.height, unless the
// last one offered is less than the spacing below it; a.mu is held.
func (a *App) offer(b []byte) {
	if n := len(a.snaps); n > 0 && a.height < a.snaps[n-1].height+a.persist.SnapshotSpacing {
		return
	}
	a.snaps = append(a.snaps, snapshot{a.height, b, sha256.Sum256(b)})
	if len(a.snaps) > keepSnapshots {
		a.snaps = a.snaps[1:]
	}
}

// restoring is a snapshot being restored.
type restoring struct {
	snap    abci.Snapshot
	appHash []byte // what the light client trusts for the snapshot's height
	buf     bytes.Buffer
}

// ListSnapshots offers the last saved states.
func (a *App) ListSnapshots(context.Context, *abci.RequestListSnapshots) (*abci.ResponseListSnapshots, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := &abci.ResponseListSnapshots{}
	for _, sn := range a.snaps {
		n := (len(sn.data) + chunkSize - 1) / chunkSize
		res.Snapshots = append(res.Snapshots, &abci.Snapshot{Height: uint64(sn.height), Format: snapshotFormat, Chunks: uint32(n), Hash: append([]byte(nil), sn.sum[:]...)})
	}
	return res, nil
}

// LoadSnapshotChunk answers a chunk of an offered state; nothing for a
// state no longer offered.
func (a *App) LoadSnapshotChunk(_ context.Context, req *abci.RequestLoadSnapshotChunk) (*abci.ResponseLoadSnapshotChunk, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, sn := range a.snaps {
		from := int(req.Chunk) * chunkSize
		if req.Format == snapshotFormat && req.Height == uint64(sn.height) && from < len(sn.data) {
			return &abci.ResponseLoadSnapshotChunk{Chunk: sn.data[from:min(from+chunkSize, len(sn.data))]}, nil
		}
	}
	return &abci.ResponseLoadSnapshotChunk{}, nil
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
	// A sealed tenant's space in it opens under this node's seal root
	// (sealed.go); one whose leaf this node punctured does not, and
	// the snapshot is refused.
	scratch := NewApp(a.m, a.prog)
	scratch.sealRoot = a.sealRoot
	if err := scratch.load(b); err != nil || !bytes.Equal(scratch.appHash, r.appHash) || scratch.height != int64(r.snap.Height) {
		return reject, nil
	}
	if err := a.load(b); err != nil {
		return nil, fmt.Errorf("restoring a checked snapshot: %w", err)
	}
	a.offer(append([]byte(nil), b...))
	if a.persist.Path != "" {
		if err := a.save(); err != nil {
			return nil, fmt.Errorf("saving the restored state: %w", err)
		}
	}
	return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ACCEPT}, nil
}
