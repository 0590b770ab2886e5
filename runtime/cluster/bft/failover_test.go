package bft

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cometbft/cometbft/rpc/client/local"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// applied is what one validator's blocks applied and refused.
type applied struct {
	mu      sync.Mutex
	events  map[string][]eventAt // by case, in block order
	refused []string
}

type eventAt struct {
	pos    uint64
	kind   engine.EventKind
	term   uint64
	driver string
}

func observe(v *validator) *applied {
	a := &applied{events: map[string][]eventAt{}}
	v.app.mu.Lock()
	defer v.app.mu.Unlock()
	v.app.observe = func(_ int64, t *Tx, err error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if t == nil || t.Kind != KindEvent {
			return
		}
		if err != nil {
			a.refused = append(a.refused, err.Error())
			return
		}
		c, _ := cluster.DecodeCommand(t.Cmd)
		ev, _ := engine.DecodeEvent(c.Event)
		a.events[c.Case] = append(a.events[c.Case], eventAt{pos: c.Pos, kind: ev.Kind, term: t.Term, driver: t.Driver})
	}
	return a
}

// standbys starts a standby beside every validator; stops[i] kills
// validator i's. Validator i's task step(_, 2) blocks while held[i] is
// set, and says so on calling.
func standbys(t *testing.T, prog *ir.Program, vs []*validator, held []atomic.Bool, calling chan<- int) ([]*Standby, []context.CancelFunc) {
	var sbs []*Standby
	var stops []context.CancelFunc
	for i, v := range vs {
		r := worker.NewRegistry()
		r.Register("step", func(ctx context.Context, c worker.Call) (eval.Value, error) {
			if c.Args[1].AsInt() == 2 && held[i].Load() {
				select {
				case calling <- i:
				default:
				}
				<-ctx.Done()
				return eval.Value{}, ctx.Err()
			}
			return c.Args[1], nil
		})
		sb := NewStandby(StandbyConfig{App: v.app, Node: local.New(v.node), Key: v.pv.Key.PrivKey, API: fmt.Sprintf("v%d", i),
			Program: prog, Eval: &host.Evaluator{}, Worker: worker.New(prog, worker.Options{Registry: r}),
			OnTerm: func(term uint64, d *Driver) {
				t.Logf("validator %d term %d driver %v lease %+v h=%d", i, term, d != nil, v.app.Lease(), v.app.Height())
			}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { sb.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		sbs, stops = append(sbs, sb), append(stops, func() { cancel(); <-done })
	}
	return sbs, stops
}

// driving returns the index of the validator that drives, -1 for none.
func driving(sbs []*Standby, alive func(int) bool) int {
	for i, sb := range sbs {
		if alive(i) && sb.Driver() != nil {
			return i
		}
	}
	return -1
}

// TestDriverFailover runs four validators, every one a standby driver.
// The committed lease names one; it starts a case, takes its signal
// and, calling the case's second task, dies with its validator. The
// lease lapses, another standby takes the next term, recovers the case
// from the chain and runs it to its end. Every validator applied each
// of the case's events once, at its position, the dead driver's none
// after the new term; the survivors computed the same application hash
// for every block; an event of the deposed driver is refused.
func TestDriverFailover(t *testing.T) {
	prog := compile(t)
	vs := network(t, prog, 4, -1, nil)
	var obs []*applied
	for _, v := range vs {
		obs = append(obs, observe(v))
	}
	held := make([]atomic.Bool, len(vs))
	calling := make(chan int, len(vs))
	sbs, stops := standbys(t, prog, vs, held, calling)
	dead := -1
	alive := func(i int) bool { return i != dead }

	waitFor(t, "a driver", func() bool { return driving(sbs, alive) >= 0 })
	first := driving(sbs, alive)
	held[first].Store(true)
	d := sbs[first].Driver()
	oldTerm := d.Term()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := d.Start(ctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c1 to wait for Go", func() bool {
		st, _, ok := vs[first].app.FSM().Case("c1")
		return ok && len(st.Invs) == 0 && vs[first].app.FSM().Events("c1") > 2
	})
	if err := d.Signal(ctx, "", "c1", "Go", []any{int64(10)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-calling:
	case <-ctx.Done():
		t.Fatal("the driver never called the second task")
	}
	// The driver's validator dies in the middle of the task.
	dead = first
	killed := time.Now()
	vs[first].node.Stop()
	vs[first].node.Wait()
	stops[first]()

	waitFor(t, "another validator to take the lease", func() bool {
		i := driving(sbs, alive)
		return i >= 0 && sbs[i].Driver().Term() > oldTerm
	})
	next := driving(sbs, alive)
	// Reported, not asserted: a lease's length (3s) plus a tick or two.
	t.Logf("validator %d took term %d %v after the driver's kill", next, sbs[next].Driver().Term(), time.Since(killed).Round(time.Millisecond))
	for i, v := range vs {
		if !alive(i) {
			continue
		}
		waitFor(t, "c1 to end on every survivor", func() bool {
			st, _, ok := v.app.FSM().Case("c1")
			return ok && st.Done()
		})
		if st, _, _ := v.app.FSM().Case("c1"); st.Result != eval.Int(13) {
			t.Fatalf("validator %d: c1 returned %v, want 13", i, st.Result)
		}
		if l := v.app.Lease(); l.Driver != sbs[next].Address() || l.Term <= oldTerm {
			t.Fatalf("validator %d: lease %+v, want validator %d's of a term after %d", i, l, next, oldTerm)
		}
	}

	// Each event once, at its position, and the dead driver's none
	// after the new term.
	n := vs[next].app.FSM().Events("c1")
	for i, o := range obs {
		if !alive(i) {
			continue
		}
		o.mu.Lock()
		evs := o.events["c1"]
		o.mu.Unlock()
		if uint64(len(evs)) != n {
			t.Fatalf("validator %d applied %d events of c1, the case holds %d", i, len(evs), n)
		}
		signals := 0
		for p, e := range evs {
			if e.pos != uint64(p) {
				t.Fatalf("validator %d: event %d applied at position %d", i, p, e.pos)
			}
			if e.kind == engine.EvSignal {
				signals++
			}
			if e.driver == sbs[first].Address() && e.term != oldTerm {
				t.Fatalf("validator %d: the first driver's event %d at term %d", i, p, e.term)
			}
		}
		if signals != 1 {
			t.Fatalf("validator %d applied Go %d times", i, signals)
		}
		if evs[n-1].term <= oldTerm || evs[n-1].driver != sbs[next].Address() {
			t.Fatalf("validator %d: the last event is %+v, want the new driver's", i, evs[n-1])
		}
	}

	// The deposed driver's key still signs, for its old term: the block
	// refuses the event, and c1 stays as it is.
	ev, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvStart, Values: eval.Values("c2")})
	hash, _ := prog.Hash()
	cmd, _ := (&cluster.Command{Op: cluster.OpEvent, Program: hash, Case: "c2", Event: ev}).Encode()
	stale := &Tx{Kind: KindEvent, Term: oldTerm, Cmd: cmd}
	if err := stale.Sign(vs[first].pv.Key.PrivKey, "knhk-test"); err != nil {
		t.Fatal(err)
	}
	tx, _ := stale.Encode()
	if err := commit(ctx, local.New(vs[next].node), tx); !errors.Is(err, ErrDeposed) {
		t.Fatalf("an event of the deposed driver: %v", err)
	}
	if vs[next].app.FSM().Events("c2") != 0 {
		t.Fatal("the deposed driver's event applied")
	}

	// The survivors computed the same hash for every block they all
	// applied, and the dead validator for every block it applied.
	top := vs[next].app.Height()
	for i, v := range vs {
		if alive(i) {
			waitFor(t, "every survivor to reach the same height", func() bool { return v.app.Height() >= top })
		}
	}
	for h := int64(1); h <= top; h++ {
		want, _ := vs[next].app.AppHashAt(h)
		for i, v := range vs {
			got, ok := v.app.AppHashAt(h)
			if !ok && !alive(i) {
				continue
			}
			if string(got) != string(want) {
				t.Fatalf("block %d: validator %d computed %x, validator %d %x", h, i, got, next, want)
			}
		}
	}
	for i := range vs {
		if f := vs[i].fail.String(); f != "" && alive(i) {
			t.Fatalf("validator %d halted: %s", i, f)
		}
	}
	if s := strings.Join(obs[next].refused, "\n"); !strings.Contains(s, "not the driver") {
		t.Fatalf("no block refused the deposed driver's event; refusals:\n%s", s)
	}
}
