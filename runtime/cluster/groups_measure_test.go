// This file measures what a raft group per tenant costs (knhk serve
// --node --tenants): goroutines and heap per group, CPU while idle, and
// a start's commit latency in a tenant's group against the cluster's
// own, on three nodes over loopback in one process, with raft's default
// timeouts as knhk serve --node uses them. It runs only with
// KNHK_MEASURE=1 and prints; it asserts nothing about time.

package cluster

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestMeasureTenantGroups(t *testing.T) {
	if os.Getenv("KNHK_MEASURE") == "" {
		t.Skip("set KNHK_MEASURE=1 to measure")
	}
	for _, groups := range []int{0, 10, 40} {
		g0, h0 := runtime.NumGoroutine(), heap()
		c := newGroupCluster(t)
		// raft's own timeouts (1s heartbeat) and the node's default tick,
		// as knhk serve --node runs.
		c.timing = Timing{}
		var names []string
		for i := range groups {
			names = append(names, fmt.Sprintf("t%d", i))
		}
		c.startWith("n1", true, names...)
		c.leader("")
		for _, id := range []string{"n2", "n3"} {
			g := c.startWith(id, false, names...)
			if err := c.retry("", func(n *Node) error {
				return n.Join(ctx(t), Member{ID: id, Raft: g.mux.Addr().String(), API: "api-" + id}, n.ProgramHash())
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range append([]string{""}, names...) {
			waitFor(t, "three voters in group "+name, func() bool { return c.voters(name) == 3 })
		}
		time.Sleep(time.Second)
		g1, h1 := runtime.NumGoroutine(), heap()
		cpu0 := cpuTime()
		time.Sleep(5 * time.Second)
		idle := cpuTime() - cpu0
		lat := func(name string) time.Duration {
			var ds []time.Duration
			for i := range 50 {
				t0 := time.Now()
				if err := c.retry(name, func(n *Node) error {
					return n.Start(ctx(t), fmt.Sprintf("m-%s-%d", name, i), fmt.Sprintf("m-%s-%d", name, i), "W", []any{"m"})
				}); err != nil {
					t.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		own := lat("")
		tenant := own
		if groups > 0 {
			tenant = lat("t0")
		}
		per := func(v, base int) string {
			if groups == 0 {
				return "-"
			}
			return fmt.Sprint((v - base) / (3 * groups))
		}
		t.Logf("tenant groups %d (x3 nodes): goroutines %d (+%s per group per node), heap %.1f MiB (+%s KiB per group per node), idle CPU %.1f%% of a core, start commit p50 own %v, tenant %v (ratio %.2f)",
			groups, g1, per(g1, g0), float64(h1)/(1<<20), per(int(h1/1024), int(h0/1024)), 100*idle.Seconds()/5, own.Round(10*time.Microsecond), tenant.Round(10*time.Microsecond), tenant.Seconds()/own.Seconds())
		for _, id := range []string{"n1", "n2", "n3"} {
			c.kill(id)
		}
	}
}

// incSource ends at once: a case's start-to-result is its commits.
const incSource = `package inc

workflow Inc(n: int) -> int {
  return n + 1
}
`

// TestMeasureNoisyTenant measures a quiet tenant's start-to-result
// latency (p50, p99) on its group's leader, alone and then while a
// noisy tenant on the same nodes hammers its licence's limit of 4
// running cases from 8 goroutines (retrying a refused start after 1ms),
// in one run (KNHK_MEASURE=1). The nodes share one process and the
// machine's cores: what the quiet tenant loses is CPU, not its log.
func TestMeasureNoisyTenant(t *testing.T) {
	if os.Getenv("KNHK_MEASURE") == "" {
		t.Skip("set KNHK_MEASURE=1 to measure")
	}
	c := newGroupCluster(t)
	c.prog, c.limit, c.timing = compile(t, incSource), 4, Timing{}
	n1 := c.startWith("n1", true, "q", "b")
	c.leader("")
	for _, id := range []string{"n2", "n3"} {
		g := c.startWith(id, false, "q", "b")
		if err := c.retry("", func(n *Node) error {
			return n.Join(ctx(t), Member{ID: id, Raft: g.mux.Addr().String(), API: "api-" + id}, n1.own.ProgramHash())
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"q", "b"} {
		waitFor(t, "three voters in group "+name, func() bool { return c.voters(name) == 3 })
	}
	run := func(n *Node, id string) (time.Duration, error) {
		t0 := time.Now()
		if err := n.Start(ctx(t), id, id, "Inc", []any{int64(1)}); err != nil {
			return 0, err
		}
		for {
			ch := n.FSM().Changed()
			if st, _, ok := n.FSM().Case(id); ok && st.Done() {
				return time.Since(t0), nil
			}
			select {
			case <-ch:
			case <-time.After(time.Second):
			}
		}
	}
	quiet := func(round string) (p50, p99 time.Duration) {
		q := c.leader("q")
		var ds []time.Duration
		for i := range 300 {
			d, err := run(q, fmt.Sprintf("%s-%d", round, i))
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, d)
		}
		slices.Sort(ds)
		return ds[len(ds)/2], ds[len(ds)*99/100]
	}
	a50, a99 := quiet("alone")
	stop := make(chan struct{})
	var started, refused atomic.Int64
	var wg sync.WaitGroup
	b := c.leader("b")
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := run(b, fmt.Sprintf("noisy-%d-%d", w, i)); err != nil {
					// Refused at its limit: back off a millisecond, as a
					// client told to retry does (the front's rate limit
					// and Retry-After pace it on a real node).
					refused.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				started.Add(1)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	n50, n99 := quiet("noisy")
	close(stop)
	wg.Wait()
	t.Logf("quiet tenant start-to-result on 3 nodes: alone p50 %v p99 %v; beside a noisy tenant at its limit (%d cases run, %d starts refused): p50 %v p99 %v; p99 ratio %.2f",
		a50.Round(10*time.Microsecond), a99.Round(10*time.Microsecond), started.Load(), refused.Load(), n50.Round(10*time.Microsecond), n99.Round(10*time.Microsecond), n99.Seconds()/a99.Seconds())
}
