// This file implements sealing opaque bytes under a case's data key, for
// stores that are not the engine's event log: a raft cluster node seals
// each case's entries and snapshot part with a key of the case's own
// (runtime/cluster's CaseSealer), so that destroying that key shreds the
// case on the node and nothing else.

package audit

import "crypto/rand"

// SealBytes encrypts b under data key id (making it on first use), with
// AES-256-GCM bound to id. Once id is erased it is an *ErasedError.
func (k *Keys) SealBytes(id string, b []byte) ([]byte, error) {
	if _, err := k.CaseKey(id, true); err != nil {
		return nil, err
	}
	g, err := k.caseAEAD(id)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(b)+g.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, b, []byte(ShredPrefix+id)), nil
}

// OpenBytes reverses SealBytes; once id is erased it is an *ErasedError.
func (k *Keys) OpenBytes(id string, ct []byte) ([]byte, error) {
	g, err := k.caseAEAD(id)
	if err != nil {
		return nil, err
	}
	return openCT(g, id, ct)
}

// Holds reports whether the keys hold data key id, neither erased nor
// never made.
func (k *Keys) Holds(id string) bool {
	_, err := k.CaseKey(id, false)
	return err == nil
}
