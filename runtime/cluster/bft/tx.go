// This file implements the transactions of the Byzantine mode: a
// driver's lease claim or renewal, and an event the lease holder
// proposes, each signed with the validator's consensus key.

package bft

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/crypto"
)

// Kind says what a [Tx] does.
type Kind string

// The transactions.
const (
	// KindLease claims the driver's lease for Term (one more than the
	// current term, once the current lease has lapsed) or renews it
	// (the holder, at the current term).
	KindLease Kind = "lease"
	// KindEvent appends Cmd, an encoded cluster.Command of op event, for
	// the driver that holds the lease of Term.
	KindEvent Kind = "event"
	// KindLicence offers Licence, a deployment licence, to the chain
	// (chainlicence.go); any validator may, and the chain takes it when
	// it verifies against the genesis's issuer keys and is not older
	// than the one it holds.
	KindLicence Kind = "licence"
)

// txVersion is the first byte of every encoded Tx. It differs from the
// raft command's version byte, so a bare cluster command is refused as
// what it is.
const txVersion = 0xB1

// maxTx bounds an encoded transaction (CometBFT's default mempool
// limit is 1 MiB).
const maxTx = 1 << 20

// ErrBadTx wraps every failure to decode or verify a transaction.
var ErrBadTx = errors.New("bad bft transaction")

// Tx is one transaction of the chain.
type Tx struct {
	Kind Kind `json:"kind"`
	// Driver is the address (hex) of the validator whose consensus key
	// signs the transaction.
	Driver string `json:"driver"`
	Term   uint64 `json:"term"`
	// API is, in a lease, where the driver takes writes (host:port of
	// its knhk API), so that the other validators forward them.
	API string `json:"api,omitempty"`
	// Cmd is, in an event, the encoded cluster.Command.
	Cmd []byte `json:"cmd,omitempty"`
	// Licence is, in a licence transaction, the licence file's bytes.
	Licence []byte `json:"licence,omitempty"`
	// Tenant is, in an event, the tenant whose space of the chain the
	// command applies to ("" for the cluster's own, the default
	// tenant's; see space.go). It is signed with the rest.
	Tenant string `json:"tenant,omitempty"`
	// Sealed says, in an event of a sealed tenant, that Cmd is sealed
	// under the tenant's key (sealed.go). It is signed with the rest.
	Sealed bool `json:"sealed,omitempty"`
	// Nonce makes each transaction's bytes new: CometBFT's mempool
	// drops a transaction it has seen, so a renewal equal to the claim,
	// or an event sent again after a lost answer, would never reach a
	// block. The application does not read it.
	Nonce uint64 `json:"nonce,omitempty"`
	Sig   []byte `json:"sig,omitempty"`
}

// signBytes is what the driver signs: a domain that no CometBFT vote
// or proposal starts with, the chain id (a signature of one chain is
// no good on another) and the transaction without its signature.
func (t *Tx) signBytes(chainID string) []byte {
	c := *t
	c.Sig = nil
	b, _ := json.Marshal(&c)
	out := append([]byte("knhk-bft-tx/1\x00"), chainID...)
	out = append(out, 0)
	return append(out, b...)
}

// Sign signs t with key for chain chainID, setting Driver to the key's
// address and, when it has none, a random Nonce.
func (t *Tx) Sign(key crypto.PrivKey, chainID string) error {
	t.Driver = key.PubKey().Address().String()
	if t.Nonce == 0 {
		var b [8]byte
		rand.Read(b[:])
		t.Nonce = binary.LittleEndian.Uint64(b[:])
	}
	sig, err := key.Sign(t.signBytes(chainID))
	if err != nil {
		return err
	}
	t.Sig = sig
	return nil
}

// Verify checks t's signature against pub, the key of validator
// t.Driver.
func (t *Tx) Verify(pub crypto.PubKey, chainID string) error {
	if pub.Address().String() != t.Driver {
		return fmt.Errorf("%w: the key of %s does not match the signer", ErrBadTx, t.Driver)
	}
	if !pub.VerifySignature(t.signBytes(chainID), t.Sig) {
		return fmt.Errorf("%w: the signature of %s does not verify", ErrBadTx, short(t.Driver))
	}
	return nil
}

// Encode encodes t: the version byte, then JSON.
func (t *Tx) Encode() ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return append([]byte{txVersion}, b...), nil
}

// DecodeTx decodes a transaction written by [Tx.Encode] and checks that
// it is well formed (not that its signature verifies).
func DecodeTx(b []byte) (*Tx, error) {
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w: empty transaction", ErrBadTx)
	case len(b) > maxTx:
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBadTx, len(b), maxTx)
	case b[0] != txVersion:
		return nil, fmt.Errorf("%w: version byte %#x, want %#x (a bare cluster command is not a transaction of this mode)", ErrBadTx, b[0], txVersion)
	}
	var t Tx
	if err := json.Unmarshal(b[1:], &t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTx, err)
	}
	switch {
	case t.Kind != KindLease && t.Kind != KindEvent && t.Kind != KindLicence:
		return nil, fmt.Errorf("%w: unknown kind %q", ErrBadTx, t.Kind)
	case t.Driver == "" || len(t.Sig) == 0:
		return nil, fmt.Errorf("%w: %s without a signer or a signature", ErrBadTx, t.Kind)
	case t.Kind == KindLicence && (len(t.Licence) == 0 || len(t.Cmd) != 0 || t.Tenant != ""):
		return nil, fmt.Errorf("%w: a licence transaction carries a licence and nothing else", ErrBadTx)
	case t.Kind != KindLicence && len(t.Licence) != 0:
		return nil, fmt.Errorf("%w: %s with a licence", ErrBadTx, t.Kind)
	case t.Term == 0 && t.Kind != KindLicence:
		return nil, fmt.Errorf("%w: %s of term 0 (terms start at 1)", ErrBadTx, t.Kind)
	case t.Kind == KindEvent && len(t.Cmd) == 0:
		return nil, fmt.Errorf("%w: event without a command", ErrBadTx)
	case t.Kind == KindLease && len(t.Cmd) != 0:
		return nil, fmt.Errorf("%w: lease with a command", ErrBadTx)
	case t.Kind == KindLease && t.Tenant != "":
		return nil, fmt.Errorf("%w: lease of tenant %q (the lease is the chain's, never a tenant's)", ErrBadTx, t.Tenant)
	case t.Sealed && (t.Kind != KindEvent || t.Tenant == ""):
		return nil, fmt.Errorf("%w: a sealed %s without a tenant", ErrBadTx, t.Kind)
	case len(t.Tenant) > maxTenant:
		return nil, fmt.Errorf("%w: a tenant id of %d bytes (at most %d)", ErrBadTx, len(t.Tenant), maxTenant)
	}
	return &t, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
