package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// BenchmarkRoundTrip measures one task's trip through the broker (Submit,
// Poll, Complete) with 8 workers and 64 submitters, and reports the ratio
// against the same hand-off over a plain channel (the floor any broker
// pays for goroutine wake-ups): broker-ns/op over channel-ns/op.
func BenchmarkRoundTrip(b *testing.B) {
	var base, broker float64
	b.Run("channel", func(b *testing.B) {
		type req struct {
			in  json.RawMessage
			out chan json.RawMessage
		}
		ch := make(chan req)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for r := range ch {
					r.out <- r.in
				}
			})
		}
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			out := make(chan json.RawMessage, 1)
			for pb.Next() {
				ch <- req{json.RawMessage(`{"n":1}`), out}
				<-out
			}
		})
		close(ch)
		wg.Wait()
		base = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("broker", func(b *testing.B) {
		q := New(Options{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for {
					t, err := q.Poll(ctx, "q", fmt.Sprint("w", w))
					if err != nil {
						return
					}
					q.Complete(ctx, t.ID, t.Token, t.Input)
				}
			})
		}
		var id sync.Mutex
		n := 0
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id.Lock()
				n++
				k := fmt.Sprint("k", n)
				id.Unlock()
				if _, err := q.Submit(ctx, Job{ID: k, Queue: "q", Input: json.RawMessage(`{"n":1}`)}); err != nil {
					b.Error(err)
				}
			}
		})
		cancel()
		wg.Wait()
		broker = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if base > 0 && broker > 0 {
		b.Logf("broker %.0f ns/task, channel %.0f ns/task, ratio %.2f", broker, base, broker/base)
	}
}
