package bft

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// chain feeds blocks to Apps directly, as CometBFT would after
// consensus: the lease's and the validator set's rules, without a
// network.
type chain struct {
	t      testing.TB
	apps   []*App
	keys   []crypto.PrivKey
	prog   string
	height int64
	t0     time.Time
}

func newChain(t testing.TB, apps, vals int) *chain {
	prog := compile(t)
	m, err := engine.NewMachine(prog)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := prog.Hash()
	c := &chain{t: t, prog: hash, t0: time.Unix(1_700_000_000, 0)}
	for range vals {
		c.keys = append(c.keys, ed25519.GenPrivKey())
	}
	ups := validators(c)
	for range apps {
		a := NewApp(m, hash)
		if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "c", Validators: ups, AppStateBytes: []byte(`{"lease_ms":1000}`)}); err != nil {
			t.Fatal(err)
		}
		c.apps = append(c.apps, a)
	}
	return c
}

// validators is the genesis validator set of c's keys.
func validators(c *chain) []abci.ValidatorUpdate {
	var ups []abci.ValidatorUpdate
	for _, k := range c.keys {
		ups = append(ups, abci.Ed25519ValidatorUpdate(k.PubKey().Bytes(), 10))
	}
	return ups
}

func (c *chain) lease(k crypto.PrivKey, term uint64) []byte {
	tx := &Tx{Kind: KindLease, Term: term, API: "api"}
	if err := tx.Sign(k, "c"); err != nil {
		c.t.Fatal(err)
	}
	b, _ := tx.Encode()
	return b
}

func (c *chain) event(k crypto.PrivKey, term uint64, cmd *cluster.Command) []byte {
	b, err := cmd.Encode()
	if err != nil {
		c.t.Fatal(err)
	}
	tx := &Tx{Kind: KindEvent, Term: term, Cmd: b}
	if err := tx.Sign(k, "c"); err != nil {
		c.t.Fatal(err)
	}
	out, _ := tx.Encode()
	return out
}

func (c *chain) start(id string, pos uint64) *cluster.Command {
	ev, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvStart, Values: eval.Values(id)})
	return &cluster.Command{Op: cluster.OpEvent, Program: c.prog, Case: id, Pos: pos, Event: ev}
}

// block finalizes one block at t0+at on every App and returns the first
// App's answer, after checking that every App answered the same.
func (c *chain) block(at time.Duration, mis []abci.Misbehavior, txs ...[]byte) *abci.ResponseFinalizeBlock {
	c.t.Helper()
	c.height++
	var first *abci.ResponseFinalizeBlock
	for i, a := range c.apps {
		res, err := a.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: c.height, Time: c.t0.Add(at), Txs: txs, Misbehavior: mis})
		if err != nil {
			c.t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if !bytes.Equal(res.AppHash, first.AppHash) || len(res.ValidatorUpdates) != len(first.ValidatorUpdates) {
			c.t.Fatalf("block %d: app %d answered another hash or other validator updates", c.height, i)
		}
		for j := range res.TxResults {
			if res.TxResults[j].Code != first.TxResults[j].Code {
				c.t.Fatalf("block %d tx %d: app %d answered code %d, app 0 %d", c.height, j, i, res.TxResults[j].Code, first.TxResults[j].Code)
			}
		}
	}
	return first
}

func wantCodes(t *testing.T, res *abci.ResponseFinalizeBlock, codes ...uint32) {
	t.Helper()
	for i, want := range codes {
		if got := res.TxResults[i]; got.Code != want {
			t.Fatalf("tx %d: code %d (%s), want %d", i, got.Code, got.Log, want)
		}
	}
}

// TestLeaseRules: the first claim of a block wins; the holder renews;
// another validator takes the next term only once the block time has
// reached the expiry; an event of the deposed driver, of a driver at a
// term it does not hold, of a stranger or with a forged signature is
// refused, and only the holder's applies.
func TestLeaseRules(t *testing.T) {
	c := newChain(t, 2, 3)
	a, b := c.keys[0], c.keys[1]
	wantCodes(t, c.block(0, nil, c.lease(a, 1), c.lease(b, 1), c.event(a, 1, c.start("c1", 0))), codeOK, codeLease, codeOK)
	if l := c.apps[0].Lease(); l.Driver != a.PubKey().Address().String() || l.Term != 1 || l.Height != 1 || l.API != "api" {
		t.Fatalf("lease after the first block: %+v", l)
	}
	// Before the expiry: b's claim is refused, a renews.
	wantCodes(t, c.block(600*time.Millisecond, nil, c.lease(b, 2), c.lease(a, 1)), codeLease, codeOK)
	// Past the first expiry, not the renewed one.
	wantCodes(t, c.block(1200*time.Millisecond, nil, c.lease(b, 2)), codeLease)
	// A claim must be for the next term.
	wantCodes(t, c.block(1700*time.Millisecond, nil, c.lease(b, 3), c.lease(b, 2)), codeLease, codeOK)
	stranger := ed25519.GenPrivKey()
	forged, _ := DecodeTx(c.event(b, 2, c.start("c2", 0)))
	forged.Term = 3 // signed for term 2
	fb, _ := forged.Encode()
	res := c.block(1800*time.Millisecond, nil,
		c.event(a, 1, c.start("c3", 0)),        // the deposed driver
		c.event(b, 1, c.start("c3", 0)),        // the holder at a term it does not hold
		c.event(stranger, 2, c.start("c3", 0)), // not a validator
		fb,
		c.event(b, 2, c.start("c1", 0)), // the holder, at a passed position
		c.event(b, 2, c.start("c2", 0)),
	)
	wantCodes(t, res, codeDeposed, codeDeposed, codeSigner, codeBad, codeRefused, codeOK)
	if !strings.Contains(res.TxResults[0].Log, "not the driver") || !strings.Contains(res.TxResults[4].Log, "event position conflict") {
		t.Fatalf("refusals: %q, %q", res.TxResults[0].Log, res.TxResults[4].Log)
	}
	for _, a := range c.apps {
		if a.FSM().Events("c1") != 1 || a.FSM().Events("c2") != 1 || a.FSM().Events("c3") != 0 {
			t.Fatal("the cases hold other events than the holders'")
		}
	}
}

// TestByzantineDriverCannotBreakTheFSM: a block may carry what CheckTx
// would refuse (a Byzantine proposer's). The lease holder's command of
// another program, of another op or with an event that does not decode
// is refused; the FSM goes on applying.
func TestByzantineDriverCannotBreakTheFSM(t *testing.T) {
	c := newChain(t, 1, 1)
	k := c.keys[0]
	other := c.start("c1", 0)
	other.Program = "0ther"
	garbage := c.start("c1", 0)
	garbage.Event = []byte(`"not an event"`)
	member := &cluster.Command{Op: cluster.OpMember, Program: c.prog, Member: &cluster.Member{ID: "m"}}
	bare, _ := c.start("c1", 0).Encode()
	res := c.block(0, nil, c.lease(k, 1), c.event(k, 1, other), c.event(k, 1, garbage), c.event(k, 1, member), bare, []byte{txVersion, '{'}, c.event(k, 1, c.start("c1", 0)))
	wantCodes(t, res, codeOK, codeProgram, codeBad, codeBad, codeBad, codeBad, codeOK)
	if err := c.apps[0].FSM().Broken(); err != nil || c.apps[0].FSM().Events("c1") != 1 {
		t.Fatalf("the FSM: %v, c1 has %d events", err, c.apps[0].FSM().Events("c1"))
	}
	for _, tx := range [][]byte{c.event(k, 1, other), bare} {
		if r, _ := c.apps[0].CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx}); r.Code == codeOK {
			t.Fatalf("CheckTx admitted %q", tx)
		}
	}
}

// TestMisbehaviorRemovesTheValidator: a block's evidence against a
// validator answers one update of power 0 for it, on every App alike,
// records the removal (queryable), revokes its lease at once, and
// refuses its transactions; evidence against it again, or against a
// validator not in the set, changes nothing; the last validator with
// power is never removed.
func TestMisbehaviorRemovesTheValidator(t *testing.T) {
	c := newChain(t, 2, 3)
	a, b, z := c.keys[0], c.keys[1], c.keys[2]
	wantCodes(t, c.block(0, nil, c.lease(z, 1)), codeOK)
	dup := func(k crypto.PrivKey) abci.Misbehavior {
		return abci.Misbehavior{Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: abci.Validator{Address: k.PubKey().Address(), Power: 10}, Height: 1}
	}
	unknown := abci.Misbehavior{Type: abci.MisbehaviorType_LIGHT_CLIENT_ATTACK, Validator: abci.Validator{Address: ed25519.GenPrivKey().PubKey().Address(), Power: 10}}
	res := c.block(100*time.Millisecond, []abci.Misbehavior{dup(z), unknown, dup(z)}, c.lease(z, 1), c.lease(a, 2))
	if len(res.ValidatorUpdates) != 1 || res.ValidatorUpdates[0].Power != 0 || !bytes.Equal(res.ValidatorUpdates[0].PubKey.GetEd25519(), z.PubKey().Bytes()) {
		t.Fatalf("validator updates: %v", res.ValidatorUpdates)
	}
	// z's renewal is refused; its lease was revoked, so a takes the
	// next term before the old expiry.
	wantCodes(t, res, codeSigner, codeOK)
	for _, app := range c.apps {
		rm := app.Removed()
		if len(rm) != 1 || rm[0].Validator != z.PubKey().Address().String() || rm[0].Height != 2 || rm[0].Kind != "duplicate vote" || rm[0].Power != 10 {
			t.Fatalf("removed: %+v", rm)
		}
		if l := app.Lease(); l.Driver != a.PubKey().Address().String() || l.Term != 2 {
			t.Fatalf("lease: %+v", l)
		}
		q, _ := app.Query(context.Background(), &abci.RequestQuery{Path: "/validators"})
		if q.Code != codeOK || !strings.Contains(string(q.Value), `"kind":"duplicate vote"`) {
			t.Fatalf("query /validators: %d %s", q.Code, q.Value)
		}
	}
	if res := c.block(200*time.Millisecond, []abci.Misbehavior{dup(z)}, c.event(z, 1, c.start("c1", 0))); len(res.ValidatorUpdates) != 0 || res.TxResults[0].Code != codeSigner {
		t.Fatalf("evidence against a removed validator: %v, %v", res.ValidatorUpdates, res.TxResults[0])
	}
	lca := dup(a)
	lca.Type = abci.MisbehaviorType_LIGHT_CLIENT_ATTACK
	if res := c.block(300*time.Millisecond, []abci.Misbehavior{lca}); len(res.ValidatorUpdates) != 1 {
		t.Fatalf("a second validator: %v", res.ValidatorUpdates)
	}
	if rm := c.apps[1].Removed(); len(rm) != 2 || rm[1].Kind != "light client attack" || rm[1].Validator != a.PubKey().Address().String() {
		t.Fatalf("removed: %+v", rm)
	}
	if res := c.block(400*time.Millisecond, []abci.Misbehavior{dup(b)}); len(res.ValidatorUpdates) != 0 {
		t.Fatalf("the last validator removed: %v", res.ValidatorUpdates)
	}
	if q, _ := c.apps[0].Query(context.Background(), &abci.RequestQuery{Path: "/nope"}); q.Code == codeOK || !strings.Contains(q.Log, "/lease") {
		t.Fatalf("an unknown query: %+v", q)
	}
}

// FuzzDecodeTx: a transaction decodes or is refused with ErrBadTx;
// what decodes encodes back to what decodes to the same.
func FuzzDecodeTx(f *testing.F) {
	k := ed25519.GenPrivKey()
	for _, tx := range []*Tx{{Kind: KindLease, Term: 1, API: "a"}, {Kind: KindEvent, Term: 2, Cmd: []byte{2, 0, 0, 0, 0, '{', '}'}}} {
		tx.Sign(k, "c")
		b, _ := tx.Encode()
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{2})
	f.Add([]byte{txVersion, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := DecodeTx(b)
		if err != nil {
			if !strings.Contains(err.Error(), ErrBadTx.Error()) {
				t.Fatalf("error without ErrBadTx: %v", err)
			}
			return
		}
		e, err := tx.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeTx(e)
		if err != nil {
			t.Fatalf("re-encoded transaction refused: %v", err)
		}
		if string(again.signBytes("c")) != string(tx.signBytes("c")) || !bytes.Equal(again.Sig, tx.Sig) {
			t.Fatal("the round trip changed the transaction")
		}
		if tx.Verify(k.PubKey(), "c") == nil && tx.Driver != k.PubKey().Address().String() {
			t.Fatal("a signature verified for another signer")
		}
	})
}
