// This file measures Open and Close with many parked cases: the
// restart-to-ready cost of waiting cases kept as data.

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

// BenchmarkOpenParked opens a directory whose index holds
// KNHK_BENCH_PARKED (default 100,000) parked cases and closes it again,
// and reports the time per case of each. The cases are copies of one
// real parked case's index line under other ids (Open reads no record
// of a parked case), so the directory is made in seconds.
func BenchmarkOpenParked(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("KNHK_BENCH_PARKED")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	s, err := Open(dir, Options{IndexEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	deployB(b, s)
	id, _, err := s.Start(context.Background(), StartRequest{Workflow: "Hold", Input: []byte(`"o"`)})
	if err != nil {
		b.Fatal(err)
	}
	for s.cases[id].parkedRec() == nil {
		time.Sleep(time.Millisecond)
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
		if st := s.Stats(); st.Parked != n {
			b.Fatalf("open stats %+v, want %d parked", st, n)
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
	b.Logf("%d parked cases: open %v (CPU %v), close %v; at 1,000,000: open about %v (CPU %v)",
		n, open/time.Duration(b.N), openCPU/time.Duration(b.N), close/time.Duration(b.N),
		open/time.Duration(b.N)*time.Duration(1000000/n), openCPU/time.Duration(b.N)*time.Duration(1000000/n))
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
