package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/meter"
)

// takingRunner takes every kernel call, as a device would.
type takingRunner struct{}

func (takingRunner) RunKernel(*ir.Program, int, []eval.Value) (eval.Value, bool, error) {
	return eval.Value{}, true, nil
}

// steppingClock advances a millisecond each time it is read, so that
// every metered call takes time.
func steppingClock() func() time.Time {
	t := time.Now()
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

// newAccel is a node's metered accelerator.
func newAccel(t *testing.T) *meter.Accelerator {
	a, err := meter.NewAccelerator(takingRunner{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a.Now = steppingClock()
	return a
}

func runKernels(t *testing.T, a *meter.Accelerator, n int) {
	for range n {
		if _, ok, err := a.RunKernel(nil, 0, nil); !ok || err != nil {
			t.Fatalf("kernel call: %v %v", ok, err)
		}
	}
}

// TestAccelInTheLog checks that accelerator time travels through the
// raft log: the leader's metered kernel calls reach every replica's
// usage identically at the same raft index, a follower's are carried
// only once it leads, and a failover loses none the old leader had
// proposed.
func TestAccelInTheLog(t *testing.T) {
	c := newTestCluster(t, compile(t, holdSource))
	accs := map[string]*meter.Accelerator{}
	add := func(id string) *Node {
		a := newAccel(t)
		accs[id] = a
		n := c.add(id, nil, func(cfg *Config) { cfg.Accel = a })
		if id != "n1" {
			if err := c.leader().Join(ctx(t), Member{ID: id, Raft: id, API: "api-" + id}, n.ProgramHash()); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	add("n1")
	l := c.leader()
	add("n2")
	add("n3")
	month := meter.Month(time.Now().UnixNano())
	lead := accs[l.ID()]
	runKernels(t, lead, 5)
	// A case's events carry the time, or the leader's next OpMeter does.
	if err := l.Start(ctx(t), "a", "a", "Hold", nil); err != nil {
		t.Fatal(err)
	}
	want := lead.Total()
	if want.Calls != 5 || want.NS <= 0 {
		t.Fatalf("metered %+v", want)
	}
	inLog := func(n *Node, w meter.AccelMonth) func() bool {
		return func() bool { return n.FSM().AccelMonth(month) == w }
	}
	for _, n := range c.nodes {
		waitFor(t, n.ID()+" to apply the leader's accelerator time", inLog(n, want))
	}
	u, err := l.FSM().Usage(month)
	if err != nil || u.AcceleratorNS != want.NS || u.AcceleratorCalls != want.Calls || u.Cases != 1 {
		t.Fatalf("usage on the leader: %+v %v, want %+v", u, err, want)
	}
	for _, n := range c.nodes {
		if err := n.WaitApplied(ctx(t), u.Applied, time.Second); err != nil {
			t.Fatal(err)
		}
		if got, err := n.FSM().UsageAt(month, u.Applied); err != nil || got != u {
			t.Fatalf("%s at %d: %+v %v, want %+v", n.ID(), u.Applied, got, err, u)
		}
	}
	// Counted as of an index before the time was carried: none.
	if first, err := l.FSM().UsageAt(month, 1); err != nil || first.AcceleratorNS != 0 {
		t.Fatalf("usage at index 1: %+v %v", first, err)
	}

	// The followers' query kernel calls stay theirs while they follow.
	var followers []string
	for id := range c.nodes {
		if id != l.ID() {
			followers = append(followers, id)
			runKernels(t, accs[id], 3)
		}
	}
	time.Sleep(3 * accelFlushEvery / 2)
	if got := l.FSM().AccelMonth(month); got != want {
		t.Fatalf("a follower's time reached the log: %+v, want %+v", got, want)
	}

	// The leader fails: the new one carries its own pending time, and
	// the log keeps the old leader's.
	c.kill(l.ID())
	nl := c.leader()
	carried := accs[nl.ID()].Total()
	total := meter.AccelMonth{NS: want.NS + carried.NS, Calls: want.Calls + carried.Calls}
	for _, id := range followers {
		waitFor(t, id+" to apply the new leader's accelerator time", inLog(c.node(id), total))
	}
	if total.Calls != 8 {
		t.Fatalf("calls in the log %d, want 8", total.Calls)
	}
	for _, id := range followers {
		if id != nl.ID() {
			if p := accs[id].TakePending(); p[month].Calls != 3 {
				t.Fatalf("the follower's pending time: %+v", p)
			}
		}
	}

	// A snapshot carries it.
	f, b := roundTrip(t, nl.FSM())
	if got := f.AccelMonth(month); got != total {
		t.Fatalf("restored %+v, want %+v", got, total)
	}
	var w map[string]any
	json.Unmarshal(b, &w)
	w["accel"] = []map[string]any{{"i": 3, "month": month, "ns": -1, "calls": 1}}
	bad, _ := json.Marshal(w)
	if err := NewFSM(nl.fsm.m, nl.fsm.prog).Restore(io.NopCloser(bytes.NewReader(bad))); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("negative time in a snapshot: %v", err)
	}
}

// TestAccelCommand checks the encoding: an entry written before the
// field existed decodes to no time, a meter command needs time, and bad
// time is refused with the offending value.
func TestAccelCommand(t *testing.T) {
	old := &Command{Op: OpEvent, Program: "p", Case: "a", Event: json.RawMessage(`{}`)}
	b, err := old.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("accel")) {
		t.Fatalf("a command without time encodes the field: %s", b[5:])
	}
	c, err := DecodeCommand(b)
	if err != nil || c.Accel != nil {
		t.Fatalf("old entry: %+v %v", c, err)
	}
	for _, tc := range []struct {
		c    Command
		want string
	}{
		{Command{Op: OpMeter, Program: "p"}, "without accelerator time"},
		{Command{Op: OpMeter, Program: "p", Accel: []AccelUse{{Month: "2026-13", NS: 1}}}, `"2026-13"`},
		{Command{Op: OpMeter, Program: "p", Accel: []AccelUse{{Month: "2026-12", NS: -5, Calls: 1}}}, "-5 ns"},
		{Command{Op: OpEvent, Program: "p", Case: "a", Event: json.RawMessage(`{}`), Accel: []AccelUse{{Month: "x"}}}, `"x"`},
	} {
		b, _ := tc.c.Encode()
		if _, err := DecodeCommand(b); !errors.Is(err, ErrBadCommand) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
	}
	ok := &Command{Op: OpMeter, Program: "p", Accel: []AccelUse{{Month: "2026-12", NS: 7, Calls: 1}}}
	b, _ = ok.Encode()
	if c, err := DecodeCommand(b); err != nil || len(c.Accel) != 1 || c.Accel[0] != ok.Accel[0] {
		t.Fatalf("meter command: %+v %v", c, err)
	}
}

// FuzzAccelCommand checks that a command's accelerator time either
// decodes exactly as encoded or is refused as a bad command, and that
// a snapshot holding it either restores the same month's time or is
// refused as a bad snapshot: never a panic, never half restored.
func FuzzAccelCommand(f *testing.F) {
	f.Add("2026-12", int64(7), int64(1), uint64(3))
	f.Add("2026-13", int64(-1), int64(0), uint64(0))
	f.Add("", int64(0), int64(-9), uint64(1))
	fresh := fuzzFSM(f)
	f.Fuzz(func(t *testing.T, month string, ns, calls int64, index uint64) {
		if !utf8.ValidString(month) {
			return // JSON would carry another string
		}
		c := &Command{Op: OpMeter, Program: "p", Accel: []AccelUse{{Month: month, NS: ns, Calls: calls}}}
		b, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, err := DecodeCommand(b)
		if err != nil {
			if !errors.Is(err, ErrBadCommand) {
				t.Fatalf("refused as %v", err)
			}
		} else if len(d.Accel) != 1 || d.Accel[0] != c.Accel[0] {
			t.Fatalf("decoded %+v, encoded %+v", d.Accel, c.Accel)
		}
		snap := fuzzSnapshot(t, fresh(), []accelEntry{{Index: index, AccelUse: c.Accel[0]}})
		g := fresh()
		if err := g.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("restore refused as %v", err)
			}
			if g.AccelMonth(month) != (meter.AccelMonth{}) {
				t.Fatal("a refused snapshot left accelerator time")
			}
			return
		}
		if got := g.AccelMonth(month); ns|calls != 0 && got != (meter.AccelMonth{NS: ns, Calls: calls}) {
			t.Fatalf("restored %+v of %q, want %d ns %d calls", got, month, ns, calls)
		}
	})
}

// fuzzSnapshot is f's snapshot with es as its accelerator time.
func fuzzSnapshot(t *testing.T, f *FSM, es []accelEntry) []byte {
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	if err := json.Unmarshal([]byte(s.(fsmSnapshot)), &w); err != nil {
		t.Fatal(err)
	}
	w["accel"] = es
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAccelMeterRetriedOnce applies an OpMeter twice with one request
// id (a post sent again after an ambiguous failure): its time counts
// once. Time a retried command of another op carries is the proposer's
// pending time, new with each proposal, and counts each time; an
// OpMeter without a request id (an entry written before they had one)
// counts each time too.
func TestAccelMeterRetriedOnce(t *testing.T) {
	f, h := newTestFSM(t)
	month := "2026-12"
	meterCmd := &Command{Op: OpMeter, ReqID: "m1", Program: h, Accel: []AccelUse{{Month: month, NS: 5, Calls: 1}}}
	for i := uint64(1); i <= 2; i++ {
		if r := f.Apply(entry(t, i, meterCmd)).(*Result); r.Err != nil || r.Dup != (i == 2) {
			t.Fatalf("meter entry %d: %+v", i, r)
		}
	}
	if got := f.AccelMonth(month); got != (meter.AccelMonth{NS: 5, Calls: 1}) {
		t.Fatalf("a retried meter entry: %+v, want 5 ns in 1 call", got)
	}
	old := &Command{Op: OpMeter, Program: h, Accel: []AccelUse{{Month: month, NS: 1, Calls: 1}}}
	tenancy := &Command{Op: OpTenant, ReqID: "t1", Program: h, Tenancy: &TenancyChange{Files: map[string][]byte{"tenants.json": []byte("{}")}},
		Accel: []AccelUse{{Month: month, NS: 10, Calls: 1}}}
	for i, c := range []*Command{old, old, tenancy, tenancy} {
		f.Apply(entry(t, uint64(3+i), c))
	}
	if got := f.AccelMonth(month); got != (meter.AccelMonth{NS: 27, Calls: 5}) {
		t.Fatalf("after old meter entries and a retried tenancy change: %+v, want 27 ns in 5 calls", got)
	}
	if u, err := f.UsageAt(month, 2); err != nil || u.AcceleratorNS != 5 || u.AcceleratorCalls != 1 {
		t.Fatalf("usage at index 2: %+v %v", u, err)
	}
}
