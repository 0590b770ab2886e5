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
