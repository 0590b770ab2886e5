// This file runs real cases through the engine over the durable store
// with receipts on: every committed event gets exactly one receipt, in
// order, and the log verifies; it also holds the benchmark of durable
// transitions with receipts on against off.

package receipt

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
)

const seqSource = `package bench

task nop(n: int) -> int extern

workflow Seq() -> int {
  let a1 = nop(1)
  let a2 = nop(2)
  let a3 = nop(3)
  let a4 = nop(4)
  let a5 = nop(5)
  return a1 + a2 + a3 + a4 + a5
}
`

// compile passes src through check and the soundness gate, as knhk run
// does.
func compile(tb testing.TB, src string) *ir.Program {
	tb.Helper()
	pkg, info, diags := check.CheckSource("seq.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		tb.Fatal(diags)
	}
	p, ld := compiler.Build(pkg, info)
	if ld.HasErrors() || p == nil {
		tb.Fatal(ld)
	}
	return p
}

// countLog counts the events appended through it.
type countLog struct {
	engine.EventLog
	n atomic.Int64
}

func (l *countLog) Append(ctx context.Context, id string, ev *engine.Event) error {
	if err := l.EventLog.Append(ctx, id, ev); err != nil {
		return err
	}
	l.n.Add(1)
	return nil
}

// durable returns an engine over a fresh store in dir, with receipts
// recorded by rec when it is not nil, and the counter of its events.
func durable(tb testing.TB, p *ir.Program, dir string, rec *Recorder) (*engine.Engine, *countLog) {
	e, cl, _ := durableStore(tb, p, dir, rec)
	return e, cl
}

func durableStore(tb testing.TB, p *ir.Program, dir string, rec *Recorder) (*engine.Engine, *countLog, *store.Store) {
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	reg := worker.NewRegistry()
	reg.Register("nop", func(_ context.Context, c worker.Call) (eval.Value, error) { return c.Args[0], nil })
	cl := &countLog{EventLog: engine.StoreLog{Store: st}}
	var log engine.EventLog = cl
	if rec != nil {
		h, _ := p.Hash()
		log = rec.Wrap(cl, h)
	}
	e, err := engine.New(engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: worker.New(p, worker.Options{Registry: reg}), Log: log})
	if err != nil {
		tb.Fatal(err)
	}
	return e, cl, st
}

// storeEvents is VerifyOptions.Events over st, with edit applied to the
// n-th event (from 0) when edit is not nil.
func storeEvents(st *store.Store, n int, edit func(*engine.Event)) func(func(string, *engine.Event) error) error {
	return func(fn func(string, *engine.Event) error) error {
		i := 0
		return st.Scan(context.Background(), 0, func(r store.Record) error {
			if r.Kind == engine.SnapshotKind {
				return nil
			}
			ev, err := engine.DecodeEvent(r.Payload)
			if err != nil {
				return err
			}
			if i == n && edit != nil {
				edit(ev)
			}
			i++
			return fn(r.CaseID, ev)
		})
	}
}

// storeSource is the event source Backfill reads, over st.
func storeSource(st *store.Store) EventSource {
	return func(from uint64, fn func(uint64, string, *engine.Event) error) error {
		return st.Scan(context.Background(), store.Seq(from), func(r store.Record) error {
			if r.Kind == engine.SnapshotKind {
				return nil
			}
			ev, err := engine.DecodeEvent(r.Payload)
			if err != nil {
				return err
			}
			return fn(uint64(r.Seq), r.CaseID, ev)
		})
	}
}

func runCases(tb testing.TB, e *engine.Engine, prefix string, cases, conc int) time.Duration {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	begin := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(cases) || failed.Load() != nil {
					return
				}
				id := fmt.Sprintf("%s%d", prefix, i)
				err := e.Start(ctx, id, "Seq", nil)
				if err == nil {
					var s *engine.State
					if s, err = e.Snapshot(id); err == nil && (s.Status != engine.Completed || s.Result != eval.Int(15)) {
						err = fmt.Errorf("case %s: %v %v %s", id, s.Status, s.Result, s.Error)
					}
				}
				if err != nil {
					failed.Store(&err)
					return
				}
				e.Forget(id)
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		tb.Fatal(*err)
	}
	return time.Since(begin)
}

// TestEngineReceipts runs 40 cases, 8 at a time, with receipts on: one
// receipt per committed event, and the log verifies with the key.
func TestEngineReceipts(t *testing.T) {
	p := compile(t, seqSource)
	dir := t.TempDir()
	k, _ := sign.Generate(sign.MLDSA44)
	rec, err := Open(dir, Options{Key: k, Every: 16, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	e, cl, st := durableStore(t, p, dir, rec)
	runCases(t, e, "c", 40, 8)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	trust := sign.NewTrustSet(k.Public())
	rep, err := Verify(dir, VerifyOptions{Trust: trust, Events: storeEvents(st, -1, nil)})
	if err != nil || rep.Problem != nil || !rep.EventsChecked || rep.Unreceipted != 0 {
		t.Fatalf("%v %v %+v", err, rep.Problem, rep)
	}
	// An event of the log that differs from what its receipt recorded is
	// found at that receipt.
	bad, err := Verify(dir, VerifyOptions{Trust: trust, Events: storeEvents(st, 17, func(ev *engine.Event) { ev.Time++ })})
	if err != nil || bad.Problem == nil || !strings.Contains(bad.Problem.Reason, "does not match event") {
		t.Fatalf("changed event: %v %v", err, bad.Problem)
	}
	if n := cl.n.Load(); rep.Receipts != uint64(n) || rep.Signed != uint64(n) || rep.Cases != 40 {
		t.Fatalf("%d events, report %+v", n, rep)
	}
	h, _ := p.Hash()
	pr, err := Prove(dir, "c7")
	if err != nil {
		t.Fatal(err)
	}
	if pr.Receipts[0].Receipt.Descriptor != h || pr.Receipts[0].Receipt.Kind != "start" {
		t.Fatalf("first receipt of c7: %+v", pr.Receipts[0].Receipt)
	}
	if _, err := CheckProof(pr, sign.NewTrustSet(k.Public()), sign.Policy{Min: sign.PostQuantum}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkReceiptOverhead runs b.N cases of a five-task sequence, 64 at
// a time, over the fsync'd store, with receipts off and on (composite
// mldsa65-ed25519 checkpoints every 1,024 receipts), alternating the two
// in rounds so that drift in the machine's load hits both alike. It
// reports durable transitions per second of each and their ratio, and
// the process CPU time per transition of each and their ratio, which a
// loaded machine disturbs less than wall time.
func BenchmarkReceiptOverhead(b *testing.B) {
	p := compile(b, seqSource)
	k, _ := sign.Generate(sign.MLDSA65Ed25519)
	offE, offLog := durable(b, p, b.TempDir(), nil)
	onDir := b.TempDir()
	rec, err := Open(onDir, Options{Key: k})
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	onE, onLog := durable(b, p, onDir, rec)
	var offT, onT, offCPU, onCPU time.Duration
	b.ResetTimer()
	const round = 32
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		// Off first in one round, on first in the next: neither gains
		// from following the other.
		for _, on := range [][2]bool{{false, true}, {true, false}}[done/round%2] {
			c0 := cpuTime()
			if on {
				onT += runCases(b, onE, fmt.Sprintf("on%d-", done), n, 64)
				onCPU += cpuTime() - c0
			} else {
				offT += runCases(b, offE, fmt.Sprintf("off%d-", done), n, 64)
				offCPU += cpuTime() - c0
			}
		}
	}
	b.StopTimer()
	offN, onN := float64(offLog.n.Load()), float64(onLog.n.Load())
	off, on := offN/offT.Seconds(), onN/onT.Seconds()
	b.ReportMetric(off, "off-transitions/s")
	b.ReportMetric(on, "on-transitions/s")
	b.ReportMetric(on/off, "on/off")
	offC, onC := float64(offCPU.Nanoseconds())/offN, float64(onCPU.Nanoseconds())/onN
	b.ReportMetric(offC, "off-cpu-ns/transition")
	b.ReportMetric(onC, "on-cpu-ns/transition")
	b.ReportMetric(onC/offC, "cpu-on/off")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Backfill gives the events that have no receipt one: here cases run
// before receipts were turned on, then more with them on.
func TestBackfill(t *testing.T) {
	p := compile(t, seqSource)
	dir := t.TempDir()
	e, cl, st := durableStore(t, p, dir, nil)
	runCases(t, e, "old", 5, 2)
	k, _ := sign.Generate(sign.Ed25519)
	rec, err := Open(dir, Options{Key: k, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := p.Hash()
	n, err := rec.Backfill(storeSource(st), func(string) string { return h })
	if err != nil || n != int(cl.n.Load()) {
		t.Fatalf("backfilled %d of %d events: %v", n, cl.n.Load(), err)
	}
	// A second backfill finds nothing to do.
	if n, err := rec.Backfill(storeSource(st), func(string) string { return h }); err != nil || n != 0 {
		t.Fatalf("second backfill: %d, %v", n, err)
	}
	rec.Close()
	rep, err := Verify(dir, VerifyOptions{Trust: sign.NewTrustSet(k.Public()), Events: storeEvents(st, -1, nil)})
	if err != nil || rep.Problem != nil || rep.Receipts != uint64(cl.n.Load()) || rep.Cases != 5 {
		t.Fatalf("%v %v %+v", err, rep.Problem, rep)
	}
}
