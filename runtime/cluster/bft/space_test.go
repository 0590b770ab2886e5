package bft

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// tenantEvent is an event transaction of tenant's space.
func (c *chain) tenantEvent(k crypto.PrivKey, term uint64, tenant string, cmd *cluster.Command) []byte {
	b, err := cmd.Encode()
	if err != nil {
		c.t.Fatal(err)
	}
	tx := &Tx{Kind: KindEvent, Term: term, Cmd: b, Tenant: tenant}
	if err := tx.Sign(k, "c"); err != nil {
		c.t.Fatal(err)
	}
	out, _ := tx.Encode()
	return out
}

// found is the cluster's tenancy change that creates tenants ids.
func (c *chain) found(base uint64, ids ...string) *cluster.Command {
	ch := &cluster.TenancyChange{Base: base, Files: map[string][]byte{"tenants.json": []byte(strings.Join(ids, ","))}, Founders: map[string]string{}}
	for _, id := range ids {
		ch.Founders[id] = "v0"
	}
	return &cluster.Command{Op: cluster.OpTenant, ReqID: "found " + strings.Join(ids, ","), Program: c.prog, Tenancy: ch}
}

// TestTenantSpaces: on one chain, a tenant's events apply only to its
// own space, once the cluster's tenancy created it; the same case id in
// two spaces is two cases; a tenant's transaction that carries a
// tenancy change or an audit record, or names a tenant the tenancy does
// not hold, is refused by every validator alike, and changes nothing.
func TestTenantSpaces(t *testing.T) {
	c := newChain(t, 3, 3)
	k := c.keys[0]
	a := c.apps[0]
	c.block(0, nil, c.lease(k, 1))
	// Before its creation, acme has no space.
	res := c.block(100*time.Millisecond, nil, c.tenantEvent(k, 1, "acme", c.start("c1", 0)))
	wantCodes(t, res, codeTenant)
	if len(a.Spaces()) != 0 {
		t.Fatalf("spaces %v after a refused transaction", a.Spaces())
	}
	res = c.block(200*time.Millisecond, nil, c.event(k, 1, c.found(0, "acme", "beta")))
	wantCodes(t, res, codeOK)
	rev := a.FSM().TenancyRev()
	res = c.block(300*time.Millisecond, nil,
		c.tenantEvent(k, 1, "acme", c.start("c1", 0)),
		c.event(k, 1, c.start("c1", 0)), // the cluster's own c1: another case
		c.tenantEvent(k, 1, "beta", c.start("c2", 0)),
	)
	wantCodes(t, res, codeOK, codeOK, codeOK)
	for _, a := range c.apps {
		if got := a.Spaces(); len(got) != 2 || got[0] != "acme" || got[1] != "beta" {
			t.Fatalf("spaces %v, want [acme beta]", got)
		}
		if a.Space("acme").Events("c1") != 1 || a.Space("acme").Events("c2") != 0 || a.Space("beta").Events("c2") != 1 || a.Space("beta").Events("c1") != 0 || a.FSM().Events("c1") != 1 || a.FSM().Events("c2") != 0 {
			t.Fatal("a case is in another tenant's space")
		}
	}
	// A Byzantine driver's attempts through a tenant's transaction: a
	// tenancy change, an audit record, an unknown tenant, an event of
	// beta's case in acme's space at beta's position.
	ch := c.found(rev, "acme")
	ch.Tenancy.Files["beta/trust/evil.pub"] = []byte("x")
	rec := &cluster.Command{Op: cluster.OpAudit, Program: c.prog, Audit: &cluster.AuditRecord{Action: "tenant.create", Result: "ok", Tenant: "beta", Time: "2026-01-01T00:00:00Z"}}
	before := a.Space("beta").Events("c2")
	res = c.block(400*time.Millisecond, nil,
		c.tenantEvent(k, 1, "acme", ch),
		c.tenantEvent(k, 1, "acme", rec),
		c.tenantEvent(k, 1, "nobody", c.start("c9", 0)),
		c.tenantEvent(k, 1, "acme", c.start("c2", 1)),
	)
	wantCodes(t, res, codeBad, codeBad, codeTenant, codeRefused)
	for i := range 3 {
		if !strings.Contains(res.TxResults[i].Log, map[int]string{0: "op tenant of tenant acme", 1: "of tenant acme", 2: `"nobody"`}[i]) {
			t.Fatalf("tx %d: %s", i, res.TxResults[i].Log)
		}
	}
	if a.FSM().TenancyRev() != rev || a.Space("beta").Events("c2") != before || a.Space("acme").Events("c2") != 0 {
		t.Fatal("a refused tenant transaction changed the tenancy or another space")
	}
	// CheckTx refuses them before a block does.
	for _, tx := range [][]byte{c.tenantEvent(k, 1, "acme", ch), c.tenantEvent(k, 1, "nobody", c.start("c9", 0))} {
		r, _ := a.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx})
		if r.Code == codeOK {
			t.Fatalf("CheckTx admitted %s", r.Log)
		}
	}
}

// TestTenantSpaceInHash: the application hash covers every space: an
// event in a tenant's space changes it, and two Apps whose spaces hold
// the same cases under different tenants hash differently.
func TestTenantSpaceInHash(t *testing.T) {
	c := newChain(t, 1, 1)
	k := c.keys[0]
	c.block(0, nil, c.lease(k, 1), c.event(k, 1, c.found(0, "acme", "beta")))
	h0 := c.block(100*time.Millisecond, nil).AppHash
	h1 := c.block(200*time.Millisecond, nil, c.tenantEvent(k, 1, "acme", c.start("c1", 0))).AppHash
	if bytes.Equal(h0, h1) {
		t.Fatal("a tenant's event left the application hash unchanged")
	}
	d := newChain(t, 1, 1)
	d.keys = c.keys
	d.apps[0].InitChain(context.Background(), &abci.RequestInitChain{ChainId: "c", Validators: validators(d), AppStateBytes: []byte(`{"lease_ms":1000}`)})
	d.block(0, nil, d.lease(k, 1), d.event(k, 1, d.found(0, "acme", "beta")))
	d.block(100*time.Millisecond, nil)
	g1 := d.block(200*time.Millisecond, nil, d.tenantEvent(k, 1, "beta", d.start("c1", 0))).AppHash
	if bytes.Equal(h1, g1) {
		t.Fatal("the same case in another tenant's space hashes alike")
	}
}

// TestTenantSpacesSaved: the saved state (a restart's, state sync's)
// holds the spaces: a new App loads them with the hash of the block;
// a file whose spaces were dropped is refused, not served.
func TestTenantSpacesSaved(t *testing.T) {
	c := newChain(t, 1, 1)
	k := c.keys[0]
	a := c.apps[0]
	path := filepath.Join(t.TempDir(), "app.json")
	if err := a.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	c.block(0, nil, c.lease(k, 1), c.event(k, 1, c.found(0, "acme")))
	c.block(100*time.Millisecond, nil, c.tenantEvent(k, 1, "acme", c.start("c1", 0)))
	if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	m, _ := engine.NewMachine(compile(t))
	b := NewApp(m, c.prog)
	if err := b.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	want, _ := a.AppHashAt(2)
	if got, _ := b.AppHashAt(2); !bytes.Equal(got, want) || b.Space("acme").Events("c1") != 1 || b.FSM().Events("c1") != 0 {
		t.Fatalf("loaded hash %X (want %X), acme's c1 has %d events", got, want, b.Space("acme").Events("c1"))
	}
	raw, _ := os.ReadFile(path)
	var s map[string]json.RawMessage
	json.Unmarshal(raw, &s)
	delete(s, "spaces")
	raw, _ = json.Marshal(s)
	os.WriteFile(path, raw, 0o600)
	if err := NewApp(m, c.prog).Persist(Persistence{Path: path}); err == nil || !strings.Contains(err.Error(), "hashes to") {
		t.Fatalf("a saved state without its spaces: %v", err)
	}
}

// TestTenantTxDecode: a lease never names a tenant, and a tenant id is
// bounded.
func TestTenantTxDecode(t *testing.T) {
	c := newChain(t, 1, 1)
	k := c.keys[0]
	for _, tx := range []*Tx{{Kind: KindLease, Term: 1, Tenant: "acme"}, {Kind: KindEvent, Term: 1, Cmd: []byte{1}, Tenant: strings.Repeat("a", 65)}} {
		if err := tx.Sign(k, "c"); err != nil {
			t.Fatal(err)
		}
		b, _ := tx.Encode()
		if _, err := DecodeTx(b); err == nil {
			t.Fatalf("decoded %+v", tx)
		}
	}
}
