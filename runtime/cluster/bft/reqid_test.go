package bft

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// TestSignalRequestIDOnce: a signal event whose request id a block
// applied before is refused by every validator (ErrDuplicate) and
// applied nowhere, wherever it is proposed: the retry of a signal
// delivers it once. The FSM answers the first outcome for the id.
func TestSignalRequestIDOnce(t *testing.T) {
	c := newChain(t, 2, 3)
	a := c.keys[0]
	sig := func(pos uint64, req string) *cluster.Command {
		ev, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvSignal, Name: "Go", Values: eval.Values(int64(10))})
		return &cluster.Command{Op: cluster.OpEvent, Program: c.prog, Case: "c1", Pos: pos, Event: ev, ReqID: req}
	}
	wantCodes(t, c.block(0, nil, c.lease(a, 1), c.event(a, 1, c.start("c1", 0))), codeOK, codeOK)
	wantCodes(t, c.block(100e6, nil, c.event(a, 1, sig(1, "r1"))), codeOK)
	// The retry: in a later block at the next position, and twice in
	// one block.
	res := c.block(200e6, nil, c.event(a, 1, sig(2, "r1")), c.event(a, 1, sig(2, "r1")))
	wantCodes(t, res, codeDuplicate, codeDuplicate)
	if !strings.Contains(res.TxResults[0].Log, ErrDuplicate.Error()) {
		t.Fatalf("refusal: %q", res.TxResults[0].Log)
	}
	// Another id is another signal.
	wantCodes(t, c.block(300e6, nil, c.event(a, 1, sig(2, "r2"))), codeOK)
	for i, app := range c.apps {
		if n := app.FSM().Events("c1"); n != 3 {
			t.Fatalf("validator %d: c1 holds %d events, want 3 (start and two signals)", i, n)
		}
		r, ok := app.FSM().Request("r1")
		if !ok || r.Err != nil {
			t.Fatalf("validator %d: request r1 remembered %v, %v", i, ok, r.Err)
		}
	}
}
