// This file implements the application's state on disk: every so many
// blocks Commit writes the whole state (FSM, lease, validator set) with
// its height and hash, so that a restarted validator replays only the
// blocks after it, and so that CometBFT may prune the blocks before it.

package bft

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/secp256k1"

	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/runtime/cluster"
)

// ErrBadState wraps every failure to load the application's saved
// state: the validator then refuses to start rather than run from a
// state the chain does not certify.
var ErrBadState = errors.New("bad saved application state")

// savedState is the file's content.
type savedState struct {
	V        int        `json:"v"`
	Height   int64      `json:"height"`
	AppHash  []byte     `json:"app_hash"`
	Chain    string     `json:"chain"`
	LeaseLen int64      `json:"lease_len"`
	Lease    Lease      `json:"lease"`
	Vals     []savedVal `json:"vals"`
	Removed  []Removal  `json:"removed,omitempty"`
	FSM      []byte     `json:"fsm"`
	// Spaces are the tenants' FSMs (space.go), by tenant.
	Spaces map[string][]byte `json:"spaces,omitempty"`
	// LicenceTrust and Licence are the genesis's licence issuer keys
	// and the licence the chain holds (chainlicence.go).
	LicenceTrust []string `json:"licence_trust,omitempty"`
	Licence      []byte   `json:"licence,omitempty"`
	// DeployTrust are the genesis's deploy keys (deploy.go).
	DeployTrust []string `json:"deploy_trust,omitempty"`
	// Seals are the sealed and erased tenants (sealed.go); a sealed
	// tenant's entry of Spaces is sealed under its key.
	Seals *sealState `json:"seals,omitempty"`
}

// savedVal is a validator: its key's type and bytes, and its power.
type savedVal struct {
	Type  string `json:"type"`
	Key   []byte `json:"key"`
	Power int64  `json:"power"`
}

const savedVersion = 1

// Persistence says where and how often an App saves its state.
type Persistence struct {
	// Path is the file; empty for an App that keeps its state in
	// memory only (and replays the chain from its first block after a
	// restart).
	Path string
	// Every is how many blocks apart the saves are (1 when 0).
	Every int64
	// KeepBlocks, when positive, lets CometBFT prune the blocks more
	// than KeepBlocks below the last saved state; 0 keeps every block.
	// A pruned validator cannot serve the pruned blocks to a validator
	// that is further behind: keep some validators unpruned.
	KeepBlocks int64
	// SnapshotSpacing is how many blocks apart the saves offered to
	// state sync are, at least (DefaultSnapshotSpacing when 0): a node
	// that discovers a snapshot fetches it seconds later, so the few
	// offered must not all be replaced meanwhile.
	SnapshotSpacing int64
}

// DefaultSnapshotSpacing is the least distance, in blocks, between two
// snapshots offered to state sync.
const DefaultSnapshotSpacing = 50

// Persist makes a save the application's state as p says, and first
// loads the state p.Path holds, if any. Call it before the node starts.
// A file that does not decode, or whose state does not hash to the hash
// it was saved with, is refused.
func (a *App) Persist(p Persistence) error {
	if p.Every <= 0 {
		p.Every = 1
	}
	if p.SnapshotSpacing <= 0 {
		p.SnapshotSpacing = DefaultSnapshotSpacing
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.persist = p
	b, err := os.ReadFile(p.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := a.load(b); err != nil {
		return fmt.Errorf("%s: %w", p.Path, err)
	}
	a.offer(b)
	return nil
}

// load restores a saved state; a.mu is held.
func (a *App) load(b []byte) error {
	var s savedState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if s.V != savedVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, s.V, savedVersion)
	}
	if err := a.fsm.Restore(io.NopCloser(bytes.NewReader(s.FSM))); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	a.seals, a.leaves, a.punctures = sealState{}, nil, nil
	if s.Seals != nil {
		a.seals = *s.Seals
	}
	// A sealed space's additional data names the chain (sealed.go): a
	// restarted validator has had no InitChain, a node restoring a
	// snapshot neither.
	a.chainID = s.Chain
	spaces := map[string]*cluster.FSM{}
	for id, b := range s.Spaces {
		if id == "" || len(id) > maxTenant {
			return fmt.Errorf("%w: a space of tenant %q", ErrBadState, id)
		}
		b, err := a.openSpace(id, b) // a sealed tenant's (sealed.go)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadState, err)
		}
		f := cluster.NewFSM(a.m, a.prog)
		if err := f.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
			return fmt.Errorf("%w: tenant %s: %v", ErrBadState, id, err)
		}
		spaces[id] = f
	}
	a.smu.Lock()
	a.spaces = spaces
	a.smu.Unlock()
	a.vals = map[string]*member{}
	var ups []abci.ValidatorUpdate
	for _, v := range s.Vals {
		if v.Type != ed25519.KeyType && v.Type != secp256k1.KeyType {
			return fmt.Errorf("%w: a validator key of type %q", ErrBadState, v.Type)
		}
		ups = append(ups, abci.UpdateValidator(v.Key, v.Power, v.Type))
	}
	if err := a.setValidators(ups); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if _, err := trustOf(s.LicenceTrust); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if _, err := deployTrustOf(s.DeployTrust); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	a.chainID, a.leaseLen, a.lease, a.removed = s.Chain, time.Duration(s.LeaseLen), s.Lease, s.Removed
	a.licTrust, a.licence, a.deployTrust = s.LicenceTrust, s.Licence, s.DeployTrust
	h, err := a.hash()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	a.legacy = false
	if !bytes.Equal(h, s.AppHash) {
		if old, err := a.legacyHash(); err == nil && bytes.Equal(old, s.AppHash) {
			// Saved by a version that hashed the whole snapshot: the
			// chain holds that hash for this block and for the blocks
			// that version applied after it, which CometBFT replays
			// (legacyreplay.go); the new blocks commit the incremental
			// one.
			h, a.legacy = old, true
		}
	}
	if !bytes.Equal(h, s.AppHash) {
		return fmt.Errorf("%w: the state of block %d hashes to %X, saved as %X (the file is damaged)", ErrBadState, s.Height, h, s.AppHash)
	}
	a.height, a.appHash, a.saved = s.Height, h, s.Height
	a.hashes[s.Height] = h
	return nil
}

// save writes the state of the last block, atomically; a.mu is held.
func (a *App) save() error {
	fsm, err := encodeFSM(a.fsm)
	if err != nil {
		return err
	}
	s := savedState{V: savedVersion, Height: a.height, AppHash: a.appHash, Chain: a.chainID, LeaseLen: int64(a.leaseLen),
		Lease: a.lease, Removed: a.removed, FSM: fsm, LicenceTrust: a.licTrust, Licence: a.licence, DeployTrust: a.deployTrust, Seals: a.sealHash()}
	for _, id := range a.Spaces() {
		b, err := encodeFSM(a.Space(id))
		if err != nil {
			return fmt.Errorf("tenant %s: %w", id, err)
		}
		if b, err = a.sealSpace(id, b); err != nil { // sealed.go
			return fmt.Errorf("tenant %s: %w", id, err)
		}
		if s.Spaces == nil {
			s.Spaces = map[string][]byte{}
		}
		s.Spaces[id] = b
	}
	for _, v := range a.vals {
		s.Vals = append(s.Vals, savedVal{Type: v.pub.Type(), Key: v.pub.Bytes(), Power: v.power})
	}
	// In a fixed order: validators that save the same block offer the
	// same snapshot, which state sync then fetches from all of them.
	sort.Slice(s.Vals, func(i, j int) bool { return bytes.Compare(s.Vals[i].Key, s.Vals[j].Key) < 0 })
	b, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(a.persist.Path, b, 0o600); err != nil {
		return err
	}
	a.saved = a.height
	a.offer(b)
	return nil
}

// encodeFSM returns f's snapshot.
func encodeFSM(f *cluster.FSM) ([]byte, error) {
	snap, err := f.Snapshot()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := snap.Persist(&sink{Buffer: &b}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sink is a raft.SnapshotSink into memory.
type sink struct{ *bytes.Buffer }

func (sink) ID() string    { return "bft" }
func (sink) Cancel() error { return nil }
func (sink) Close() error  { return nil }
