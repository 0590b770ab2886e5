// This file implements the FSM's snapshots: the engine's own case
// snapshots, the remembered request ids and the members, for raft to
// compact its log and to catch up a follower that is far behind.

package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// snapshotVersion is the version of the snapshot encoding: 2 carries
// each case's events and business key; a version 1 snapshot (states
// only) still restores, its cases' earlier events then missing from
// their histories.
const snapshotVersion = 2

// ErrBadSnapshot wraps every failure to restore a snapshot; the FSM is
// then unchanged.
var ErrBadSnapshot = errors.New("bad cluster snapshot")

type wireSnapshot struct {
	V       int        `json:"v"`
	Program string     `json:"prog"`
	Applied uint64     `json:"applied"`
	Cases   []wireCase `json:"cases"`
	Reqs    []wireReq  `json:"reqs,omitempty"`
	Members []*Member  `json:"members,omitempty"`
	// Deploys are the programs deployed through the log, oldest first;
	// a restore compiles them again.
	Deploys []wireDeploy `json:"deploys,omitempty"`
	// Tenancy is the cluster's tenancy (tenancy.go), absent while it
	// is empty and in a snapshot written before it was replicated.
	Tenancy *wireTenancy `json:"tenancy,omitempty"`
	// Nonces are the requests' one-time keys still remembered
	// (nonce.go), absent when none.
	Nonces *wireNonces `json:"nonces,omitempty"`
	// Audit is the cluster's audit chain (audit.go), absent when empty.
	Audit *wireAudit `json:"audit,omitempty"`
	// Accel is the accelerator time the log carried (meter.go), absent
	// when none.
	Accel []accelEntry `json:"accel,omitempty"`
	// Erased are the erased cases' tombstones (erase.go): case -> the
	// index of its erasure; absent when none.
	Erased map[string]uint64 `json:"erased,omitempty"`
}

type wireDeploy struct {
	Deploy
	Index uint64 `json:"index"`
}

type wireCase struct {
	ID      string  `json:"id"`
	State   []byte  `json:"state"` // engine.Machine.EncodeState
	Started int64   `json:"started,omitempty"`
	Key     string  `json:"key,omitempty"`
	Base    uint64  `json:"base,omitempty"` // events not held (from a version 1 snapshot)
	Events  []Event `json:"events,omitempty"`
	Program string  `json:"prog,omitempty"` // a deployed program's hash; "" for the node's own
}

type wireReq struct {
	ID string `json:"id"`
	outcome
}

// Snapshot encodes the whole FSM at once, so that raft may go on
// applying while the snapshot is written.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	w := wireSnapshot{V: snapshotVersion, Program: f.prog, Applied: f.applied}
	for _, id := range f.casesLocked() {
		r := f.cases[id]
		b, err := f.machineOf(r).EncodeState(&r.s, r.n)
		if err != nil {
			return nil, fmt.Errorf("snapshot of case %s: %w", id, err)
		}
		w.Cases = append(w.Cases, wireCase{ID: id, State: b, Started: r.started, Key: r.key, Base: r.base, Events: r.evs, Program: r.prog})
	}
	for _, id := range f.order {
		w.Reqs = append(w.Reqs, wireReq{ID: id, outcome: f.reqs[id]})
	}
	for _, id := range sortedKeys(f.members) {
		w.Members = append(w.Members, f.members[id])
	}
	for _, h := range f.deploys {
		p := f.progs[h]
		w.Deploys = append(w.Deploys, wireDeploy{Deploy: Deploy{Name: p.name, Source: p.src, Hash: h}, Index: p.index})
	}
	w.Tenancy = f.ten.wire()
	w.Nonces = f.nonces.wire()
	w.Audit = f.aud.wire()
	w.Accel = f.acc.wire()
	w.Erased = f.ers.wire()
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, err
	}
	return fsmSnapshot(b), nil
}

func (f *FSM) casesLocked() []string {
	return sortedKeys(f.cases)
}

// Restore replaces the FSM's state with a snapshot. A snapshot that does
// not decode under this program is refused with [ErrBadSnapshot].
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	var w wireSnapshot
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if w.V != snapshotVersion && w.V != 1 {
		return fmt.Errorf("%w: version %d, want %d", ErrBadSnapshot, w.V, snapshotVersion)
	}
	if w.Program != f.prog {
		return fmt.Errorf("%w: %w: the snapshot is of program %s, this node runs %s", ErrBadSnapshot, ErrProgram, short(w.Program), short(f.prog))
	}
	f.mu.RLock()
	compile := f.compile
	f.mu.RUnlock()
	progs := map[string]*program{f.prog: {hash: f.prog, m: f.m}}
	var deploys []string
	for _, d := range w.Deploys {
		if compile == nil {
			return fmt.Errorf("%w: it holds deployed programs and this node has no compiler", ErrBadSnapshot)
		}
		p, err := compile(d.Name, d.Source)
		if err != nil {
			return fmt.Errorf("%w: deployed program %s: %v", ErrBadSnapshot, d.Name, err)
		}
		pr, err := newProgram(p, &d.Deploy, d.Index)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
		}
		progs[pr.hash] = pr
		deploys = append(deploys, pr.hash)
	}
	cases := make(map[string]*replica, len(w.Cases))
	keys := map[string]string{}
	for _, c := range w.Cases {
		m := f.m
		if c.Program != "" {
			p := progs[c.Program]
			if p == nil {
				return fmt.Errorf("%w: case %s runs program %s, which the snapshot does not deploy", ErrBadSnapshot, c.ID, short(c.Program))
			}
			m = p.m
		}
		s, n, err := m.DecodeState(c.State)
		if err != nil {
			return fmt.Errorf("%w: case %s: %w", ErrBadSnapshot, c.ID, err)
		}
		if s.ID != c.ID {
			return fmt.Errorf("%w: case %s holds the state of case %s", ErrBadSnapshot, c.ID, s.ID)
		}
		if w.V == 1 {
			c.Base = n
		}
		if c.Base+uint64(len(c.Events)) != n {
			return fmt.Errorf("%w: case %s has %d events in its state, %d recorded", ErrBadSnapshot, c.ID, n, c.Base+uint64(len(c.Events)))
		}
		if c.Key != "" {
			if other, ok := keys[c.Key]; ok {
				return fmt.Errorf("%w: business key %q names cases %s and %s", ErrBadSnapshot, c.Key, other, c.ID)
			}
			keys[c.Key] = c.ID
		}
		cases[c.ID] = &replica{s: *s, n: n, started: c.Started, key: c.Key, base: c.Base, evs: c.Events, prog: c.Program}
	}
	reqs := make(map[string]outcome, len(w.Reqs))
	order := make([]string, 0, len(w.Reqs))
	for _, r := range w.Reqs {
		reqs[r.ID] = r.outcome
		order = append(order, r.ID)
	}
	members := map[string]*Member{}
	for _, m := range w.Members {
		if m == nil || m.ID == "" {
			return fmt.Errorf("%w: a member without an id", ErrBadSnapshot)
		}
		members[m.ID] = m
	}
	ten, err := restoreTenancy(w.Tenancy)
	if err != nil {
		return err
	}
	aud, err := restoreAudit(w.Audit)
	if err != nil {
		return err
	}
	acc, err := restoreAccel(w.Accel)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ten = ten
	f.nonces = w.Nonces.restore()
	f.aud = aud
	f.acc = acc
	f.ers.restore(w.Erased)
	f.cases, f.reqs, f.order, f.members, f.keys, f.applied, f.broken = cases, reqs, order, members, keys, w.Applied, nil
	f.progs, f.deploys = progs, deploys
	f.restores++
	f.notify()
	return nil
}

type fsmSnapshot []byte

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (fsmSnapshot) Release() {}

// Restores returns how many snapshots the FSM restored.
func (f *FSM) Restores() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.restores
}

// checkSnapshots refuses a store whose latest snapshot is of another
// program, before raft tries to restore it and fails with a message
// that does not say why.
func checkSnapshots(snaps raft.SnapshotStore, prog string) error {
	metas, err := snaps.List()
	if err != nil || len(metas) == 0 {
		return err
	}
	_, rc, err := snaps.Open(metas[0].ID)
	if err != nil {
		return fmt.Errorf("%w: snapshot %s: %v", ErrBadSnapshot, metas[0].ID, err)
	}
	defer rc.Close()
	var head struct {
		V       int    `json:"v"`
		Program string `json:"prog"`
	}
	if err := json.NewDecoder(rc).Decode(&head); err != nil {
		return fmt.Errorf("%w: snapshot %s: %v", ErrBadSnapshot, metas[0].ID, err)
	}
	if head.Program != prog {
		return fmt.Errorf("%w: %w: snapshot %s is of program %s, this node runs %s", ErrBadSnapshot, ErrProgram, metas[0].ID, short(head.Program), short(prog))
	}
	return nil
}
