// This file implements the tenants' spaces of one chain (knhk serve
// --bft --tenants): every tenant's cases live in an FSM of their own
// inside the application, and every event transaction names the tenant
// whose space it applies to. The chain, its lease and its validators
// are shared; the cases, request ids, one-time keys and accelerator
// time are each tenant's.
//
// Why spaces rather than a chain per tenant (the raft mode's group per
// tenant): a CometBFT chain is a validator set, a consensus and a
// block store; a chain per tenant would multiply them all, and a
// Byzantine driver's lease is the chain's. Why an FSM per tenant rather
// than the tenant's id inside every case id of one FSM: a space cannot
// reach another's cases by construction, so isolation does not rest on
// every read and write filtering by tenant, and the API, console and
// history serve a space as they serve the cluster's own FSM.
//
// What every validator checks, deterministically, before a tenant's
// transaction applies: the tenant was created by a committed change of
// the cluster's tenancy (it has a founder there), and the command is
// an event; a tenancy change, an audit record or any other command is
// the cluster's, and only the cluster's own space (Tenant "") takes
// them; the audit record of the call a tenant's event carries out rides
// in its transaction too, and goes into the cluster's own space's audit
// chain (audit.go). So a Byzantine driver cannot make one tenant's transaction
// touch another tenant's cases or the tenancy; it decides events only
// in the space its transaction names, as it decides them in the
// cluster's own.

package bft

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/knhk/knhk/runtime/cluster"
)

// ErrNoTenant is the outcome of a transaction of a tenant the
// cluster's tenancy does not hold.
var ErrNoTenant = errors.New("no such tenant on the chain")

// maxTenant bounds a transaction's tenant id (server/tenant's ids are
// at most 63 bytes).
const maxTenant = 64

// Space returns the FSM of tenant id's space ("" for the cluster's
// own). A tenant whose space no block has written yet answers an empty
// FSM that nothing applies to, so reads see no cases.
func (a *App) Space(id string) *cluster.FSM {
	if id == "" {
		return a.fsm
	}
	a.smu.RLock()
	defer a.smu.RUnlock()
	if f := a.spaces[id]; f != nil {
		return f
	}
	return a.empty
}

// Spaces returns the tenants whose spaces a block has written, sorted.
func (a *App) Spaces() []string {
	a.smu.RLock()
	defer a.smu.RUnlock()
	return slices.Sorted(maps.Keys(a.spaces))
}

// checkSpace refuses what a tenant's transaction may not do: name a
// tenant the tenancy does not hold, or carry another command than an
// event.
func (a *App) checkSpace(t *Tx, c *cluster.Command) error {
	if t.Tenant == "" {
		switch c.Op {
		case cluster.OpEvent, cluster.OpTenant, cluster.OpAudit:
			return nil
		case cluster.OpDeploy:
			if a.compile != nil {
				return nil // deploy.go
			}
			return fmt.Errorf("%w: a deploy on a validator that compiles none", cluster.ErrBadCommand)
		}
		return fmt.Errorf("%w: op %s in the Byzantine mode", cluster.ErrBadCommand, c.Op)
	}
	if a.fsm.Founder(t.Tenant) == "" {
		return fmt.Errorf("%w: %q", ErrNoTenant, t.Tenant)
	}
	if c.Op != cluster.OpEvent {
		return fmt.Errorf("%w: op %s of tenant %s (a tenant's transaction carries only its own events)", cluster.ErrBadCommand, c.Op, t.Tenant)
	}
	return nil
}

// spaceFor returns the FSM t applies to, making the space of a tenant
// on its first transaction; a.mu is held.
func (a *App) spaceFor(t *Tx) *cluster.FSM {
	if t.Tenant == "" {
		return a.fsm
	}
	a.smu.Lock()
	defer a.smu.Unlock()
	f := a.spaces[t.Tenant]
	if f == nil {
		f = cluster.NewFSM(a.m, a.prog)
		a.spaces[t.Tenant] = f
	}
	return f
}

// spaceHash is a space in the application hash.
type spaceHash struct {
	Tenant string `json:"t"`
	Hash   []byte `json:"h"`
}

// spaceHashes returns the state hashes of the spaces, by tenant; nil
// without any, so that a chain without tenants hashes as before.
func (a *App) spaceHashes() ([]spaceHash, error) {
	var out []spaceHash
	for _, id := range a.Spaces() {
		h, err := a.Space(id).StateHash()
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", id, err)
		}
		out = append(out, spaceHash{id, h})
	}
	return out, nil
}
