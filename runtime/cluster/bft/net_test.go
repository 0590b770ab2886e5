package bft

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

const src = `package bft

task step(c: string, n: int) -> int extern

workflow W(c: string) -> int {
  signal Go(x: int)
  var got = 0
  let a = step(c, 1)
  select {
    on signal Go(x: int) -> {
      got = x
    }
  }
  let b = step(c, 2)
  return a + b + got
}
`

func compile(t testing.TB) *ir.Program {
	pkg, info, ds := check.CheckSource("bft.knhk", []byte(src), &check.Config{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, ds := compiler.Build(pkg, info)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return p
}

// failures records what a node's consensus halted on, or what block
// sync refused.
type failures struct {
	mu   sync.Mutex
	msgs []string
}

type logger struct{ f *failures }

func (logger) Debug(string, ...any) {}
func (logger) Info(string, ...any)  {}
func (l logger) Error(msg string, kv ...any) {
	// A node still in block sync (it started after the others had
	// committed blocks) refuses a block there instead: it drops the
	// peer that sent it and asks again, and never gets further.
	if strings.Contains(msg, "CONSENSUS FAILURE") || msg == "Error in validation" {
		l.f.mu.Lock()
		l.f.msgs = append(l.f.msgs, fmt.Sprint(kv...))
		l.f.mu.Unlock()
	}
}
func (l logger) With(...any) cmtlog.Logger { return l }

func (f *failures) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.msgs, "\n")
}

type validator struct {
	app  *App
	node *nm.Node
	fail *failures
	pv   *privval.FilePV
	vals *types.ValidatorSet
	cfg  *cfg.Config
	gen  *types.GenesisDoc
	peer string // ID@host:port
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// network starts n validators of equal power in this process, each with
// its own App; tamper (if not nil) is given to validator liar; each of
// opts may change validator i's configuration and App before it starts.
func network(t *testing.T, prog *ir.Program, n, liar int, tamper func([]byte) []byte, opts ...func(i int, c *cfg.Config, a *App)) []*validator {
	skipUnderRace(t)
	m, err := engine.NewMachine(prog)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := prog.Hash()
	gen := &types.GenesisDoc{ChainID: "knhk-test", GenesisTime: time.Now().Add(-time.Second), ConsensusParams: types.DefaultConsensusParams(),
		AppState: []byte(fmt.Sprintf(`{"lease_ms":%d}`, testLease.Milliseconds()))}
	var cfgs []*cfg.Config
	var pvs []*privval.FilePV
	var keys []*p2p.NodeKey
	var peers []string
	for i := range n {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		cfg.EnsureRoot(dir)
		c := cfg.TestConfig().SetRoot(dir)
		c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
		c.P2P.AddrBookStrict = false
		c.P2P.PexReactor = false
		c.RPC.ListenAddress = ""
		c.Consensus.TimeoutCommit = 50 * time.Millisecond
		// A write waits for its block as long as the test's other
		// waits: CometBFT's own bound (10s) is shorter than a block
		// takes on a loaded machine when every honest validator's
		// vote is needed (one of four lies), and the caller's context
		// does not reach the wait of a local client.
		c.RPC.TimeoutBroadcastTxCommit = loadedWait
		allowWrites(c) // as Open
		c.Consensus.SkipTimeoutCommit = false
		c.Consensus.TimeoutPropose = 300 * time.Millisecond
		c.Consensus.TimeoutPrevote = 100 * time.Millisecond
		c.Consensus.TimeoutPrecommit = 100 * time.Millisecond
		os.MkdirAll(filepath.Dir(c.PrivValidatorKeyFile()), 0o755)
		os.MkdirAll(filepath.Dir(c.PrivValidatorStateFile()), 0o755)
		pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
		pv.Save()
		nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
		if err != nil {
			t.Fatal(err)
		}
		pk, _ := pv.GetPubKey()
		gen.Validators = append(gen.Validators, types.GenesisValidator{Address: pk.Address(), PubKey: pk, Power: 10, Name: fmt.Sprint(i)})
		peers = append(peers, p2p.IDAddressString(nk.ID(), strings.TrimPrefix(c.P2P.ListenAddress, "tcp://")))
		cfgs, pvs, keys = append(cfgs, c), append(pvs, pv), append(keys, nk)
	}
	if err := gen.ValidateAndComplete(); err != nil {
		t.Fatal(err)
	}
	var vs []*validator
	for i := range n {
		var others []string
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		cfgs[i].P2P.PersistentPeers = strings.Join(others, ",")
		app := NewApp(m, hash)
		if i == liar {
			app.tamper = tamper
		}
		for _, o := range opts {
			o(i, cfgs[i], app)
		}
		f := &failures{}
		node, err := nm.NewNode(cfgs[i], pvs[i], keys[i], proxy.NewLocalClientCreator(app),
			func() (*types.GenesisDoc, error) { return gen, nil }, dbProvider(closeGrace(cfgs[i]), nil), nm.DefaultMetricsProvider(cfgs[i].Instrumentation), logger{f})
		if err != nil {
			t.Fatal(err)
		}
		if err := node.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Stop(); node.Wait() })
		vs = append(vs, &validator{app: app, node: node, fail: f, pv: pvs[i], vals: valSet(gen), cfg: cfgs[i], gen: gen, peer: peers[i]})
	}
	return vs
}

func registry() *worker.Registry {
	r := worker.NewRegistry()
	r.Register("step", func(_ context.Context, c worker.Call) (eval.Value, error) { return c.Args[1], nil })
	return r
}

// loadedWait bounds each wait of the network tests: generous enough
// for a loaded 2-core machine, where blocks of four validators in one
// process take seconds.
const loadedWait = 90 * time.Second

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForOr(t, what, cond, nil)
}

// waitForOr is waitFor that, on a timeout, also reports what dump (if
// not nil) says: the state a test that cannot be reproduced by hand
// needs.
func waitForOr(t *testing.T, what string, cond func() bool, dump func() string) {
	t.Helper()
	deadline := time.Now().Add(loadedWait)
	for !cond() {
		if time.Now().After(deadline) {
			if dump == nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			t.Fatalf("timed out waiting for %s:\n%s", what, dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// states describes each validator: its block height, the app's height
// and hash, and what its consensus failed on.
func states(vs []*validator) string {
	var b strings.Builder
	for i, v := range vs {
		h, _ := v.app.AppHashAt(v.app.Height())
		fmt.Fprintf(&b, "validator %d: block height %d, app height %d, app hash %x, failure %q\n",
			i, v.node.BlockStore().Height(), v.app.Height(), h, v.fail.String())
		fmt.Fprintf(&b, "  peers %d", v.node.Switch().Peers().Size())
		if rs, err := local.New(v.node).ConsensusState(context.Background()); err == nil {
			fmt.Fprintf(&b, ", round state %s", rs.RoundState)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// testLease is the lease of the test networks' genesis: short, so that
// a failover does not wait long, and still many blocks.
const testLease = 3 * time.Second

// driver commits the lease of term 1 to validator v (nobody else
// claims it in these tests) and returns an engine beside v whose events
// are that term's transactions.
func driver(t *testing.T, prog *ir.Program, v *validator) *engine.Engine {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node := local.New(v.node)
	lease := &Tx{Kind: KindLease, Term: 1}
	waitFor(t, "the genesis", func() bool { return v.app.ChainID() != "" })
	if err := lease.Sign(v.pv.Key.PrivKey, v.app.ChainID()); err != nil {
		t.Fatal(err)
	}
	tx, _ := lease.Encode()
	if err := commit(ctx, node, tx); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Program: prog, Eval: &host.Evaluator{}, Worker: worker.New(prog, worker.Options{Registry: registry()}),
		Log: &Log{App: v.app, Node: node, Key: v.pv.Key.PrivKey, Term: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestFourValidatorsAgree runs a case through blocks of four validators:
// every one holds the same state and application hash.
func TestFourValidatorsAgree(t *testing.T) {
	prog := compile(t)
	vs := network(t, prog, 4, -1, nil)
	eng := driver(t, prog, vs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := eng.Start(ctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Signal(ctx, "c1", "Go", []any{int64(40)}); err != nil {
		t.Fatal(err)
	}
	st, err := eng.Snapshot("c1")
	if err != nil || !st.Done() || st.Result != eval.Int(43) {
		t.Fatalf("c1: %+v %v", st, err)
	}
	n := vs[0].app.FSM().Events("c1")
	waitFor(t, "every validator to apply c1", func() bool {
		for _, v := range vs {
			if v.app.FSM().Events("c1") != n {
				return false
			}
		}
		return true
	})
	h0, _ := vs[0].app.FSM().StateHash()
	for i, v := range vs {
		h, _ := v.app.FSM().StateHash()
		if string(h) != string(h0) {
			t.Fatalf("validator %d holds another state", i)
		}
		// Honest validators report no misbehavior (the control for
		// TestEquivocationIsReported).
		if m := v.app.Misbehavior(); len(m) != 0 || len(v.app.Removed()) != 0 {
			t.Fatalf("validator %d saw misbehavior %v, removed %v", i, m, v.app.Removed())
		}
	}
}

// TestLyingValidatorIsDetected: one validator of four answers a wrong
// application hash. The other three go on committing blocks; the liar
// refuses the block that certifies the honest hash and halts, saying
// so; the honest chain never carries the liar's hash. The liar meets
// that block either in consensus or, when it starts after the others
// have committed blocks (as a loaded machine may start it), in block
// sync, which refuses it too.
func TestLyingValidatorIsDetected(t *testing.T) {
	t.Run("consensus", func(t *testing.T) { lyingValidator(t, 0) })
	t.Run("block sync", func(t *testing.T) { lyingValidator(t, 2*time.Second) })
}

// lyingValidator runs TestLyingValidatorIsDetected with the liar
// started late after the others.
func lyingValidator(t *testing.T, late time.Duration) {
	prog := compile(t)
	lie := func(h []byte) []byte { return append([]byte("forged"), h[6:]...) }
	vs := network(t, prog, 4, 3, lie, func(i int, _ *cfg.Config, _ *App) {
		if i == 3 {
			time.Sleep(late)
		}
	})
	eng := driver(t, prog, vs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := eng.Start(ctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	waitForOr(t, "the liar to halt", func() bool { return strings.Contains(vs[3].fail.String(), "wrong Block.Header.AppHash") }, func() string { return states(vs) })
	h := vs[0].node.BlockStore().Height()
	waitFor(t, "the honest validators to go on", func() bool { return vs[1].node.BlockStore().Height() > h+2 })
	if err := eng.Signal(ctx, "c1", "Go", []any{int64(1)}); err != nil {
		t.Fatal(err)
	}
	for height := int64(1); height <= vs[0].node.BlockStore().Height(); height++ {
		if b := vs[0].node.BlockStore().LoadBlock(height); b != nil && strings.HasPrefix(string(b.AppHash), "forged") {
			t.Fatalf("block %d carries the liar's hash", height)
		}
	}
	for i := range 3 {
		if f := vs[i].fail.String(); f != "" {
			t.Fatalf("honest validator %d halted: %s", i, f)
		}
	}
	st, err := eng.Snapshot("c1")
	if err != nil || !st.Done() || st.Result != eval.Int(4) {
		t.Fatalf("c1 on the honest chain: %+v %v", st, err)
	}
	// The liar stopped where its hash was refused.
	if lh, hh := vs[3].node.BlockStore().Height(), vs[0].node.BlockStore().Height(); lh >= hh {
		t.Fatalf("the liar is at height %d, the honest chain at %d", lh, hh)
	}
}

// TestTransactionsAreChecked: a bare cluster command, a command of
// another program and a transaction not signed by a validator never
// enter a block; a command replayed at a position its case has passed,
// and an event signed by a validator that does not hold the lease, are
// in a block but not applied.
func TestTransactionsAreChecked(t *testing.T) {
	prog := compile(t)
	vs := network(t, prog, 4, -1, nil)
	eng := driver(t, prog, vs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := eng.Start(ctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	rpc := local.New(vs[1].node)
	ev, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvStart, Values: eval.Values("c1")})
	hash, _ := prog.Hash()
	send := func(key crypto.PrivKey, term uint64, c *cluster.Command) *coretypes.ResultBroadcastTxCommit {
		t.Helper()
		cmd, _ := c.Encode()
		tx := cmd
		if key != nil {
			x := &Tx{Kind: KindEvent, Term: term, Cmd: cmd}
			if err := x.Sign(key, "knhk-test"); err != nil {
				t.Fatal(err)
			}
			tx, _ = x.Encode()
		}
		res, err := rpc.BroadcastTxCommit(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	driverKey := vs[0].pv.Key.PrivKey
	if res := send(nil, 0, &cluster.Command{Op: cluster.OpEvent, Program: hash, Case: "c9", Event: ev}); res.CheckTx.Code == 0 || !strings.Contains(res.CheckTx.Log, "bare cluster command") {
		t.Fatalf("a bare cluster command: %+v", res.CheckTx)
	}
	if res := send(driverKey, 1, &cluster.Command{Op: cluster.OpEvent, Program: "0ther", Case: "c9", Event: ev}); res.CheckTx.Code == 0 || !strings.Contains(res.CheckTx.Log, "program version mismatch") {
		t.Fatalf("a command of another program: %+v", res.CheckTx)
	}
	if res := send(ed25519.GenPrivKey(), 1, &cluster.Command{Op: cluster.OpEvent, Program: hash, Case: "c9", Event: ev}); res.CheckTx.Code == 0 || !strings.Contains(res.CheckTx.Log, "not a validator") {
		t.Fatalf("an event signed by a stranger: %+v", res.CheckTx)
	}
	if res := send(driverKey, 1, &cluster.Command{Op: cluster.OpEvent, Program: hash, Case: "c1", Pos: 0, Event: ev}); res.TxResult.Code == 0 || !strings.Contains(res.TxResult.Log, "event position conflict") {
		t.Fatalf("a replayed start: %+v", res.TxResult)
	}
	// A validator that does not hold the lease proposes c9's start at
	// the right position: the block refuses it.
	if res := send(vs[1].pv.Key.PrivKey, 1, &cluster.Command{Op: cluster.OpEvent, Program: hash, Case: "c9", Event: ev}); res.TxResult.Code != codeDeposed || !strings.Contains(res.TxResult.Log, "not the driver") {
		t.Fatalf("an event of a validator without the lease: %+v", res.TxResult)
	}
	if n := vs[1].app.FSM().Events("c1"); n == 0 || vs[1].app.FSM().Events("c9") != 0 {
		t.Fatalf("c1 has %d events, c9 %d", n, vs[1].app.FSM().Events("c9"))
	}
}

func valSet(gen *types.GenesisDoc) *types.ValidatorSet {
	var vals []*types.Validator
	for _, v := range gen.Validators {
		vals = append(vals, types.NewValidator(v.PubKey, v.Power))
	}
	return types.NewValidatorSet(vals)
}

// skipUnderRace skips a test that runs real CometBFT nodes when the race
// detector is on (see race_on_test.go); CI runs it without -race.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("CometBFT v0.38's own p2p shutdown races under -race; .ci/test.sh runs this test without it")
	}
}
