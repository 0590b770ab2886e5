package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

const bftSrc = `package app

workflow Hold(id: string) -> string {
  signal Approve(by: string)
  var stage = "waiting for " + id
  query stage -> string = stage
  select {
    on signal Approve(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody approved" }
  }
}
`

func bftProgram(t *testing.T) *ir.Program { return buildProgram(t, "app.knhk", bftSrc) }

// bftChain feeds one App blocks directly, as CometBFT would.
type bftChain struct {
	t      *testing.T
	app    *bft.App
	prog   *ir.Program
	hash   string
	height int64
}

func newBFTChain(t *testing.T, keys ...crypto.PrivKey) *bftChain {
	prog := bftProgram(t)
	m, err := engine.NewMachine(prog)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := prog.Hash()
	a := bft.NewApp(m, hash)
	var vals []abci.ValidatorUpdate
	for _, k := range keys {
		vals = append(vals, abci.Ed25519ValidatorUpdate(k.PubKey().Bytes(), 10))
	}
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "c", Validators: vals}); err != nil {
		t.Fatal(err)
	}
	return &bftChain{t: t, app: a, prog: prog, hash: hash}
}

func (c *bftChain) tx(k crypto.PrivKey, tx *bft.Tx) []byte {
	if err := tx.Sign(k, "c"); err != nil {
		c.t.Fatal(err)
	}
	b, _ := tx.Encode()
	return b
}

func (c *bftChain) start(k crypto.PrivKey, id string) []byte {
	ni := int32(0)
	for i, n := range c.prog.Nets {
		if n.Name == "Hold" {
			ni = int32(i)
		}
	}
	ev, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvStart, Trans: ni, Values: eval.Values(id)})
	cmd, _ := (&cluster.Command{Op: cluster.OpEvent, Program: c.hash, Case: id, Event: ev}).Encode()
	return c.tx(k, &bft.Tx{Kind: bft.KindEvent, Term: 1, Cmd: cmd})
}

func (c *bftChain) block(mis []abci.Misbehavior, txs ...[]byte) {
	c.height++
	res, err := c.app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: c.height, Time: time.Unix(1_700_000_000+c.height, 0), Txs: txs, Misbehavior: mis})
	if err != nil {
		c.t.Fatal(err)
	}
	for i, r := range res.TxResults {
		if r.Code != 0 {
			c.t.Fatalf("block %d tx %d: %s", c.height, i, r.Log)
		}
	}
}

// TestBFTAPI: a validator that does not drive shows the committed
// lease and the validator set (a removed validator marked), answers
// reads from its blocks (HTTP and Connect), and forwards a write to the
// driver's API, answering once it has applied the block the driver's
// answer names; without a driver a write answers 503 retry.
func TestBFTAPI(t *testing.T) {
	drv, liar := ed25519.GenPrivKey(), ed25519.GenPrivKey()
	var (
		mu        sync.Mutex
		forwarded []string
	)
	c := newBFTChain(t, drv, liar)
	driverAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		forwarded = append(forwarded, r.Header.Get(ForwardedByHeader)+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set(heightHeader, strconv.FormatInt(c.app.Height()+1, 10))
		w.Write([]byte(`{"started":"c2"}`))
	}))
	defer driverAPI.Close()
	c.block(nil, c.tx(drv, &bft.Tx{Kind: bft.KindLease, Term: 1, API: driverAPI.URL}), c.start(drv, "c1"))
	c.block([]abci.Misbehavior{{Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: abci.Validator{Address: liar.PubKey().Address(), Power: 10}, Height: 1}})

	a := NewBFTAPI("v1", c.app, nil, c.app.Height, c.prog)
	srv := httptest.NewServer(a)
	defer srv.Close()
	get := func(path string, v any) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s: %v\n%s", path, err, b)
			}
		}
		return resp.StatusCode
	}
	var st cluster.Status
	get(cluster.StatusPath, &st)
	if st.Leader != drv.PubKey().Address().String() || st.Term != "1" || st.State != "Validator" || len(st.Members) != 2 || !strings.Contains(st.Warning, "duplicate vote") {
		t.Fatalf("status: %+v", st)
	}
	for _, m := range st.Members {
		if m.ID == liar.PubKey().Address().String() && m.Suffrage != SuffrageRemoved || m.Leader && m.API != driverAPI.URL {
			t.Fatalf("member %+v", m)
		}
	}
	var cc ClusterCase
	if code := get("/cluster/v1/cases/c1", &cc); code != http.StatusOK || cc.Status != "running" {
		t.Fatalf("get c1: %d %+v", code, cc)
	}

	// A start, forwarded: answered once this validator applied the
	// driver's block.
	h := c.app.Height()
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.block(nil)
	}()
	resp, err := http.Post(srv.URL+"/cluster/v1/cases", "application/json", strings.NewReader(`{"id":"c2","workflow":"Hold","input":"\"c2\""}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "c2") || c.app.Height() <= h {
		t.Fatalf("forwarded start: %d %s at height %d", resp.StatusCode, b, c.app.Height())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(forwarded) != 1 || forwarded[0] != "v1 /cluster/v1/cases" {
		t.Fatalf("forwarded: %q", forwarded)
	}

	// Connect reads from the blocks; a start is forwarded as well.
	api := knhkv1connect.NewKnhkServiceClient(srv.Client(), srv.URL)
	g, err := api.GetCase(context.Background(), connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: "c1"}))
	if err != nil || g.Msg.Case.Status != "running" || g.Msg.Case.Workflow != "Hold" {
		t.Fatalf("GetCase: %v %v", g, err)
	}
	if _, err := api.QueryCase(context.Background(), connect.NewRequest(&knhkv1.QueryCaseRequest{CaseId: "c1", Name: "nope"})); connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "declares: [stage]") {
		t.Fatalf("QueryCase of an unknown query: %v", err)
	}
	if l, err := api.ListCases(context.Background(), connect.NewRequest(&knhkv1.ListCasesRequest{})); err != nil || len(l.Msg.Cases) != 1 {
		t.Fatalf("ListCases: %v %v", l, err)
	}
	if _, err := api.GetCase(context.Background(), connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: "nope"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("GetCase of an unknown case: %v", err)
	}
	if _, err := api.Deploy(context.Background(), connect.NewRequest(&knhkv1.DeployRequest{Source: strings.Replace(bftSrc, "waiting", "held", 1)})); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("Deploy of another program: %v", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.block(nil)
	}()
	mu.Unlock()
	api.StartCase(context.Background(), connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"c3"`}))
	mu.Lock()
	if len(forwarded) != 2 || forwarded[1] != "v1 "+knhkv1connect.KnhkServiceStartCaseProcedure {
		t.Fatalf("forwarded: %q", forwarded)
	}

	// No driver: 503, retry.
	none := newBFTChain(t, drv)
	srv2 := httptest.NewServer(NewBFTAPI("v9", none.app, nil, none.app.Height, none.prog))
	defer srv2.Close()
	resp, err = http.Post(srv2.URL+"/cluster/v1/cases", "application/json", strings.NewReader(`{"id":"c2","workflow":"Hold","input":"\"c2\""}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"retry":true`) {
		t.Fatalf("a write without a driver: %d %s", resp.StatusCode, b)
	}
}
