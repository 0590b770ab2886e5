// This file measures what one store's commits cost another's on the
// same disk, and whether a gate across stores in front of their syncs
// (a node-wide commit scheduler, as for tenants' stores) would help.

package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncGate orders a quiet store's appends and a neighbour's.
type syncGate interface {
	enter(quiet bool)
	leave(quiet bool)
}

// noGate lets both go at once, as the stores do.
type noGate struct{}

func (noGate) enter(bool) {}
func (noGate) leave(bool) {}

// fifoGate lets one append at a time, in turn: a commit scheduler that
// serialises the stores' syncs.
type fifoGate struct{ mu sync.Mutex }

func (g *fifoGate) enter(bool) { g.mu.Lock() }
func (g *fifoGate) leave(bool) { g.mu.Unlock() }

// yieldGate holds the neighbour's append while the quiet store's is in
// flight: a scheduler that serves the tenant under its share first.
type yieldGate struct {
	mu   sync.Mutex
	cond *sync.Cond
	busy int
}

func newYieldGate() *yieldGate {
	g := &yieldGate{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *yieldGate) enter(quiet bool) {
	g.mu.Lock()
	if quiet {
		g.busy++
	}
	for !quiet && g.busy > 0 {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

func (g *yieldGate) leave(quiet bool) {
	if !quiet {
		return
	}
	g.mu.Lock()
	g.busy--
	g.cond.Broadcast()
	g.mu.Unlock()
}

// BenchmarkSyncNeighbour times a quiet store's appends (one at a time,
// 300 µs apart, as a case's commits come) on the test's temporary
// directory, alone (twice: the noise floor) and beside a neighbour
// store appending 500 times a second (a tenant at 50 cases a second,
// ten commits each) with no gate, a FIFO gate and a yielding gate
// between them (see the gates above). Conditions alternate in blocks of
// 100 appends, shuffled every round, in one run; -v logs each one's
// pooled p50, p90 and p99 and their ratios to alone's.
//
//	go test ./runtime/store -run XXX -bench SyncNeighbour -benchtime 1x -v
func BenchmarkSyncNeighbour(b *testing.B) {
	ctx := context.Background()
	open := func() *Store {
		s, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	quiet, noisy := open(), open()
	r := Record{CaseID: "case-1", Kind: "fire", Payload: make([]byte, 200)}
	names := []string{"alone", "alone'", "beside", "fifo", "yield"}
	gates := []syncGate{noGate{}, noGate{}, noGate{}, &fifoGate{}, newYieldGate()}
	for range 100 { // past preallocAfter, so both write into zeros
		quiet.Append(ctx, r)
		noisy.Append(ctx, r)
	}
	for range b.N {
		lat := make([][]time.Duration, len(names))
		order := []int{0, 1, 2, 3, 4}
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		for range 60 {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for _, k := range order {
				g := gates[k]
				var stop atomic.Bool
				var wg sync.WaitGroup
				if k >= 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for !stop.Load() {
							t := time.Now()
							g.enter(false)
							_, err := noisy.Append(ctx, r)
							g.leave(false)
							if err != nil {
								b.Error(err)
								return
							}
							time.Sleep(2*time.Millisecond - time.Since(t))
						}
					}()
				}
				for range 100 {
					t := time.Now()
					g.enter(true)
					_, err := quiet.Append(ctx, r)
					g.leave(true)
					if err != nil {
						b.Fatal(err)
					}
					lat[k] = append(lat[k], time.Since(t))
					time.Sleep(300 * time.Microsecond)
				}
				stop.Store(true)
				wg.Wait()
			}
		}
		for _, l := range lat {
			slices.Sort(l)
		}
		pct := func(k, p int) time.Duration { return lat[k][len(lat[k])*p/100] }
		var line strings.Builder
		for k, name := range names {
			fmt.Fprintf(&line, "\n  %-7s", name)
			for _, p := range []int{50, 90, 99} {
				fmt.Fprintf(&line, "  p%d %v (%.2fx)", p, pct(k, p).Round(time.Microsecond), float64(pct(k, p))/float64(pct(0, p)))
			}
		}
		b.Log("quiet store's append, pooled over 6,000 a condition:" + line.String())
	}
}
