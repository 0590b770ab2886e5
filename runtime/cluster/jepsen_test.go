// This file holds the Jepsen-style test: clients start, signal and read
// cases while a nemesis partitions nodes, loses messages, kills and
// restarts leaders and jumps the engines' clock; the recorded history is
// checked for linearizability with porcupine against a model of a case.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/knhk/knhk/runtime/engine"
)

// registerSource is the workflow under test: a case waits for its first
// Set signal and returns the value it carried. Later signals are
// ignored, so a case is a write-once register whose value is the first
// signal in the log's order. The day-long timer must not fire: the
// nemesis's clock jumps are minutes.
const registerSource = `package jepsen

workflow R(c: string) -> int {
  signal Set(x: int)
  var got = 0
  select {
    on signal Set(x: int) -> {
      got = x
    }
    on timer 24h -> {
      got = -1
    }
  }
  return got
}
`

// opKind is what a client asked.
type opKind int

const (
	opStart opKind = iota
	opSignal
	opGet
)

type opInput struct {
	kind opKind
	key  string
	x    int64 // opSignal's value, unique in the history
}

// opOutput is what the client saw. unknown: the outcome never came
// (every retry failed), so the operation may or may not have happened.
type opOutput struct {
	unknown bool
	err     string // "exists" (start), "nocase" (signal, get), "" for success
	done    bool   // get: the case has completed
	result  int64  // get of a completed case: its result
}

// regState is the model's state of one case.
type regState struct {
	started bool
	val     int64 // first signal's value; 0 before one
	done    bool  // a read has seen the case completed
}

// caseModel is the sequential specification of a case under start,
// signal and read. It is nondeterministic where the system may be: an
// operation with an unknown outcome happened or not, and a case whose
// signal is committed may still read as running until its completion is
// committed (but not once a read saw it completed).
var caseModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(opInput).key
			if _, ok := by[k]; !ok {
				keys = append(keys, k)
			}
			by[k] = append(by[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() []any { return []any{regState{}} },
	Step: func(st, in, out any) []any {
		s, i, o := st.(regState), in.(opInput), out.(opOutput)
		switch i.kind {
		case opStart:
			started := s
			started.started = true
			switch {
			case o.unknown && !s.started:
				return []any{s, started}
			case o.unknown, o.err == "exists" && s.started:
				return []any{s}
			case o.err == "" && !s.started:
				return []any{started}
			}
		case opSignal:
			set := s
			if s.started && s.val == 0 {
				set.val = i.x
			}
			switch {
			case o.unknown:
				return []any{s, set}
			case o.err == "nocase" && !s.started:
				return []any{s}
			case o.err == "" && s.started:
				return []any{set}
			}
		case opGet:
			switch {
			case o.err == "nocase" && !s.started:
				return []any{s}
			case o.err == "" && s.started && !o.done && !s.done:
				return []any{s}
			case o.err == "" && s.started && o.done && s.val != 0 && o.result == s.val:
				d := s
				d.done = true
				return []any{d}
			}
		}
		return nil
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(opInput), out.(opOutput)
		return fmt.Sprintf("%v %s x=%d -> %+v", i.kind, i.key, i.x, o)
	},
}

// history records operations with a logical clock: an operation's call
// is stamped before it is sent and its return after its answer, so the
// stamps order operations exactly as real time did.
type history struct {
	clock atomic.Int64
	mu    sync.Mutex
	ops   []porcupine.Operation
}

// record runs do and adds the operation; a read whose outcome is unknown
// is left out (it changed nothing), any other unknown outcome stays
// open until the end of the history.
func (h *history) record(client int, in opInput, do func() opOutput) opOutput {
	call := h.clock.Add(1)
	out := do()
	ret := h.clock.Add(1)
	if out.unknown {
		if in.kind == opGet {
			return out
		}
		ret = -1
	}
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
	return out
}

// operations returns the history with open operations closed after
// everything else.
func (h *history) operations() []porcupine.Operation {
	end := h.clock.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]porcupine.Operation(nil), h.ops...)
	for i := range out {
		if out[i].Return < 0 {
			out[i].Return = end
		}
	}
	return out
}

// reader reads a case for a client: on the leader (linearizable), or,
// in the negative control, on a given node's own copy.
type reader func(ctx context.Context, c *faultCluster, key string) (*View, error)

func linearizableRead(ctx context.Context, c *faultCluster, key string) (*View, error) {
	l := c.current()
	if l == nil {
		return nil, ErrNotLeader
	}
	return l.Get(ctx, key, Linearizable)
}

// invoke sends one operation to whichever node leads, retrying with the
// same request id through elections and lost messages for up to four
// seconds, as a client of the cluster does.
func invoke(c *faultCluster, read reader, reqID string, in opInput) opOutput {
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var err error
		var v *View
		switch in.kind {
		case opGet:
			v, err = read(cctx, c, in.key)
		default:
			l := c.current()
			if l == nil {
				err = ErrNotLeader
			} else if in.kind == opStart {
				err = l.Start(cctx, reqID, in.key, "R", []any{in.key})
			} else {
				err = l.Signal(cctx, reqID, in.key, "Set", []any{in.x})
			}
		}
		cancel()
		switch {
		case err == nil && v != nil:
			out := opOutput{done: v.State.Done()}
			if out.done {
				out.result = asInt(v.State.Result)
			}
			return out
		case err == nil:
			return opOutput{}
		case errors.Is(err, ErrCaseExists):
			return opOutput{err: "exists"}
		case errors.Is(err, engine.ErrUnknownCase):
			return opOutput{err: "nocase"}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return opOutput{unknown: true}
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case eval.Value:
		if x.Kind() == ir.KindInt {
			return x.AsInt()
		}
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return -1 << 62 // matches no signal: the model refuses it
}

// runClients runs clients that each do at least ops operations on keys,
// and go on until stop closes, chosen by a generator seeded with seed
// and the client's number.
func runClients(c *faultCluster, h *history, read reader, seed uint64, clients, ops int, keys []string, stop <-chan struct{}) (acked atomic.Int64) {
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(cl)))
			for i := 0; ; i++ {
				if i >= ops {
					select {
					case <-stop:
						return
					default:
					}
				}
				in := opInput{key: keys[rng.IntN(len(keys))]}
				switch r := rng.IntN(10); {
				case r < 3:
					in.kind = opStart
				case r < 6:
					in.kind = opSignal
					in.x = int64(cl*100000 + i + 1)
				default:
					in.kind = opGet
				}
				reqID := fmt.Sprintf("c%d-%d", cl, i)
				out := h.record(cl, in, func() opOutput { return invoke(c, read, reqID, in) })
				if !out.unknown && in.kind != opGet {
					acked.Add(1)
				}
				time.Sleep(15 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	return
}

// faultKinds names the nemesis's faults, in the order of faultKind.
var faultKinds = []string{"isolate-leader", "isolate-any", "loss", "kill-leader", "clock-jump"}

// nemesis runs rounds faults, each kind equally often in an order a
// seeded generator shuffles; each fault is held for a moment and then
// healed. It returns how many of each it injected.
func nemesis(c *faultCluster, seed uint64, rounds int) map[string]int {
	rng := rand.New(rand.NewPCG(seed, 7))
	order := rng.Perm(len(faultKinds))
	done := map[string]int{}
	for round := range rounds {
		kind := order[round%len(order)]
		switch kind {
		case 0: // cut the leader off from the majority
			if l := c.current(); l != nil {
				c.net.isolate(l.ID(), c.ids)
				done[faultKinds[kind]]++
			}
		case 1: // cut a random node off
			c.net.isolate(c.ids[rng.IntN(len(c.ids))], c.ids)
			done[faultKinds[kind]]++
		case 2: // lose a fifth of the messages
			c.net.setLoss(0.2)
			done[faultKinds[kind]]++
		case 3: // kill the leader; it restarts from its log
			if l := c.current(); l != nil {
				id := l.ID()
				c.stop(id)
				time.Sleep(300 * time.Millisecond)
				c.start(id, false)
				done[faultKinds[kind]]++
			}
		case 4: // jump the engines' clock by up to ten minutes either way
			c.clock.jump(time.Duration(rng.IntN(1200)-600) * time.Second)
			done[faultKinds[kind]]++
		}
		time.Sleep(300 * time.Millisecond)
		c.net.heal()
		c.net.setLoss(0)
		time.Sleep(150 * time.Millisecond)
	}
	return done
}

// TestLinearizableUnderFaults is the Jepsen-style test: four clients on
// six cases against three nodes under the nemesis, then a final read of
// every case once healed; porcupine must find the history linearizable.
func TestLinearizableUnderFaults(t *testing.T) {
	const seed = 14
	c := newFaultCluster(t, compile(t, registerSource), newFaultNet(seed), []string{"n1", "n2", "n3"})
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5"}
	h := &history{}
	stop := make(chan struct{})
	var faults map[string]int
	go func() {
		defer close(stop)
		faults = nemesis(c, seed, 10)
	}()
	acked := runClients(c, h, mixedReads(), seed, 4, 10, keys, stop)
	c.net.heal()
	c.net.setLoss(0)
	// Every node that was killed is back: read every case at the end.
	for _, k := range keys {
		h.record(9, opInput{kind: opGet, key: k}, func() opOutput { return invoke(c, linearizableRead, "", opInput{kind: opGet, key: k}) })
	}
	ops := h.operations()
	sent, lost := c.net.counts()
	var done int
	for _, op := range ops {
		if o := op.Output.(opOutput); op.Input.(opInput).kind == opGet && o.done {
			done++
		}
	}
	t.Logf("%d operations, %d writes acknowledged, %d reads of completed cases; faults %v; %d of %d RPCs lost",
		len(ops), acked.Load(), done, faults, lost, sent)
	// The run must have exercised something: every fault, and answers.
	if len(faults) != len(faultKinds) || lost == 0 || acked.Load() < 10 || done == 0 {
		t.Fatalf("the run did too little to check: faults %v, %d lost RPCs, %d acknowledged writes, %d completed reads", faults, lost, acked.Load(), done)
	}
	res, info := porcupine.CheckOperationsVerbose(caseModel.ToModel(), ops, 30*time.Second)
	if res != porcupine.Ok {
		logViolation(t, ops)
	}
	if res != porcupine.Ok {
		t.Fatalf("history is %s (want Ok); %d operations; %s", res, len(ops), visualize(caseModel.ToModel(), info))
	}
}

// TestStaleReadsAreCaught is the negative control: the same clients,
// but reads served from an isolated follower's own copy, which misses
// the writes the majority acknowledged. The checker must call the
// history illegal, or the test above proves nothing.
func TestStaleReadsAreCaught(t *testing.T) {
	const seed = 41
	c := newFaultCluster(t, compile(t, registerSource), newFaultNet(seed), []string{"n1", "n2", "n3"})
	l := c.leader(t)
	var f string
	for _, id := range c.ids {
		if id != l.ID() {
			f = id
			break
		}
	}
	c.net.isolate(f, c.ids)
	stale := func(ctx context.Context, c *faultCluster, key string) (*View, error) {
		return c.node(f).Get(ctx, key, Stale)
	}
	h := &history{}
	stop := make(chan struct{})
	close(stop)
	runClients(c, h, stale, seed, 2, 20, []string{"k0", "k1"}, stop)
	res, _ := porcupine.CheckOperationsVerbose(caseModel.ToModel(), h.operations(), 30*time.Second)
	if res != porcupine.Illegal {
		t.Fatalf("stale follower reads gave a %s history; the checker must find them illegal", res)
	}
}

// visualize writes porcupine's page of a failed check where the person
// debugging it can open it.
func visualize(m porcupine.Model, info porcupine.LinearizationInfo) string {
	path := filepath.Join(os.TempDir(), "knhk-cluster-linearizability.html")
	if err := porcupine.VisualizePath(m, info, path); err != nil {
		return "no visualization: " + err.Error()
	}
	return "see " + path
}

// logViolation logs, sorted by call, the operations of the first case
// whose history is not linearizable.
func logViolation(t *testing.T, ops []porcupine.Operation) {
	m := caseModel.ToModel()
	for _, part := range caseModel.Partition(ops) {
		if porcupine.CheckOperationsTimeout(m, part, 10*time.Second) == porcupine.Ok {
			continue
		}
		sort.Slice(part, func(i, j int) bool { return part[i].Call < part[j].Call })
		for _, op := range part {
			t.Logf("[%d,%d] c%d %s", op.Call, op.Return, op.ClientId, caseModel.DescribeOperation(op.Input, op.Output))
		}
		return
	}
}
