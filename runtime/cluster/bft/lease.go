// This file implements the driver's lease: which validator runs the
// engine that decides events, chosen by committed transactions only, so
// that every validator agrees on it and a deposed driver's events are
// refused by the block that would apply them.

package bft

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefaultLease is how long a driver's lease lasts past the block that
// granted or renewed it, when the genesis does not say.
const DefaultLease = 5 * time.Second

// ErrDeposed is the outcome of an event whose driver does not hold the
// lease of its term: a driver that lost the lease (or never held it).
var ErrDeposed = errors.New("not the driver: the lease is not held at this term")

// ErrLeaseHeld is the outcome of a claim while another validator's
// lease has not lapsed, or of a claim at a term that is not the next.
var ErrLeaseHeld = errors.New("lease refused")

// Lease is the committed lease of the driver.
type Lease struct {
	// Driver is the address of the validator that drives, "" when none
	// does (before the first claim, after the holder was removed).
	Driver string `json:"driver,omitempty"`
	// Term counts the grants: each new holder's term is one more.
	Term uint64 `json:"term"`
	// API is where the driver takes writes, as its claim said.
	API string `json:"api,omitempty"`
	// Expiry is the block time (Unix nanoseconds, from the block
	// header) from which another validator may claim the next term.
	Expiry int64 `json:"expiry,omitempty"`
	// Height is the block that granted the term.
	Height int64 `json:"height,omitempty"`
}

// Genesis is the application's part of the genesis (its app_state):
// what every validator must agree on before the first block.
type Genesis struct {
	// LeaseMillis is the lease's length in milliseconds of block time,
	// DefaultLease when 0.
	LeaseMillis int64 `json:"lease_ms,omitempty"`
	// LicenceTrust are the public keys (PEM) of the licence issuers the
	// chain trusts: a deployment licence must verify against one of
	// them (chainlicence.go). None: the chain takes no licence.
	LicenceTrust []string `json:"licence_trust,omitempty"`
	// DeployTrust are the public keys (PEM) whose signature a deploy
	// must carry (deploy.go): every validator checks it, in CheckTx and
	// in the block. None: a deploy that compiles is taken unsigned, as
	// on a raft node without --trust.
	DeployTrust []string `json:"deploy_trust,omitempty"`
}

func parseGenesis(b []byte) (time.Duration, error) {
	g, err := decodeGenesis(b)
	if err != nil {
		return 0, err
	}
	switch {
	case g.LeaseMillis < 0:
		return 0, fmt.Errorf("genesis app_state: lease_ms %d is negative", g.LeaseMillis)
	case g.LeaseMillis == 0:
		return DefaultLease, nil
	}
	return time.Duration(g.LeaseMillis) * time.Millisecond, nil
}

// decodeGenesis decodes the application's part of the genesis and
// checks its licence issuer keys.
func decodeGenesis(b []byte) (*Genesis, error) {
	var g Genesis
	if len(b) > 0 && string(b) != "null" {
		if err := json.Unmarshal(b, &g); err != nil {
			return nil, fmt.Errorf("genesis app_state: %v", err)
		}
	}
	if _, err := trustOf(g.LicenceTrust); err != nil {
		return nil, fmt.Errorf("genesis app_state: %v", err)
	}
	if _, err := deployTrustOf(g.DeployTrust); err != nil {
		return nil, fmt.Errorf("genesis app_state: %v", err)
	}
	return &g, nil
}

// grant applies a lease transaction of block time now (Unix
// nanoseconds) at height; a.mu is held. The holder renews at its term
// at any time; another validator takes the next term once the block
// time has reached the lease's expiry, or at once when nobody holds
// it. Claims in one block are taken in order: the first wins, the rest
// are refused as behind.
func (a *App) grant(t *Tx, now, height int64) error {
	l := &a.lease
	switch {
	case t.Term == l.Term && t.Driver == l.Driver && l.Driver != "":
		l.Expiry = now + int64(a.leaseLen)
		if t.API != "" {
			l.API = t.API
		}
		return nil
	case t.Term != l.Term+1:
		return fmt.Errorf("%w: the claim is for term %d, the lease is at term %d (held by %s)", ErrLeaseHeld, t.Term, l.Term, orNone(short(l.Driver)))
	case l.Driver != "" && now < l.Expiry:
		return fmt.Errorf("%w: %s holds term %d for %v more of block time", ErrLeaseHeld, short(l.Driver), l.Term, time.Duration(l.Expiry-now))
	}
	*l = Lease{Driver: t.Driver, Term: t.Term, API: t.API, Expiry: now + int64(a.leaseLen), Height: height}
	return nil
}

// admit says whether the event transaction t comes from the lease
// holder at its term; a.mu is held. The FSM's position check then
// makes sure that it appends where the case is.
func (a *App) admit(t *Tx) error {
	l := &a.lease
	if l.Driver == "" || t.Driver != l.Driver || t.Term != l.Term {
		return fmt.Errorf("%w: event of %s at term %d, the lease is at term %d (held by %s)", ErrDeposed, short(t.Driver), t.Term, l.Term, orNone(short(l.Driver)))
	}
	return nil
}

// Lease returns the committed lease.
func (a *App) Lease() Lease {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lease
}

// LeaseLength returns the lease's length in block time, as the genesis
// says.
func (a *App) LeaseLength() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.leaseLen
}

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}
