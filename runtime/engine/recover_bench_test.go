// This file measures recovery of one long case among background cases,
// from the latest snapshot and by full replay, over a store-backed log.

package engine

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/store"
)

// loopProgram waits for signal Go forever: three events per signal.
func loopProgram() *ir.Program {
	p := ir.NewProgram("bench")
	n := p.NewNet("Loop", ir.Void)
	n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "Go"})
	w, d := n.Place("wait"), n.Place("got")
	n.Step("begin", ir.TNop, n.N.Start, w)
	n.T(n.Step("go", ir.TSignal, w, d)).Label = "Go"
	n.Step("again", ir.TNop, d, w)
	return p
}

// recordLog records what the engine writes, snapshots included, as store
// records, so that a long history can be bulk-loaded into a store
// without one fsync per event.
type recordLog struct{ recs []store.Record }

func (l *recordLog) Append(_ context.Context, id string, ev *Event) error {
	b, err := EncodeEvent(ev)
	l.recs = append(l.recs, store.Record{CaseID: id, Kind: ev.Kind.String(), Payload: b})
	return err
}

func (l *recordLog) Replay(context.Context, string, func(*Event) error) error { return nil }

func (l *recordLog) SaveSnapshot(_ context.Context, id string, snap []byte) error {
	l.recs = append(l.recs, store.Record{CaseID: id, Kind: SnapshotKind, Payload: snap})
	return nil
}

func (l *recordLog) ReplaySnapshot(context.Context, string, func([]byte) error, func(*Event) error) error {
	return nil
}

// historyStore returns a store holding case "main" with at least events
// events and as many events of ten background cases, interleaved.
func historyStore(b *testing.B, events int) *store.Store {
	ctx := context.Background()
	rec := &recordLog{}
	p := loopProgram()
	e, err := New(Config{Program: p, Worker: &fakeWorker{}, Log: rec, Clock: &fakeClock{}, Rounds: true})
	if err != nil {
		b.Fatal(err)
	}
	ids := []string{"main"}
	for i := range 10 {
		ids = append(ids, "bg"+strconv.Itoa(i))
	}
	for _, id := range ids {
		if err := e.Start(ctx, id, "Loop", nil); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; 3*i < events; i++ {
		for _, id := range []string{"main", ids[1+i%10]} {
			if err := e.Signal(ctx, id, "Go", nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	for i := 0; i < len(rec.recs); i += 4096 {
		if _, err := st.AppendBatch(ctx, rec.recs[i:min(i+4096, len(rec.recs))]); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkRecover recovers one case with a history of 1k, 10k and 100k
// events (plus as many background events of other cases) from a store,
// once from its latest snapshot (one every DefaultSnapshotEvery events)
// and once by full replay, and reports both times and their ratio. The
// snapshot time stays flat as the history grows; the full replay grows
// with it.
func BenchmarkRecover(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			st := historyStore(b, n)
			log := StoreLog{Store: st}
			cfg := Config{Program: loopProgram(), Worker: &fakeWorker{}, Log: log, Clock: &fakeClock{}, Rounds: true}
			withSnap, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			cfg.SnapshotEvery = -1
			full, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// The first recovery builds the store's index by reading
			// every record once; it is reported on its own.
			t0 := time.Now()
			if err := withSnap.Recover(ctx, "main"); err != nil {
				b.Fatal(err)
			}
			first := time.Since(t0)
			if err := full.Recover(ctx, "main"); err != nil {
				b.Fatal(err)
			}
			a, _ := withSnap.Snapshot("main")
			c, _ := full.Snapshot("main")
			if !reflect.DeepEqual(a, c) {
				b.Fatalf("recovered states differ")
			}
			var ts, tf time.Duration
			b.ResetTimer()
			for range b.N {
				t := time.Now()
				if err := withSnap.Recover(ctx, "main"); err != nil {
					b.Fatal(err)
				}
				ts += time.Since(t)
				t = time.Now()
				if err := full.Recover(ctx, "main"); err != nil {
					b.Fatal(err)
				}
				tf += time.Since(t)
			}
			b.ReportMetric(float64(ts.Microseconds())/float64(b.N), "snap-µs/recover")
			b.ReportMetric(float64(tf.Microseconds())/float64(b.N), "full-µs/recover")
			b.ReportMetric(float64(ts)/float64(tf), "snap/full")
			b.ReportMetric(float64(first.Microseconds()), "first-snap-µs")
		})
	}
}
