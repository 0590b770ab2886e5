package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/hashicorp/raft"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/worker"
)

// kernelClusterSrc has a query and a step (the result on signal Go)
// that call a kernel over the case's input.
const kernelClusterSrc = `package scaled

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))

workflow Hold(xs: [float]) -> [f32] {
  query scaled -> [f32] = scale(f32s(xs))
  select {
    on signal Go -> { return scale(f32s(xs)) }
  }
}
`

// echoKernels stands for the process's accelerator, which the tenants'
// meters share: it takes every kernel call and answers with its first
// argument, so that an answer shows whether the call reached it (the
// interpreter's answer is doubled).
type echoKernels struct{ calls atomic.Int64 }

func (d *echoKernels) RunKernel(_ *ir.Program, _ int, args []eval.Value) (eval.Value, bool, error) {
	d.calls.Add(1)
	return args[0], true, nil
}

// kernelGroup is one tenant's single-node raft group, as knhk serve
// --node --tenants builds it: its steps and its API's queries share
// the tenant's meter.
type kernelGroup struct {
	m   *meter.Accelerator
	rpc knhkv1connect.KnhkServiceClient
	url string
}

func openKernelGroup(t *testing.T, id string, prog *ir.Program, dev eval.KernelRunner, allow func(meter.AccelMonth) error) *kernelGroup {
	t.Helper()
	dir := t.TempDir()
	m, err := meter.NewAccelerator(dev, dir)
	if err != nil {
		t.Fatal(err)
	}
	m.Allow = allow
	_, tr := raft.NewInmemTransport(raft.ServerAddress(id))
	var h atomic.Pointer[ClusterAPI]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := h.Load(); a != nil {
			a.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	timing := cluster.Timing{Heartbeat: clusterTimingScale * 100 * time.Millisecond, Election: clusterTimingScale * 100 * time.Millisecond,
		Lease: clusterTimingScale * 100 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}
	n, err := cluster.NewNode(cluster.Config{ID: id, API: srv.URL, Dir: dir, Bootstrap: true, Program: prog, Eval: &host.Evaluator{Kernels: m},
		Worker: worker.New(prog, worker.Options{}), Transport: tr, Timing: timing, Compile: ClusterCompile})
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); n.Close() })
	api := NewClusterAPI(n, prog)
	api.Kernels = m
	h.Store(api)
	waitCluster(t, id+" to lead", n.IsLeader)
	return &kernelGroup{m: m, rpc: knhkv1connect.NewKnhkServiceClient(http.DefaultClient, srv.URL), url: srv.URL}
}

func (g *kernelGroup) calls() int64 { return g.m.MonthUse(meter.Month(time.Now().UnixNano())).Calls }

func (g *kernelGroup) query(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := g.rpc.QueryCase(ctx, connect.NewRequest(&knhkv1.QueryCaseRequest{CaseId: "c1", Name: name}))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Msg.ResultJson
}

// TestClusterQueryKernelsMetered: on a cluster node, a case's query
// that calls a kernel runs it on the API's Kernels, the runner of the
// group's steps, so that under knhk serve --node --tenants both are
// metered to the tenant whose case it is, and a licence that keeps the
// tenant off the accelerator keeps both on the CPU.
func TestClusterQueryKernelsMetered(t *testing.T) {
	prog := buildProgram(t, "scaled.knhk", kernelClusterSrc)
	dev := &echoKernels{}
	refuse := func(meter.AccelMonth) error { return errors.New("tier team does not include accelerators") }
	acme := openKernelGroup(t, "acme", prog, dev, nil)
	beta := openKernelGroup(t, "beta", prog, dev, nil)
	gamma := openKernelGroup(t, "gamma", prog, dev, refuse)
	for _, g := range []*kernelGroup{acme, beta, gamma} {
		if code, out := call(t, http.MethodPost, g.url+"/cluster/v1/cases", []byte(`{"id":"c1","workflow":"Hold","input":[1.5,-2,3],"request_id":"r1"}`)); code != http.StatusOK {
			t.Fatalf("start: %d %s", code, out)
		}
	}
	if a, b, c := acme.calls(), beta.calls(), gamma.calls(); a != 0 || b != 0 || c != 0 {
		t.Fatalf("before any query: acme %d, beta %d, gamma %d accelerator calls, want none", a, b, c)
	}
	const device, cpu = "[1.5,-2,3]", "[3,-4,6]"
	if got := acme.query(t, "scaled"); got != device {
		t.Fatalf("acme's query = %s, want the device's answer %s", got, device)
	}
	if a, b := acme.calls(), beta.calls(); a != 1 || b != 0 {
		t.Errorf("after acme's query: acme %d, beta %d accelerator calls, want 1 and 0", a, b)
	}
	beta.query(t, "scaled")
	if got := beta.query(t, ""); got != `{"scaled":`+device+`}` {
		t.Errorf("beta's queries = %s, want {\"scaled\":%s}", got, device)
	}
	if a, b := acme.calls(), beta.calls(); a != 1 || b != 2 {
		t.Errorf("after beta's two queries: acme %d, beta %d accelerator calls, want 1 and 2", a, b)
	}
	if n := acme.m.Total().Calls; n != 1 {
		t.Errorf("acme's knhk_accelerator_calls_total = %d, want 1", n)
	}
	// The licence's refusal: the interpreter's answer, nothing metered.
	before := dev.calls.Load()
	if got := gamma.query(t, "scaled"); got != cpu {
		t.Errorf("gamma's query = %s, want the CPU's answer %s (its licence refuses the accelerator)", got, cpu)
	}
	// A step's kernel call goes to the same meter.
	for _, g := range []*kernelGroup{acme, gamma} {
		if code, out := call(t, http.MethodPost, g.url+"/cluster/v1/cases/c1/signal", []byte(`{"name":"Go","request_id":"s1"}`)); code != http.StatusOK {
			t.Fatalf("signal: %d %s", code, out)
		}
	}
	result := func(g *kernelGroup) string {
		var c ClusterCase
		_, out := call(t, http.MethodGet, g.url+"/cluster/v1/cases/c1", nil)
		json.Unmarshal([]byte(out), &c)
		return strings.ReplaceAll(string(c.Result), " ", "")
	}
	waitCluster(t, "acme's result", func() bool { return result(acme) != "" })
	waitCluster(t, "gamma's result", func() bool { return result(gamma) != "" })
	if got := result(acme); got != device {
		t.Errorf("acme's result = %s, want the device's answer %s", got, device)
	}
	if got := result(gamma); got != cpu {
		t.Errorf("gamma's result = %s, want the CPU's answer %s", got, cpu)
	}
	if a, b, c := acme.calls(), beta.calls(), gamma.calls(); a != 2 || b != 2 || c != 0 {
		t.Errorf("after the steps: acme %d, beta %d, gamma %d accelerator calls, want 2, 2 and 0", a, b, c)
	}
	if d := dev.calls.Load() - before; d != 1 {
		t.Errorf("the device took %d calls after gamma's query, want 1 (acme's step)", d)
	}
}

// bftKernelSrc is kernelClusterSrc for a validator's test chain, whose
// start event carries a string.
const bftKernelSrc = `package scaled

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))

workflow Hold(id: string) -> string {
  query scaled -> [f32] = scale(f32s([1.5, -2.0, 3.0]))
  select {
    on signal Go -> { return id }
  }
}
`

// TestBFTQueryKernelsMetered: a BFT validator's queries run their
// kernel calls on the API's Kernels (knhk serve --bft sets the meter
// of its steps), and a meter that refuses keeps them on the CPU.
func TestBFTQueryKernelsMetered(t *testing.T) {
	prog := buildProgram(t, "scaled.knhk", bftKernelSrc)
	k := ed25519.GenPrivKey()
	c := newBFTChain(t, k)
	c.prog = prog
	c.hash, _ = prog.Hash()
	m, err := engine.NewMachine(prog)
	if err != nil {
		t.Fatal(err)
	}
	c.app = bft.NewApp(m, c.hash)
	if _, err := c.app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "c", Validators: []abci.ValidatorUpdate{abci.Ed25519ValidatorUpdate(k.PubKey().Bytes(), 10)}}); err != nil {
		t.Fatal(err)
	}
	c.block(nil, c.tx(k, &bft.Tx{Kind: bft.KindLease, Term: 1, API: "http://127.0.0.1:1"}), c.start(k, "c1"))
	dev := &echoKernels{}
	for _, tc := range []struct {
		name  string
		allow func(meter.AccelMonth) error
		want  string
		calls int64
	}{
		{"allowed", nil, "[1.5,-2,3]", 1},
		{"refused", func(meter.AccelMonth) error { return errors.New("tier team does not include accelerators") }, "[3,-4,6]", 0},
	} {
		acc, err := meter.NewAccelerator(dev, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		acc.Allow = tc.allow
		a := NewBFTAPI("v1", c.app, nil, c.app.Height, prog)
		a.Kernels = acc
		srv := httptest.NewServer(a)
		resp, err := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, srv.URL).QueryCase(context.Background(), connect.NewRequest(&knhkv1.QueryCaseRequest{CaseId: "c1", Name: "scaled"}))
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := resp.Msg.ResultJson; got != tc.want {
			t.Errorf("%s: query = %s, want %s", tc.name, got, tc.want)
		}
		if n := acc.Total().Calls; n != tc.calls {
			t.Errorf("%s: %d accelerator calls metered, want %d", tc.name, n, tc.calls)
		}
	}
}
