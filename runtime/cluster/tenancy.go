// This file implements the cluster's replicated tenancy (knhk serve
// --node --tenants): the tenants' registry and the public files that
// verify and limit their calls (issuers' public keys, licences and
// their trust keys, revocation lists), kept by the FSM of the cluster's
// own group and changed only by committed OpTenant commands. So every
// node holds the same tenancy at the same applied index, any node can
// administer tenants (a follower's change goes through the leader, as
// every write does), and a node that joins or restarts gets it with the
// log or a snapshot.
//
// The package does not interpret the files (server/tenant does): it
// keeps them by slash path under a data directory's tenants/, refuses
// what could be a private key or escape that directory, and orders the
// changes. A change names the revision it was computed from; one made
// from an older revision is refused with [ErrConflict], so two nodes
// editing the registry at once never lose one another's change: the
// loser reads the new revision and tries again.
//
// Founders records, per tenant, the node that bootstraps the tenant's
// own raft group: the node that proposed the tenant's creation (the
// cluster's leader then), written once. Every node reads the same
// answer from its replica, so exactly one node ever bootstraps a
// tenant's group, and any node can be it.

package cluster

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"strings"
)

// TenancyChange is an OpTenant command's change of the tenancy.
type TenancyChange struct {
	// Base is the revision the change was computed from (see
	// [FSM.Tenancy]); 0 only for the first change of an empty tenancy.
	Base uint64 `json:"base"`
	// Files are written (created or replaced), Remove removed; both by
	// slash path under tenants/.
	Files  map[string][]byte `json:"files,omitempty"`
	Remove []string          `json:"remove,omitempty"`
	// Founders names, for each tenant created by the change, the node
	// that bootstraps its group; a tenant's founder is never replaced.
	Founders map[string]string `json:"founders,omitempty"`
}

// Tenancy is a copy of the replicated tenancy.
type Tenancy struct {
	// Rev is the raft index of the last change, 0 while there was none.
	Rev      uint64
	Files    map[string][]byte
	Founders map[string]string
}

// tenancyState is the FSM's tenancy.
type tenancyState struct {
	rev      uint64
	files    map[string][]byte
	founders map[string]string
	// sum is the state hash's set of files and founders
	// (statehash_ext.go).
	sum setSum
}

// CheckTenancyPath refuses a path the tenancy may not hold: one that is
// not a clean relative slash path, or a private key (*.key), which
// never leaves the node it was made on.
func CheckTenancyPath(p string) error {
	if !fs.ValidPath(p) || p == "." || strings.Contains(p, "\\") {
		return fmt.Errorf("tenancy file %q: not a clean relative path", p)
	}
	if strings.HasSuffix(p, ".key") {
		return fmt.Errorf("tenancy file %q: a private key is never replicated", p)
	}
	return nil
}

// check reports what is wrong with c, decoding aside.
func (c *TenancyChange) check() error {
	for p := range c.Files {
		if err := CheckTenancyPath(p); err != nil {
			return err
		}
	}
	for _, p := range c.Remove {
		if err := CheckTenancyPath(p); err != nil {
			return err
		}
	}
	for id, node := range c.Founders {
		if id == "" || node == "" {
			return fmt.Errorf("tenancy change: a founder without a tenant or a node")
		}
	}
	return nil
}

// applyTenancy applies an OpTenant command at index.
func (f *FSM) applyTenancy(c *TenancyChange, index uint64) error {
	if c.Base != f.ten.rev {
		return fmt.Errorf("%w: the tenancy is at revision %d, the change was made from revision %d", ErrConflict, f.ten.rev, c.Base)
	}
	if err := c.check(); err != nil {
		return err
	}
	if f.ten.files == nil {
		f.ten.files = map[string][]byte{}
	}
	if f.ten.founders == nil {
		f.ten.founders = map[string]string{}
	}
	for _, p := range c.Remove {
		if old, ok := f.ten.files[p]; ok {
			f.ten.hashFile(p, old, false)
			delete(f.ten.files, p)
		}
	}
	for p, b := range c.Files {
		if old, ok := f.ten.files[p]; ok {
			f.ten.hashFile(p, old, false)
		}
		f.ten.files[p] = b
		f.ten.hashFile(p, b, true)
	}
	for id, node := range c.Founders {
		if _, ok := f.ten.founders[id]; !ok {
			f.ten.founders[id] = node
			f.ten.hashFounder(id, node)
		}
	}
	f.ten.rev = index
	return nil
}

// Tenancy returns a copy of the replicated tenancy.
func (f *FSM) Tenancy() Tenancy {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return Tenancy{Rev: f.ten.rev, Files: maps.Clone(f.ten.files), Founders: maps.Clone(f.ten.founders)}
}

// TenancyRev returns the tenancy's revision, cheaply, for a node that
// writes the tenancy out when it moves.
func (f *FSM) TenancyRev() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.ten.rev
}

// Founder returns the node that bootstraps tenant id's group, "" when
// the tenancy names none (a tenant registered before the tenancy was
// replicated: the cluster's founding node bootstraps it).
func (f *FSM) Founder(id string) string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.ten.founders[id]
}

// ChangeTenancy commits c with request id reqID (retrying with the same
// id is safe) and returns the tenancy's new revision. Only the leader
// changes it; a change made from an older revision fails with
// [ErrConflict], and the caller computes it again.
func (n *Node) ChangeTenancy(ctx context.Context, reqID string, c *TenancyChange) (uint64, error) {
	if _, err := n.leader(); err != nil {
		return 0, err
	}
	if err := c.check(); err != nil {
		return 0, err
	}
	r, err := n.propose(ctx, &Command{Op: OpTenant, ReqID: reqID, Program: n.hash, Tenancy: c})
	if err != nil {
		return 0, err
	}
	return r.Index, nil
}

// wireTenancy is the tenancy in a snapshot.
type wireTenancy struct {
	Rev      uint64            `json:"rev"`
	Files    map[string][]byte `json:"files,omitempty"`
	Founders map[string]string `json:"founders,omitempty"`
}

func (t *tenancyState) wire() *wireTenancy {
	if t.rev == 0 {
		return nil
	}
	return &wireTenancy{Rev: t.rev, Files: t.files, Founders: t.founders}
}

// restoreTenancy checks a snapshot's tenancy and returns it as state.
func restoreTenancy(w *wireTenancy) (tenancyState, error) {
	if w == nil {
		return tenancyState{}, nil
	}
	c := TenancyChange{Files: w.Files, Founders: w.Founders}
	if err := c.check(); err != nil {
		return tenancyState{}, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	return tenancyState{rev: w.Rev, files: maps.Clone(w.Files), founders: maps.Clone(w.Founders)}, nil
}
