// This file implements the replay of blocks that a version before the
// incremental state hash committed: their application hashes are the
// legacy ones (legacyhash.go). A validator restarted on this version
// loads a state saved by the old one (persist.go) and CometBFT then
// replays the blocks after it, checking each hash against the next
// header and the last against its stored state; a replay that answered
// the new hash for those blocks would stop at the first. So while the
// state is one the old version may have hashed (a legacy saved state,
// or none: the chain replays from its first block), each replayed block
// answers the hash the chain recorded for it when that is its legacy
// hash; the first block the chain has no hash for yet (the first new
// one), or whose recorded hash is the new one or neither, ends it for
// good. A chain of this version pays one comparison for it.
//
// A node that follows such a chain by block sync or consensus rather
// than by replay has no recorded hash for the block it applies, so it
// still cannot catch up through the old version's blocks: it restores a
// snapshot taken after the upgrade instead.

package bft

import (
	"bytes"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/store"
)

// blockHash is the application hash of the block at height just
// applied; a.mu is held.
func (a *App) blockHash(height int64) ([]byte, error) {
	h, err := a.hash()
	if err != nil || !a.legacy {
		return h, err
	}
	var rec []byte
	if a.recorded != nil {
		rec = a.recorded(height)
	}
	if rec != nil && !bytes.Equal(rec, h) {
		if old, err := a.legacyHash(); err == nil && bytes.Equal(old, rec) {
			return old, nil
		}
	}
	a.legacy = false
	return h, nil
}

// setRecorded sets where the App reads the hashes the chain recorded.
func (a *App) setRecorded(f func(height int64) []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recorded = f
}

// chainRecord reads what a node's CometBFT databases recorded: the
// block store and the state store, as the node opens them.
type chainRecord struct {
	mu            sync.Mutex
	blocks, state dbm.DB
}

// opened keeps the databases the record reads.
func (r *chainRecord) opened(id string, db dbm.DB) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch id {
	case "blockstore":
		r.blocks = db
	case "state":
		r.state = db
	}
}

// appHash returns the application hash the chain recorded for the block
// at height: the next block's header holds it, or, for the last block,
// the stored state; nil when neither does.
func (r *chainRecord) appHash(height int64) []byte {
	r.mu.Lock()
	blocks, state := r.blocks, r.state
	r.mu.Unlock()
	if blocks == nil || state == nil {
		return nil
	}
	if m := store.NewBlockStore(blocks).LoadBlockMeta(height + 1); m != nil {
		return m.Header.AppHash
	}
	if s, err := sm.NewStore(state, sm.StoreOptions{}).Load(); err == nil && s.LastBlockHeight == height {
		return s.AppHash
	}
	return nil
}
