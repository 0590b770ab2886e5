// This file tests the tail state: Open reads only the receipts written
// after the last clean Close, Backfill scans only the events appended
// after the position it reached, and a crash between an event's append
// and its receipt's is still repaired.

package receipt

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
)

// Open does not read the receipts before the tail state: a receipt
// changed there does not stop it (were the whole log read, it would),
// while knhk receipts verify, which reads everything, still finds it.
func TestOpenReadsOnlyAfterTheTail(t *testing.T) {
	dir := writeLog(t, 30)
	if _, err := os.Stat(tailPath(dir)); err != nil {
		t.Fatalf("Close wrote no tail state: %v", err)
	}
	head, recs := records(t, logPath(dir))
	recs[3] = append([]byte(nil), recs[3]...)
	recs[3][len(recs[3])-40] ^= 1 // the prev digest of receipt 3
	writeRecords(t, logPath(dir), head, recs)
	r, err := Open(dir, Options{Key: testKey, Every: 100, Interval: -1})
	if err != nil {
		t.Fatalf("Open read the log before its tail state: %v", err)
	}
	if r.Size() != 30 {
		t.Fatalf("resumed at %d receipts, want 30", r.Size())
	}
	r.Record("c-2", "d1", &engine.Event{Kind: engine.EvDone})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if p := verify(t, dir).Problem; p == nil || p.Seq != 3 {
		t.Fatalf("verify: %v, want receipt 3", p)
	}

	// A tail that no longer matches the log (here the log lost its end)
	// is ignored: the whole log is read, and its damage refuses the open.
	dir = writeLog(t, 30)
	head, recs = records(t, logPath(dir))
	writeRecords(t, logPath(dir), head, recs[:25])
	if _, err := Open(dir, Options{Key: testKey, Interval: -1}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Open after the log lost its end: %v", err)
	}
}

// A log reopened from its tail goes on exactly as one read in full: the
// chain, the case chains and the Merkle tree continue, over several
// reopenings with records after the tail each time.
func TestReopenFromTailVerifies(t *testing.T) {
	dir := writeLog(t, 13)
	for round := 0; round < 3; round++ {
		r, err := Open(dir, Options{Key: testKey, Every: 5, Interval: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 7; i++ {
			r.Record([]string{"c-0", "c-1", "c-9"}[i%3], "d1", &engine.Event{Kind: engine.EvFire, Trans: int32(i)})
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rep := verify(t, dir)
	if rep.Problem != nil || rep.Receipts != 34 || rep.Signed != 34 {
		t.Fatalf("%+v %v", rep, rep.Problem)
	}
	if _, err := Prove(dir, "c-9"); err != nil {
		t.Fatal(err)
	}
}

// engineOn returns an engine over st appending through rec (none: nil).
func engineOn(t *testing.T, p *ir.Program, st *store.Store, rec *Recorder) (*engine.Engine, *countLog) {
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
		t.Fatal(err)
	}
	return e, cl
}

// countSource counts the events an event source passes on and records
// where Backfill asked it to start.
func countSource(src EventSource, from *uint64, n *int) EventSource {
	return func(f uint64, fn func(uint64, string, *engine.Event) error) error {
		*from = f
		return src(f, func(pos uint64, id string, ev *engine.Event) error {
			*n++
			return fn(pos, id, ev)
		})
	}
}

// Backfill scans only the events after the position it reached; the
// events a crash left without receipts (appended, their receipts lost
// with the process) get one on the next start.
func TestBackfillFromTailAfterCrash(t *testing.T) {
	p := compile(t, seqSource)
	h, _ := p.Hash()
	desc := func(string) string { return h }
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, _ := sign.Generate(sign.Ed25519)
	open := func() *Recorder {
		r, err := Open(dir, Options{Key: k, Interval: -1})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// run starts a recorder (its Backfill reporting what it scanned),
	// runs n cases through it and closes it.
	run := func(prefix string, n int) (r *Recorder, from uint64, scanned, added int, events int64) {
		r = open()
		added, err := r.Backfill(countSource(storeSource(st), &from, &scanned), desc)
		if err != nil {
			t.Fatal(err)
		}
		e, cl := engineOn(t, p, st, r)
		runCases(t, e, prefix, n, 3)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		return r, from, scanned, added, cl.n.Load()
	}
	// Runs 1 and 2 close cleanly; each start scans only the events
	// appended since the start before it.
	_, _, _, _, ev1 := run("a", 6)
	_, _, scanned2, _, ev2 := run("b", 4)
	if scanned2 != int(ev1) {
		t.Fatalf("run 2 scanned %d events, want run 1's %d", scanned2, ev1)
	}
	cleanTail, err := os.ReadFile(tailPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Run 3 scans only run 2's events, runs more cases, then dies: its
	// receipts are on disk but its tail state is not (run 2's stays),
	// and the last events it appended lost their receipts.
	_, _, scanned3, _, ev3 := run("c", 4)
	if scanned3 != int(ev2) {
		t.Fatalf("run 3 scanned %d events, want run 2's %d", scanned3, ev2)
	}
	if err := os.WriteFile(tailPath(dir), cleanTail, 0o644); err != nil {
		t.Fatal(err)
	}
	e, clLost := engineOn(t, p, st, nil)
	runCases(t, e, "d", 3, 3)
	lost := clLost.n.Load()

	// Run 4 reads run 3's receipts after run 2's tail state, scans the
	// events since run 2's start and gives the lost ones receipts.
	_, from4, scanned4, added4, ev4 := run("e", 2)
	if from4 == 0 || scanned4 != int(ev2+ev3+lost) {
		t.Fatalf("run 4 scanned %d events from %d, want %d", scanned4, from4, ev2+ev3+lost)
	}
	if added4 != int(lost) {
		t.Fatalf("backfilled %d, want %d", added4, lost)
	}
	total := uint64(ev1 + ev2 + ev3 + lost + ev4)
	rep, err := Verify(dir, VerifyOptions{Trust: sign.NewTrustSet(k.Public()), Events: storeEvents(st, -1, nil)})
	if err != nil || rep.Problem != nil || rep.Receipts != total || rep.Unreceipted != 0 || rep.Cases != 19 {
		t.Fatalf("%v %v %+v (want %d receipts)", err, rep.Problem, rep, total)
	}
}
