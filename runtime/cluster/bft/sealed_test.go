package bft

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
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

// TestSealRootPuncture: every leaf derives alike from the same root,
// in another process (a reloaded file) too; a punctured leaf derives
// from nothing the file keeps, every other leaf as before, and the
// root itself is no longer in the file.
func TestSealRootPuncture(t *testing.T) {
	home := t.TempDir()
	root := NewSealRootSecret()
	if err := WriteSealRoot(home, root); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSealRoot(home)
	if err != nil || s == nil {
		t.Fatal(s, err)
	}
	leaves := []uint32{0, 1, 4, 5, 6, 1 << 31, 1<<32 - 1}
	before := map[uint32][]byte{}
	for _, n := range leaves {
		if before[n], err = s.Leaf(n); err != nil {
			t.Fatal(err)
		}
	}
	if bytes.Equal(before[4], before[5]) {
		t.Fatal("two leaves alike")
	}
	if err := s.Puncture(5); err != nil {
		t.Fatal(err)
	}
	r, _ := LoadSealRoot(home)
	for _, x := range []*SealRoot{s, r} {
		if _, err := x.Leaf(5); !errors.Is(err, ErrPunctured) {
			t.Fatalf("leaf 5 after its puncture: %v", err)
		}
		for _, n := range leaves {
			if k, err := x.Leaf(n); n != 5 && (err != nil || !bytes.Equal(k, before[n])) {
				t.Fatalf("leaf %d after puncturing 5: %v", n, err)
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(home, SealRootFile))
	if bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(root))) || bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(before[5]))) {
		t.Fatal("the file still holds the root or the punctured leaf")
	}
	if err := r.Puncture(5); err != nil {
		t.Fatal(err)
	}
	if none, err := LoadSealRoot(t.TempDir()); none != nil || err != nil {
		t.Fatalf("a home without a seal root: %v %v", none, err)
	}
}

// sealsFile is the test tenancy's file of the tenants' sealing: id ->
// "encrypt" or "erased".
const sealsFile = "seals.json"

func testSeals(files map[string][]byte) ([]TenantSeal, error) {
	var m map[string]string
	if err := json.Unmarshal(files[sealsFile], &m); err != nil {
		return nil, err
	}
	var out []TenantSeal
	for id, s := range m {
		out = append(out, TenantSeal{ID: id, Encrypt: true, Erased: s == "erased"})
	}
	return out, nil
}

// sealing is the tenancy change that writes the test's sealing m.
func (c *chain) sealing(base uint64, m map[string]string) *cluster.Command {
	b, _ := json.Marshal(m)
	return &cluster.Command{Op: cluster.OpTenant, ReqID: "seal " + string(b), Program: c.prog, Tenancy: &cluster.TenancyChange{Base: base, Files: map[string][]byte{sealsFile: b}}}
}

// sealedEvent is tenant's event transaction as a's driver seals it.
func (c *chain) sealedEvent(a *App, k crypto.PrivKey, term uint64, tenant string, cmd *cluster.Command) []byte {
	b, err := cmd.Encode()
	if err != nil {
		c.t.Fatal(err)
	}
	sb, sealed, err := a.SealCommand(tenant, b)
	if err != nil || !sealed {
		c.t.Fatalf("sealing: %v %v", sealed, err)
	}
	tx := &Tx{Kind: KindEvent, Term: term, Cmd: sb, Tenant: tenant, Sealed: true}
	if err := tx.Sign(k, "c"); err != nil {
		c.t.Fatal(err)
	}
	out, _ := tx.Encode()
	return out
}

// sealedChain is a chain of apps Apps, each with a home holding the
// same seal root; roots are the Apps' roots.
func sealedChain(t testing.TB, apps int) (*chain, []*SealRoot) {
	c := newChain(t, apps, 3)
	secret := NewSealRootSecret()
	var roots []*SealRoot
	for _, a := range c.apps {
		roots = append(roots, sealApp(t, a, secret))
	}
	return c, roots
}

// sealApp gives a a new home's seal root of secret, read with
// testSeals, and returns the root.
func sealApp(t testing.TB, a *App, secret []byte) *SealRoot {
	t.Helper()
	home := t.TempDir()
	if err := WriteSealRoot(home, secret); err != nil {
		t.Fatal(err)
	}
	r, err := LoadSealRoot(home)
	if err != nil {
		t.Fatal(err)
	}
	a.SetSealing(r, testSeals)
	return r
}

// TestSealedTenantOnChain: a tenant the tenancy marks encrypted has its
// commands in the blocks and its space in the saved state only as
// ciphertext, which every validator opens and applies alike; a plain
// command of it, or a sealed one of another tenant, is refused. Its
// erasure drops its space on every validator, refuses its transactions
// from then on, and destroys every validator's key at Commit, after a
// save without the space; the other tenant goes on, and the saved
// state loads again.
func TestSealedTenantOnChain(t *testing.T) {
	c, roots := sealedChain(t, 3)
	k := c.keys[0]
	a := c.apps[0]
	path := filepath.Join(t.TempDir(), "app.json")
	if err := a.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	commit := func() {
		for _, x := range c.apps {
			if _, err := x.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantCodes(t, c.block(0, nil, c.lease(k, 1), c.event(k, 1, c.found(0, "acme", "beta"))), codeOK, codeOK)
	rev := a.FSM().TenancyRev()
	wantCodes(t, c.block(100*time.Millisecond, nil, c.event(k, 1, c.sealing(rev, map[string]string{"acme": "encrypt"}))), codeOK)
	commit()
	secret := "secret-c1"
	tx := c.sealedEvent(a, k, 1, "acme", c.start(secret, 0))
	if bytes.Contains(tx, []byte(secret)) || bytes.Contains(tx, []byte(base64.StdEncoding.EncodeToString([]byte(secret))[:8])) {
		t.Fatal("the case id in clear in the transaction")
	}
	dt, _ := DecodeTx(tx)
	if _, err := cluster.DecodeCommand(dt.Cmd); err == nil {
		t.Fatal("a sealed command decodes")
	}
	res := c.block(200*time.Millisecond, nil,
		tx,
		c.tenantEvent(k, 1, "acme", c.start("plain", 0)),   // in clear
		c.sealedEvent(a, k, 1, "acme", c.start(secret, 0)), // the same position again: the FSM's refusal
		c.tenantEvent(k, 1, "beta", c.start("b1", 0)),
	)
	wantCodes(t, res, codeOK, codeBad, codeRefused, codeOK)
	if !strings.Contains(res.TxResults[1].Log, "tenant acme is sealed and the command is in clear") {
		t.Fatal(res.TxResults[1].Log)
	}
	for i, x := range c.apps {
		if x.Space("acme").Events(secret) != 1 || x.Space("acme").Events("plain") != 0 {
			t.Fatalf("app %d: acme's cases", i)
		}
	}
	commit()
	var saved savedState
	raw, _ := os.ReadFile(path)
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(saved.Spaces["acme"], []byte(secret)) || !bytes.Contains(saved.Spaces["beta"], []byte("b1")) {
		t.Fatal("acme's space in clear in the saved state (or beta's not: the check cannot see)")
	}

	// The erasure.
	rev = a.FSM().TenancyRev()
	wantCodes(t, c.block(300*time.Millisecond, nil, c.event(k, 1, c.sealing(rev, map[string]string{"acme": "erased"}))), codeOK)
	for i, x := range c.apps {
		if h, ok := x.TenantErased("acme"); !ok || h != c.height || x.Space("acme").Events(secret) != 0 || len(x.Spaces()) != 1 {
			t.Fatalf("app %d after the erasure: %d %v, spaces %v", i, h, ok, x.Spaces())
		}
	}
	if _, err := roots[0].Leaf(0); err != nil {
		t.Fatal("the key destroyed before the save without the space")
	}
	commit()
	for i, r := range roots {
		if _, err := r.Leaf(0); !errors.Is(err, ErrPunctured) {
			t.Fatalf("app %d's key of acme after the erasure's commit: %v", i, err)
		}
	}
	res = c.block(400*time.Millisecond, nil, c.tenantEvent(k, 1, "acme", c.start("again", 0)), c.tenantEvent(k, 1, "beta", c.start("b2", 0)))
	wantCodes(t, res, codeTenant, codeOK)
	if !strings.Contains(res.TxResults[0].Log, "tenant acme was erased (crypto-shredded) at block") {
		t.Fatal(res.TxResults[0].Log)
	}
	commit()
	m, _ := engine.NewMachine(compile(t))
	b := NewApp(m, c.prog)
	b.SetSealing(roots[0], testSeals)
	if err := b.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	want, _ := a.AppHashAt(c.height)
	if info, _ := b.Info(context.Background(), &abci.RequestInfo{}); !bytes.Equal(info.LastBlockAppHash, want) || b.Space("beta").Events("b2") != 1 {
		t.Fatal("the state saved after the erasure loads otherwise")
	}
}

// TestSealedRefusal: a block's refusal of a sealed tenant's
// transaction is sealed in the block's answer (CometBFT keeps the
// logs), and the driver of the tenant reads it in clear.
func TestSealedRefusal(t *testing.T) {
	c, _ := sealedChain(t, 1)
	a := c.apps[0]
	k := c.keys[0]
	c.block(0, nil, c.lease(k, 1), c.event(k, 1, c.found(0, "acme")))
	wantCodes(t, c.block(0, nil, c.event(k, 1, c.sealing(a.FSM().TenancyRev(), map[string]string{"acme": "encrypt"}))), codeOK)
	b := &instant{c: c, app: a}
	l := &Log{App: a, Node: b, Key: k, Term: 1, Tenant: "acme"}
	if err := l.submit(context.Background(), c.start("topsecret", 0)); err != nil {
		t.Fatal(err)
	}
	// The same position again: the FSM refuses it, naming the case.
	res := c.block(0, nil, c.sealedEvent(a, k, 1, "acme", c.start("topsecret", 0)))
	if log := res.TxResults[0].Log; res.TxResults[0].Code != codeRefused || strings.Contains(log, "topsecret") || !strings.HasPrefix(log, sealedLog) {
		t.Fatalf("the block's answer: %d %q", res.TxResults[0].Code, log)
	}
	err := l.submit(context.Background(), c.start("topsecret", 0))
	if err == nil || !strings.Contains(err.Error(), "case topsecret has 1 events") || strings.Contains(err.Error(), sealedLog) {
		t.Fatalf("the driver's error: %v", err)
	}
}

// FuzzLoadSealRoot: a seal root file loads or is refused, never
// panics; a loaded one derives every leaf or says it is punctured, and
// a punctured leaf stays punctured in the file it saves.
func FuzzLoadSealRoot(f *testing.F) {
	home := f.TempDir()
	WriteSealRoot(home, bytes.Repeat([]byte{7}, 32))
	good, _ := os.ReadFile(filepath.Join(home, SealRootFile))
	f.Add(good, uint32(5))
	f.Add([]byte(`{"v":1,"nodes":[{"d":32,"p":4294967295,"k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`), uint32(1<<32-1))
	f.Add([]byte(`{"v":1,"nodes":[{"d":3,"p":9,"k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`), uint32(0))
	f.Add([]byte(`{"v":2}`), uint32(0))
	two := `{"d":0,"p":0,"k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`
	f.Add([]byte(`{"v":1,"nodes":[`+two+`,`+strings.Replace(two, "AAAA", "BBBB", 1)+`]}`), uint32(3))
	f.Fuzz(func(t *testing.T, b []byte, n uint32) {
		home := t.TempDir()
		os.WriteFile(filepath.Join(home, SealRootFile), b, 0o600)
		s, err := LoadSealRoot(home)
		if err != nil || s == nil {
			return
		}
		if k, err := s.Leaf(n); err == nil && len(k) != 32 || err != nil && !errors.Is(err, ErrPunctured) {
			t.Fatalf("leaf %d: %d bytes, %v", n, len(k), err)
		}
		if err := s.Puncture(n); err != nil {
			t.Fatal(err)
		}
		r, err := LoadSealRoot(home)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Leaf(n); !errors.Is(err, ErrPunctured) {
			t.Fatalf("leaf %d after its puncture: %v", n, err)
		}
	})
}
