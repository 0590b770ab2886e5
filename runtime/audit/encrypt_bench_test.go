package audit

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

// BenchmarkScanEncrypted times a scan of the whole log (what the
// server's recovery and a history's scan do) of n events of 100 cases
// with a payload each, in clear and encrypted through the store's seam,
// alternating in rounds in one process; it prints the medians and their
// ratio.
func BenchmarkScanEncrypted(b *testing.B) {
	const n = 20000
	ctx := context.Background()
	var encode [2][]time.Duration // the time to encode n events, in clear and sealed
	build := func(enc bool) *store.Store {
		dir := b.TempDir()
		var o store.Options
		var keys *Keys
		if enc {
			var err error
			if keys, err = Enable(dir); err != nil {
				b.Fatal(err)
			}
			o.OpenPayload, o.SealPayload = keys.OpenRecord, keys.SealRecord
		}
		st, err := store.Open(dir, o)
		if err != nil {
			b.Fatal(err)
		}
		var recs []store.Record
		t0 := time.Now()
		for i := range n {
			id := fmt.Sprintf("c%d", i%100)
			ev := &engine.Event{Kind: engine.EvSignal, Name: "s", Values: eval.Values(fmt.Sprintf("payload %d of some length", i))}
			if enc {
				if ev, err = keys.SealEvent(id, ev); err != nil {
					b.Fatal(err)
				}
			}
			p, _ := engine.EncodeEvent(ev)
			recs = append(recs, store.Record{CaseID: id, Kind: "signal", Payload: p})
		}
		w := 0
		if enc {
			w = 1
		}
		encode[w] = append(encode[w], time.Since(t0))
		if _, err := st.AppendBatch(ctx, recs); err != nil {
			b.Fatal(err)
		}
		return st
	}
	plain, enc := build(false), build(true)
	defer plain.Close()
	defer enc.Close()
	scan := func(st *store.Store) time.Duration {
		t0 := time.Now()
		if err := st.ScanViews(ctx, store.Position{}, func(store.RecordView, store.Position) error { return nil }); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	var p, e []time.Duration
	for range 7 {
		p = append(p, scan(plain))
		e = append(e, scan(enc))
	}
	med := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	b.Logf("encoding %d events: clear %v, sealed %v (%.2f µs/event more)", n, encode[0][0], encode[1][0], float64(encode[1][0]-encode[0][0])/float64(n)/1e3)
	b.Logf("scan of %d records: clear %v, encrypted %v (%.2f µs/record more), ratio %.1fx",
		n, med(p), med(e), float64(med(e)-med(p))/float64(n)/1e3, float64(med(e))/float64(med(p)))
}
