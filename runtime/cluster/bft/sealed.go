// This file implements sealed tenants on a CometBFT chain (knhk tenant
// create --encrypt on knhk serve --bft --tenants) and their erasure
// (knhk tenant erase): docs/cluster.md, "Sealed tenants and erasure on
// a chain".
//
// A tenant the tenancy marks encrypted gets the chain's next sealed
// index n, in the block that created it, alike on every validator.
// Its transactions carry their commands sealed with AES-256-GCM under
// leaf n of the validators' seal root (sealroot.go): the blocks hold
// only ciphertext, and every validator opens a command in CheckTx and
// in the block and applies it as any tenant's. Its space is sealed
// under the same key in the saved state and the state-sync snapshots.
//
// Once the tenancy marks the tenant erased, the block that says so
// drops its space on every validator and leaves a tombstone in the
// application state; the tenant's transactions are refused from then
// on. At that block's Commit each validator saves its state, forgets
// the older saves (which hold the sealed space) and punctures leaf n,
// so no key it keeps opens what the blocks still hold of the tenant.
// Blocks, headers and application hashes are untouched.

package bft

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// TenantSeal is what the tenancy says of a tenant's sealing: read by
// the TenancyReader the validator is given.
type TenantSeal struct {
	ID      string
	Encrypt bool // created with --encrypt
	Erased  bool // erased (crypto-shredded)
}

// TenancyReader reads the tenants' sealing from the tenancy's files
// (server/tenant's registry, tenants.json). Every validator must have
// the same.
type TenancyReader func(files map[string][]byte) ([]TenantSeal, error)

// SetSealing makes the application seal the tenants the tenancy marks
// encrypted, under root (nil on a home without one: such a tenant's
// transactions are then refused, and knhk tenant create --encrypt is
// refused before them), reading the tenancy with read. Call it before
// the node starts.
func (a *App) SetSealing(root *SealRoot, read TenancyReader) {
	a.sealRoot, a.readSeals = root, read
}

// OnErased has f told, on this validator, of each tenant whose key it
// destroyed, for its own files of the tenant. Call it before the node
// starts.
func (a *App) OnErased(f func(tenant string)) { a.onErased = f }

// Seals says whether this validator can seal tenants: it has a seal
// root and a tenancy reader.
func (a *App) Seals() bool { return a.sealRoot != nil && a.readSeals != nil }

// sealState is the chain's sealed tenants, in the application state.
type sealState struct {
	// Index is each sealed tenant's leaf; Next the next one given.
	Index map[string]uint32 `json:"index,omitempty"`
	Next  uint32            `json:"next,omitempty"`
	// Erased is each erased tenant's block.
	Erased map[string]int64 `json:"erased,omitempty"`
}

func (s *sealState) empty() bool { return len(s.Index) == 0 && len(s.Erased) == 0 }

// syncSeals reads the tenancy after a change applied at height: a
// tenant newly marked encrypted gets the next index, one newly marked
// erased is erased here (its space dropped, its leaf punctured at
// Commit). a.mu is held.
func (a *App) syncSeals(height int64) {
	if a.readSeals == nil {
		return
	}
	ts, err := a.readSeals(a.fsm.Tenancy().Files)
	if err != nil {
		return // alike on every validator: nothing changes
	}
	slices.SortFunc(ts, func(x, y TenantSeal) int {
		switch {
		case x.ID < y.ID:
			return -1
		case x.ID > y.ID:
			return 1
		}
		return 0
	})
	s := &a.seals
	for _, t := range ts {
		_, sealed := s.Index[t.ID]
		_, erased := s.Erased[t.ID]
		switch {
		case t.Encrypt && !sealed && !erased:
			if s.Index == nil {
				s.Index = map[string]uint32{}
			}
			s.Index[t.ID] = s.Next
			s.Next++
		case t.Erased && sealed && !erased:
			if s.Erased == nil {
				s.Erased = map[string]int64{}
			}
			s.Erased[t.ID] = height
			a.smu.Lock()
			delete(a.spaces, t.ID)
			a.smu.Unlock()
			delete(a.leaves, t.ID)
			a.punctures = append(a.punctures, s.Index[t.ID])
		}
	}
}

// ErrErasedTenant is the outcome of a transaction of an erased tenant.
var ErrErasedTenant = errors.New("tenant erased")

// sealOf returns tenant's leaf index, whether it is sealed, and the
// refusal of a transaction of an erased tenant; a.mu is held.
func (a *App) sealOf(tenant string) (uint32, bool, error) {
	if h, ok := a.seals.Erased[tenant]; ok {
		return 0, false, fmt.Errorf("%w: tenant %s was erased (crypto-shredded) at block %d", ErrErasedTenant, tenant, h)
	}
	n, ok := a.seals.Index[tenant]
	return n, ok, nil
}

// leafSeal is a sealed tenant's key and its AES-256-GCM, made once per
// tenant rather than once per command sealed or opened.
type leafSeal struct {
	key  []byte
	aead cipher.AEAD
}

// leafAEAD returns sealed tenant's key and its AES-256-GCM; a.mu is
// held.
func (a *App) leafAEAD(tenant string, n uint32) ([]byte, cipher.AEAD, error) {
	if l, ok := a.leaves[tenant]; ok {
		return l.key, l.aead, nil
	}
	if a.sealRoot == nil {
		return nil, nil, fmt.Errorf("tenant %s is sealed and this validator has no seal root (%s in its home; knhk cluster bft-init writes it)", tenant, SealRootFile)
	}
	k, err := a.sealRoot.Leaf(n)
	if err != nil {
		return nil, nil, fmt.Errorf("tenant %s: %w", tenant, err)
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, nil, err
	}
	if a.leaves == nil {
		a.leaves = map[string]leafSeal{}
	}
	a.leaves[tenant] = leafSeal{key: k, aead: g}
	return k, g, nil
}

// sealAD is the additional data of a sealed command or space: the
// chain, the tenant, its leaf and what is sealed.
func (a *App) sealAD(what, tenant string, n uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	out := append([]byte("knhk-bft-sealed/1\x00"+what+"\x00"), a.chainID...)
	out = append(append(out, 0), tenant...)
	return append(append(out, 0), b[:]...)
}

// sealFor seals b of tenant as what; a.mu is held.
func (a *App) sealFor(what, tenant string, n uint32, b []byte) ([]byte, error) {
	k, g, err := a.leafAEAD(tenant, n)
	if err != nil {
		return nil, err
	}
	// A synthetic nonce (of the key, the additional data and b): the
	// validators that save one block seal its spaces to the same bytes,
	// so they offer state sync the same snapshot; a nonce repeats only
	// with what it seals, and so does the ciphertext.
	ad := a.sealAD(what, tenant, n)
	m := hmac.New(sha256.New, k)
	m.Write(ad)
	m.Write(b)
	nonce := m.Sum(nil)[:g.NonceSize()]
	return g.Seal(slices.Clip(nonce), nonce, b, ad), nil
}

// openFor opens what sealFor sealed; a.mu is held.
func (a *App) openFor(what, tenant string, n uint32, b []byte) ([]byte, error) {
	_, g, err := a.leafAEAD(tenant, n)
	if err != nil {
		return nil, err
	}
	if len(b) < g.NonceSize() {
		return nil, fmt.Errorf("%w: tenant %s's sealed %s is %d bytes", ErrBadTx, tenant, what, len(b))
	}
	pt, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], a.sealAD(what, tenant, n))
	if err != nil {
		return nil, fmt.Errorf("%w: tenant %s's sealed %s does not open under its key", ErrBadTx, tenant, what)
	}
	return pt, nil
}

// openTx opens a tenant transaction's command in place when the tenant
// is sealed, and refuses a sealed command of a tenant that is not, a
// plain one of a tenant that is, and any of an erased tenant; a.mu is
// held.
func (a *App) openTx(t *Tx) error {
	if t.Tenant == "" {
		if t.Sealed {
			return fmt.Errorf("%w: a sealed command of the cluster's own space", ErrBadTx)
		}
		return nil
	}
	n, sealed, err := a.sealOf(t.Tenant)
	switch {
	case err != nil:
		return err
	case sealed != t.Sealed && sealed:
		return fmt.Errorf("%w: tenant %s is sealed and the command is in clear", ErrBadTx, t.Tenant)
	case sealed != t.Sealed:
		return fmt.Errorf("%w: a sealed command of tenant %s, which is not sealed", ErrBadTx, t.Tenant)
	case !sealed:
		return nil
	}
	pt, err := a.openFor("cmd", t.Tenant, n, t.Cmd)
	if err != nil {
		return err
	}
	t.Cmd, t.Sealed = pt, false
	return nil
}

// SealCommand returns cmd as tenant's transaction carries it: sealed
// when the tenant is (and sealed true).
func (a *App) SealCommand(tenant string, cmd []byte) (out []byte, sealed bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if tenant == "" {
		return cmd, false, nil
	}
	n, ok, err := a.sealOf(tenant)
	if err != nil || !ok {
		return cmd, false, err
	}
	out, err = a.sealFor("cmd", tenant, n, cmd)
	return out, true, err
}

// sealedLog opens a sealed tenant's refusal in a block's answer.
const sealedLog = "sealed:"

// sealLog returns the log of tx's refusal msg: sealed under the
// tenant's key when tx is a sealed tenant's; a.mu is held.
func (a *App) sealLog(tx []byte, msg string) string {
	t, err := DecodeTx(tx)
	if err != nil || !t.Sealed {
		return msg
	}
	n, ok, err := a.sealOf(t.Tenant)
	if err != nil || !ok {
		return msg // the tenant's erasure: nothing of its command
	}
	b, err := a.sealFor("log", t.Tenant, n, []byte(msg))
	if err != nil {
		return "a refusal of a sealed tenant's transaction"
	}
	return sealedLog + base64.StdEncoding.EncodeToString(b)
}

// openLogs replaces, in err's message, a sealed refusal of tenant's by
// its words.
func (a *App) openLogs(tenant string, err error) error {
	msg := err.Error()
	i := strings.Index(msg, sealedLog)
	if i < 0 {
		return err
	}
	end := i + len(sealedLog)
	for end < len(msg) && strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", msg[end]) >= 0 {
		end++
	}
	b, derr := base64.StdEncoding.DecodeString(msg[i+len(sealedLog) : end])
	if derr != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n, ok, serr := a.sealOf(tenant)
	if serr != nil || !ok {
		return err
	}
	pt, oerr := a.openFor("log", tenant, n, b)
	if oerr != nil {
		return err
	}
	return &openedErr{msg: msg[:i] + string(pt) + msg[end:], err: err}
}

// openedErr is an error whose sealed refusal was opened: its words,
// and what it wraps.
type openedErr struct {
	msg string
	err error
}

func (e *openedErr) Error() string { return e.msg }
func (e *openedErr) Unwrap() error { return e.err }

// TenantErased returns the block at which tenant was erased, false when
// it was not.
func (a *App) TenantErased(tenant string) (int64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.seals.Erased[tenant]
	return h, ok
}

// shred punctures the erased tenants' leaves once the state that no
// longer holds them is saved, and forgets the older saves offered to
// state sync; a.mu is held.
func (a *App) shred() error {
	if len(a.punctures) == 0 {
		return nil
	}
	if a.persist.Path != "" && a.saved < a.height {
		if err := a.save(); err != nil {
			return err
		}
	}
	// The saves before this one hold the sealed spaces.
	a.snaps = slices.DeleteFunc(a.snaps, func(s snapshot) bool { return s.height < a.height })
	if a.sealRoot != nil {
		for _, n := range a.punctures {
			if err := a.sealRoot.Puncture(n); err != nil {
				return fmt.Errorf("destroying a sealed tenant's key: %w", err)
			}
		}
	}
	if a.onErased != nil {
		for id, n := range a.seals.Erased {
			if n == a.height {
				a.onErased(id)
			}
		}
	}
	a.punctures = nil
	return nil
}

// sealSpace returns, in the saved state, tenant's space bytes b
// sealed when the tenant is; a.mu is held.
func (a *App) sealSpace(tenant string, b []byte) ([]byte, error) {
	n, ok := a.seals.Index[tenant]
	if !ok {
		return b, nil
	}
	return a.sealFor("space", tenant, n, b)
}

// openSpace reverses sealSpace; a.mu is held.
func (a *App) openSpace(tenant string, b []byte) ([]byte, error) {
	n, ok := a.seals.Index[tenant]
	if !ok {
		return b, nil
	}
	return a.openFor("space", tenant, n, b)
}

// sealHash is the sealing in the application hash: nil without sealed
// tenants, so that a chain without them hashes as before.
func (a *App) sealHash() *sealState {
	if a.seals.empty() {
		return nil
	}
	s := sealState{Index: maps.Clone(a.seals.Index), Next: a.seals.Next, Erased: maps.Clone(a.seals.Erased)}
	return &s
}
