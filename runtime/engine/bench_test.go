// This file measures transitions per second and the memory of idle
// cases.

package engine

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// discardLog accepts every event and keeps none, to measure the core.
type discardLog struct{}

func (discardLog) Append(context.Context, string, *Event) error { return nil }
func (discardLog) Replay(context.Context, string, func(*Event) error) error {
	return nil
}

func seqProgram(steps int) *ir.Program {
	p := ir.NewProgram("bench")
	n := p.NewNet("Seq", ir.Void)
	prev := n.N.Start
	for i := range steps {
		next := n.Place("p" + strconv.Itoa(i))
		n.Step("s"+strconv.Itoa(i), ir.TNop, prev, next)
		prev = next
	}
	n.Step("end", ir.TReturn, prev, n.N.End)
	return p
}

func fanProgram(width int) *ir.Program {
	p := ir.NewProgram("bench")
	n := p.NewNet("Fan", ir.Void)
	split := n.Trans("split", ir.TNop)
	join := n.Trans("join", ir.TNop)
	n.In(n.N.Start, split)
	for i := range width {
		a, b := n.Place("a"+strconv.Itoa(i)), n.Place("b"+strconv.Itoa(i))
		n.Out(split, a)
		n.Step("branch"+strconv.Itoa(i), ir.TNop, a, b)
		n.In(b, join)
	}
	j := n.Place("j")
	n.Out(join, j)
	n.Step("end", ir.TReturn, j, n.N.End)
	return p
}

func benchCases(b *testing.B, p *ir.Program, net string, transitions int, log EventLog) {
	e, err := New(Config{Program: p, Worker: &fakeWorker{}, Log: log, Clock: &fakeClock{}, Rounds: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := e.Start(ctx, ids[i], net, nil); err != nil {
			b.Fatal(err)
		}
		e.Forget(ids[i])
	}
	b.ReportMetric(float64(b.N*transitions)/time.Since(start).Seconds(), "transitions/s")
}

// BenchmarkSequence10 runs cases of ten routing steps and a return.
func BenchmarkSequence10(b *testing.B) {
	b.Run("discard", func(b *testing.B) { benchCases(b, seqProgram(10), "Seq", 11, discardLog{}) })
	b.Run("memlog", func(b *testing.B) { benchCases(b, seqProgram(10), "Seq", 11, NewMemLog()) })
}

// BenchmarkFanOut100 runs cases of a 100-way AND split and join.
func BenchmarkFanOut100(b *testing.B) {
	b.Run("discard", func(b *testing.B) { benchCases(b, fanProgram(100), "Fan", 103, discardLog{}) })
	b.Run("memlog", func(b *testing.B) { benchCases(b, fanProgram(100), "Fan", 103, NewMemLog()) })
}

// waitProgram is a case that waits for a signal, with a variable that
// receives its payload.
func waitProgram() *ir.Program {
	p := ir.NewProgram("bench")
	n := p.NewNet("Wait", ir.Void, ir.Param{Name: "id", Type: ir.String})
	v := n.Var("payload", ir.String)
	n.N.Signals = append(n.N.Signals, &ir.Signal{Name: "Go"})
	w, d := n.Place("wait"), n.Place("done")
	n.Step("begin", ir.TNop, n.N.Start, w)
	s := n.Step("go", ir.TSignal, w, d)
	n.T(s).Label, n.T(s).Bind = "Go", []int32{v}
	n.Step("end", ir.TReturn, d, n.N.End)
	return p
}

// idleBytes returns the heap bytes per case of count cases waiting on a
// signal, the event log excluded (it lives on disk).
func idleBytes(t testing.TB, count int) float64 {
	e, err := New(Config{Program: waitProgram(), Worker: &fakeWorker{}, Log: discardLog{}, Clock: &fakeClock{}, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, count)
	for i := range ids {
		ids[i] = "case-" + strconv.Itoa(i)
	}
	args := []any{"x"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, id := range ids {
		if err := e.Start(context.Background(), id, "Wait", args); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	s, _ := e.Snapshot(ids[count-1])
	if s.Status != Running || s.Root().Marking[2] != 1 {
		t.Fatalf("case is not waiting: %+v", s)
	}
	runtime.KeepAlive(e)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(count)
}

// TestIdleCaseMemory checks that a case waiting on a signal costs at
// most 2 KiB of heap, over 100,000 cases.
func TestIdleCaseMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100,000 cases")
	}
	per := idleBytes(t, 100_000)
	t.Logf("%.0f bytes per idle case", per)
	if per > 2048 {
		t.Errorf("%.0f bytes per idle case, want at most 2048", per)
	}
}

func BenchmarkIdleCaseMemory(b *testing.B) {
	for range b.N {
		b.ReportMetric(idleBytes(b, 100_000), "bytes/case")
	}
}
