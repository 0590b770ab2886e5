package bft

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/worker"
)

// v2 is src with another result: a program of its own.
var v2 = strings.Replace(src, "return a + b + got", "return a + b + got + 100", 1)

// testCompile is the validators' Compiler in these tests.
func testCompile(name string, b []byte) (*ir.Program, error) {
	pkg, info, ds := check.CheckSource(name, b, &check.Config{})
	if ds.HasErrors() {
		return nil, ds.Err()
	}
	p, ds := compiler.Build(pkg, info)
	if ds.HasErrors() {
		return nil, ds.Err()
	}
	return p, nil
}

// hashOf is the hash of source compiled as file name (spans name it).
func hashOf(t *testing.T, name, source string) string {
	t.Helper()
	p, err := testCompile(name, []byte(source))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := p.Hash()
	return h
}

// sigOf is a signature file of program hash by k.
func sigOf(t *testing.T, k *sign.PrivateKey, hash string) []byte {
	t.Helper()
	s, err := sign.NewSignature(k, sign.DomainDescriptor, hash)
	if err != nil {
		t.Fatal(err)
	}
	return sign.MarshalSignatures(s)
}

// deployChain is a chain of apps Apps that compile deploys, whose
// genesis trusts the deploy keys trust.
func deployChain(t *testing.T, apps int, trust ...*sign.PrivateKey) *chain {
	t.Helper()
	g := Genesis{LeaseMillis: 1000}
	for _, k := range trust {
		g.DeployTrust = append(g.DeployTrust, string(k.Public().MarshalPEM()))
	}
	b, _ := json.Marshal(g)
	c := newChain(t, apps, 3)
	for _, a := range c.apps {
		a.SetCompiler(testCompile)
		if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "c", Validators: validators(c), AppStateBytes: b}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *chain) deploy(k crypto.PrivKey, name, source, hash string, sigs []byte) []byte {
	return c.event(k, 1, &cluster.Command{Op: cluster.OpDeploy, Program: c.prog, Deploy: &cluster.Deploy{Name: name, Source: []byte(source), Hash: hash, Sigs: sigs}})
}

// TestDeploySignedOnChain: with deploy keys in the genesis, every
// validator refuses, in CheckTx and in the block (a lying driver
// proposes blocks without CheckTx), a deploy that is unsigned, signed by
// another key, signed for another program, or whose source is not the
// program its signature names; it takes a deploy signed by a trusted
// key, and a case of that program then runs on every validator. A chain
// without deploy keys takes a deploy unsigned; a validator without a
// compiler takes none.
func TestDeploySignedOnChain(t *testing.T) {
	vendor, _ := sign.Generate(sign.Ed25519)
	other, _ := sign.Generate(sign.Ed25519)
	c := deployChain(t, 3, vendor)
	k := c.keys[0]
	h1, h2 := c.prog, hashOf(t, "v2.knhk", v2)
	v3 := strings.Replace(src, "return a + b + got", "return a + b + got + 7", 1)
	unsigned := c.deploy(k, "v2.knhk", v2, h2, nil)
	chk, _ := c.apps[1].CheckTx(context.Background(), &abci.RequestCheckTx{Tx: unsigned})
	if chk.Code != codeSignature || !strings.Contains(chk.Log, "deploy of v2.knhk") || !strings.Contains(chk.Log, "is unsigned") || !strings.Contains(chk.Log, vendor.Public().ID()) {
		t.Fatalf("CheckTx of an unsigned deploy: %d %s", chk.Code, chk.Log)
	}
	res := c.block(0, nil, c.lease(k, 1),
		unsigned,
		c.deploy(k, "v2.knhk", v2, h2, sigOf(t, other, h2)),                                                                // another key
		c.deploy(k, "v2.knhk", v2, h2, sigOf(t, vendor, h1)),                                                               // signed for another program
		c.deploy(k, "v3.knhk", v3, h2, sigOf(t, vendor, h2)),                                                               // a source that is not the signed program
		c.deploy(k, "v2.knhk", v2, h2, []byte("not a sig")),                                                                // no signature file
		c.event(k, 1, &cluster.Command{Op: cluster.OpEvent, Program: h2, Case: "early", Event: c.start("early", 0).Event}), // a program the chain lacks
		c.deploy(k, "v2.knhk", v2, h2, sigOf(t, vendor, h2)),
		c.event(k, 1, &cluster.Command{Op: cluster.OpEvent, Program: h2, Case: "c2", Event: c.start("c2", 0).Event}),
	)
	wantCodes(t, res, codeOK, codeSignature, codeSignature, codeSignature, codeProgram, codeSignature, codeProgram, codeOK, codeOK)
	for i, want := range map[int]string{1: "is unsigned", 2: "untrusted: signed by ed25519 key " + other.Public().ID(), 3: "tampered", 4: "its source compiles to program", 5: "signature file"} {
		if !strings.Contains(res.TxResults[i].Log, want) {
			t.Fatalf("tx %d: %s, want %q", i, res.TxResults[i].Log, want)
		}
	}
	for i, a := range c.apps {
		d := a.FSM().Deployed()
		if len(d) != 1 || d[0].Hash != h2 || a.FSM().CaseProgram("c2") != h2 || a.FSM().Events("early") != 0 {
			t.Fatalf("app %d: deployed %v, c2 runs %q", i, d, a.FSM().CaseProgram("c2"))
		}
	}

	// Without deploy keys in the genesis: unsigned is taken.
	open := deployChain(t, 2)
	wantCodes(t, open.block(0, nil, open.lease(open.keys[0], 1), open.deploy(open.keys[0], "v2.knhk", v2, h2, nil)), codeOK, codeOK)
	// Without a compiler: refused, the FSM untouched.
	bare := newChain(t, 2, 3)
	res = bare.block(0, nil, bare.lease(bare.keys[0], 1), bare.deploy(bare.keys[0], "v2.knhk", v2, h2, nil), bare.event(bare.keys[0], 1, bare.start("c1", 0)))
	wantCodes(t, res, codeOK, codeBad, codeOK)
}

// TestDriverDeploys: the driver refuses, before any transaction, a
// deploy the genesis's keys did not sign, naming the program and the
// keys; it deploys a signed one and runs a case of it to its end with
// that program's result, beside a case of the validators' own.
func TestDriverDeploys(t *testing.T) {
	vendor, _ := sign.Generate(sign.Ed25519)
	c := deployChain(t, 1, vendor)
	c.block(0, nil, c.lease(c.keys[0], 1))
	b := &instant{c: c, app: c.apps[0]}
	prog := compile(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := NewDriver(ctx, prog, &host.Evaluator{}, worker.New(prog, worker.Options{Registry: registry()}), &Log{App: c.apps[0], Node: b, Key: c.keys[0], Term: 1})
	if err != nil {
		t.Fatal(err)
	}
	d.workerOf = func(p *ir.Program) engine.Worker { return worker.New(p, worker.Options{Registry: registry()}) }
	h2 := hashOf(t, "v2.knhk", v2)
	height := c.height
	if _, err := d.Deploy(ctx, "v2.knhk", []byte(v2), nil); err == nil || !strings.Contains(err.Error(), "v2.knhk") || !strings.Contains(err.Error(), "is unsigned") || !strings.Contains(err.Error(), vendor.Public().ID()) {
		t.Fatalf("an unsigned deploy: %v", err)
	}
	if c.height != height {
		t.Fatal("a refused deploy went into a block")
	}
	if h, err := d.Deploy(ctx, "bft.knhk", []byte(src), nil); err != nil || h != c.prog {
		t.Fatalf("the validators' own program: %s %v", h, err)
	}
	if h, err := d.Deploy(ctx, "v2.knhk", []byte(v2), sigOf(t, vendor, h2)); err != nil || h != h2 {
		t.Fatalf("a signed deploy: %s %v", h, err)
	}
	if err := d.StartProgram(ctx, h2, "new", "W", []any{"new"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, "own", "W", []any{"own"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"new", "own"} {
		if err := d.Signal(ctx, "", id, "Go", []any{int64(40)}); err != nil {
			t.Fatal(err)
		}
	}
	a := c.apps[0]
	result := func(id string) int64 {
		var out int64 = -1
		waitFor(t, id+" done", func() bool {
			st, _, ok := a.FSM().Case(id)
			if ok && st.Done() {
				out = st.Result.AsInt()
			}
			return ok && st.Done()
		})
		return out
	}
	if got, want := result("new"), int64(1+2+40+100); got != want || a.FSM().CaseProgram("new") != h2 {
		t.Fatalf("the deployed program's case: %d, want %d", got, want)
	}
	if got, want := result("own"), int64(1+2+40); got != want {
		t.Fatalf("the own program's case: %d, want %d", got, want)
	}
	cancel()
	d.Wait()
}

// TestDeploySurvivesRestart: a saved state holds the deployed programs
// and the genesis's deploy keys; an App that compiles deploys loads it
// with the same hash and goes on refusing an unsigned deploy, and one
// that compiles none refuses the file rather than lose the programs.
func TestDeploySurvivesRestart(t *testing.T) {
	vendor, _ := sign.Generate(sign.Ed25519)
	c := deployChain(t, 1, vendor)
	a := c.apps[0]
	path := filepath.Join(t.TempDir(), "app.json")
	if err := a.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	k := c.keys[0]
	h2 := hashOf(t, "v2.knhk", v2)
	wantCodes(t, c.block(0, nil, c.lease(k, 1), c.deploy(k, "v2.knhk", v2, h2, sigOf(t, vendor, h2))), codeOK, codeOK)
	if _, err := a.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	m, _ := engine.NewMachine(compile(t))
	b := NewApp(m, c.prog)
	b.SetCompiler(testCompile)
	if err := b.Persist(Persistence{Path: path}); err != nil {
		t.Fatal(err)
	}
	want, _ := a.AppHashAt(c.height)
	if info, _ := b.Info(context.Background(), &abci.RequestInfo{}); !bytes.Equal(info.LastBlockAppHash, want) {
		t.Fatal("the loaded state hashes otherwise")
	}
	if d := b.FSM().Deployed(); len(d) != 1 || d[0].Hash != h2 || len(b.DeployTrust()) != 1 {
		t.Fatalf("loaded: deployed %v, deploy keys %d", d, len(b.DeployTrust()))
	}
	v3 := strings.Replace(src, "return a + b + got", "return a + b + got + 7", 1)
	chk, _ := b.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: c.deploy(k, "v3.knhk", v3, hashOf(t, "v3.knhk", v3), nil)})
	if chk.Code != codeSignature {
		t.Fatalf("an unsigned deploy after the restart: %d %s", chk.Code, chk.Log)
	}
	bare := NewApp(m, c.prog)
	if err := bare.Persist(Persistence{Path: path}); err == nil || !strings.Contains(err.Error(), "no compiler") {
		t.Fatalf("a state with deploys on an App without a compiler: %v", err)
	}
}
