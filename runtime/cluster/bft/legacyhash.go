// This file implements the application hash of versions before the
// FSM's state hash was incremental, which a saved state may still carry.

package bft

import (
	"bytes"
	"crypto/sha256"
)

// legacyHash is the application hash as versions before the
// incremental state hash computed it, from the SHA-256 of the whole FSM
// snapshot; load accepts a saved state that carries it, so that a
// validator restarted on this version resumes its chain; a.mu is held.
func (a *App) legacyHash() ([]byte, error) {
	snap, err := a.fsm.Snapshot()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := snap.Persist(&sink{Buffer: &b}); err != nil {
		return nil, err
	}
	fh := sha256.Sum256(b.Bytes())
	return a.hashWith(fh[:])
}
