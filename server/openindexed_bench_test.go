// This file measures Open and Close with many parked or ended cases
// read from the index: the restart-to-ready cost of cases kept as data.

package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOpenIndexed opens a directory whose index holds
// KNHK_BENCH_PARKED (default 100,000) parked cases, or as many ended
// ones, and closes it again, and reports the time per case of each,
// wall and CPU. The cases are copies of one real case's index line
// under other ids (Open reads no record of a parked or ended case), so
// a directory of a million is made in seconds.
func BenchmarkOpenIndexed(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("KNHK_BENCH_PARKED")); err == nil && v > 0 {
		n = v
	}
	var cpu [2]time.Duration
	for k, kind := range []string{"parked", "ended"} {
		b.Run(kind, func(b *testing.B) { cpu[k] = openIndexed(b, n, kind == "parked") })
	}
	if cpu[1] > 0 {
		b.Logf("opening a parked case costs %.2f of the CPU of opening an ended one (the baseline: a line of the index and nothing else)", cpu[0].Seconds()/cpu[1].Seconds())
	}
}

// openIndexed measures Open and Close of n synthesized parked or ended
// cases and returns Open's CPU time per run.
func openIndexed(b *testing.B, n int, parked bool) time.Duration {
	dir := b.TempDir()
	s, err := Open(dir, Options{IndexEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	deployB(b, s)
	r := StartRequest{Workflow: "Hold", Input: []byte(`"o"`)}
	if !parked {
		r = StartRequest{Workflow: "Inc", Input: []byte("1")}
	}
	id, _, err := s.Start(context.Background(), r)
	if err != nil {
		b.Fatal(err)
	}
	if parked {
		for s.cases[id].parkedRec() == nil {
			time.Sleep(time.Millisecond)
		}
	} else if _, _, err := s.Wait(context.Background(), id, false); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	index, err := os.ReadFile(s.indexPath())
	if err != nil {
		b.Fatal(err)
	}
	head, line, _ := bytes.Cut(index, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\n"))
	var out bytes.Buffer
	out.Write(head)
	out.WriteByte('\n')
	for i := range n {
		out.Write(bytes.Replace(line, []byte(id), []byte(fmt.Sprintf("c-%016x", i)), 1))
		out.WriteByte('\n')
	}
	if err := os.WriteFile(s.indexPath(), out.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	var open, close, openCPU time.Duration
	for b.Loop() {
		t, c := time.Now(), cpuTime()
		s, err := Open(dir, Options{IndexEvery: -1})
		if err != nil {
			b.Fatal(err)
		}
		open += time.Since(t)
		openCPU += cpuTime() - c
		if st := s.Stats(); st.Cases != n || parked && st.Parked != n {
			b.Fatalf("open stats %+v, want %d cases", st, n)
		}
		t = time.Now()
		if err := s.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		close += time.Since(t)
	}
	b.ReportMetric(float64(open.Nanoseconds())/float64(b.N*n), "open-ns/case")
	b.ReportMetric(float64(openCPU.Nanoseconds())/float64(b.N*n), "open-cpu-ns/case")
	b.ReportMetric(float64(close.Nanoseconds())/float64(b.N*n), "close-ns/case")
	b.Logf("%d cases: open %v (CPU %v), close %v; per 1,000,000: open %v (CPU %v)",
		n, open/time.Duration(b.N), openCPU/time.Duration(b.N), close/time.Duration(b.N),
		open/time.Duration(b.N)*1000000/time.Duration(n), openCPU/time.Duration(b.N)*1000000/time.Duration(n))
	return openCPU / time.Duration(b.N)
}

// cpuTime is the user and system CPU time of the process so far: on a
// shared machine it says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
