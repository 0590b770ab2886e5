// Benchmarks of compiled against interpreted evaluation, on the program
// of codegen/golang/testdata/gen/bench.knhk. Each benchmark runs both in
// the same process and reports the ratio (speedup, interpreted time over
// compiled time).

package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/knhk/knhk/codegen/golang/difftest"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/vec"
)

func load(b *testing.B) (*ir.Program, *host.Compiled) {
	b.Helper()
	p, err := Program()
	if err != nil {
		b.Fatal(err)
	}
	c, err := Evaluator(p)
	if err != nil {
		b.Fatal(err)
	}
	return p, c
}

func fnIndex(b *testing.B, p *ir.Program, name string) int {
	for i, f := range p.Funcs {
		if f.Name == name {
			return i
		}
	}
	b.Fatalf("no function %s", name)
	return -1
}

func order(p *ir.Program, i int) eval.Value {
	region := "EU"
	if i%3 == 0 {
		region = "US"
	}
	t := p.Type(p.Funcs[0].Params[0].Type)
	by := map[string]eval.Value{"id": eval.Str(fmt.Sprint("o", i)), "amount": eval.Int(int64(500 + i%1500)), "region": eval.Str(region), "qty": eval.Int(int64(1 + i%7)), "price": eval.Float(5 + float64(i%20))}
	fs := make([]eval.Value, len(t.Fields))
	for k, f := range t.Fields {
		fs[k] = by[f.Name]
	}
	return eval.Record(t, fs)
}

// ratio runs interp and compiled b.N times each and reports both times
// per operation and the speedup.
func ratio(b *testing.B, interp, compiled func() (eval.Value, error)) {
	b.Helper()
	want, err := interp()
	if err != nil {
		b.Fatal(err)
	}
	got, err := compiled()
	if err != nil || !eval.Equal(want, got) {
		b.Fatalf("compiled %v, %v; interpreted %v", got, err, want)
	}
	// Interleaved in chunks, so that a change in the machine's load
	// (other processes) weighs on both alike.
	b.ResetTimer()
	var ti, tc time.Duration
	for done := 0; done < b.N; {
		k := min(64, b.N-done)
		t0 := time.Now()
		for range k {
			if _, err := interp(); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range k {
			if _, err := compiled(); err != nil {
				b.Fatal(err)
			}
		}
		ti += t1.Sub(t0)
		tc += time.Since(t1)
		done += k
	}
	b.ReportMetric(float64(ti.Nanoseconds())/float64(b.N), "interp-ns/op")
	b.ReportMetric(float64(tc.Nanoseconds())/float64(b.N), "compiled-ns/op")
	b.ReportMetric(float64(ti)/float64(tc), "speedup")
}

// BenchmarkGuard is o.amount > 1000 && o.region == "EU" on a record.
func BenchmarkGuard(b *testing.B) {
	p, c := load(b)
	i := fnIndex(b, p, "big")
	fn := p.Funcs[i]
	o := []eval.Value{order(p, 700)}
	m := eval.New(p)
	n := new(eval.Native)
	ratio(b, func() (eval.Value, error) { return m.CallFunc(fn, nil, o...) },
		func() (eval.Value, error) { *n = eval.Native{Prog: p}; return c.Funcs[i](n, o) })
}

// BenchmarkHeavy filters, maps and sums 10,000 orders.
func BenchmarkHeavy(b *testing.B) {
	p, c := load(b)
	i := fnIndex(b, p, "heavy")
	fn := p.Funcs[i]
	os := make([]eval.Value, 10000)
	for k := range os {
		os[k] = order(p, k)
	}
	arg := []eval.Value{eval.List(os)}
	m := eval.New(p)
	n := new(eval.Native)
	ratio(b, func() (eval.Value, error) { return m.CallFunc(fn, nil, arg...) },
		func() (eval.Value, error) { *n = eval.Native{Prog: p}; return c.Funcs[i](n, arg) })
}

// BenchmarkGuardTyped is BenchmarkGuard on the guard's typed function
// (a struct in, a bool out), which compiled guards and lambdas over
// lists of records call; BenchmarkGuard adds the entry's conversion of
// the record Value to the struct.
func BenchmarkGuardTyped(b *testing.B) {
	p, _ := load(b)
	i := fnIndex(b, p, "big")
	fn := p.Funcs[i]
	ov := order(p, 700)
	o := unbox_Order(ov)
	m := eval.New(p)
	n := &eval.Native{Prog: p}
	ratio(b, func() (eval.Value, error) { return m.CallFunc(fn, nil, ov) },
		func() (eval.Value, error) {
			n.MaxSteps = 0 // a fresh budget per call, as the entry's Native has
			ok, err := f0_big(n, o)
			return eval.Bool(ok), err
		})
}

// BenchmarkHeavyFresh is BenchmarkHeavy with a new list Value at every
// call, so that the compiled side converts the 10,000 records to a
// []Order each time (BenchmarkHeavy converts once: the list's memo).
func BenchmarkHeavyFresh(b *testing.B) {
	p, c := load(b)
	i := fnIndex(b, p, "heavy")
	fn := p.Funcs[i]
	os := make([]eval.Value, 10000)
	for k := range os {
		os[k] = order(p, k)
	}
	m := eval.New(p)
	n := new(eval.Native)
	ratio(b, func() (eval.Value, error) { return m.CallFunc(fn, nil, eval.List(os)) },
		func() (eval.Value, error) {
			*n = eval.Native{Prog: p}
			return c.Funcs[i](n, []eval.Value{eval.List(os)})
		})
}

// BenchmarkSeq runs the ten-step sequence as cases on the engine and
// reports engine transitions (events) per second with each evaluator.
func BenchmarkSeq(b *testing.B) {
	p, c := load(b)
	type side struct {
		eng    *engine.Engine
		log    *engine.MemLog
		t      time.Duration
		events int
	}
	newSide := func(ev engine.Evaluator) *side {
		log := engine.NewMemLog()
		clk := &difftest.Clock{T: difftest.Epoch}
		eng, err := engine.New(engine.Config{Program: p, Eval: ev, Worker: difftest.NewWorker(p, clk), Log: log, Clock: clk})
		if err != nil {
			b.Fatal(err)
		}
		return &side{eng: eng, log: log}
	}
	interp, comp := newSide(&host.Evaluator{}), newSide(c)
	ctx := context.Background()
	one := func(s *side, k int) {
		id := fmt.Sprint("c", k)
		t0 := time.Now()
		if err := s.eng.Start(ctx, id, "Seq", []any{int64(k)}); err != nil {
			b.Fatal(err)
		}
		s.t += time.Since(t0)
		s.events += len(s.log.Events(id))
		s.eng.Forget(id)
	}
	b.ResetTimer()
	// One case each way in turn, so that load changes weigh on both.
	for k := range b.N {
		one(interp, k)
		one(comp, k)
	}
	ti, ei, tc, ec := interp.t, interp.events, comp.t, comp.events
	if ei != ec {
		b.Fatalf("%d events interpreted, %d compiled", ei, ec)
	}
	b.ReportMetric(float64(ei)/ti.Seconds(), "interp-transitions/s")
	b.ReportMetric(float64(ec)/tc.Seconds(), "compiled-transitions/s")
	b.ReportMetric(float64(ti)/float64(tc), "speedup")
}

// BenchmarkHeavyEngine runs the Heavy workflow over 10,000 orders as a
// case on the engine with each evaluator, a new list for each case (so
// that nothing compiled code derived from one case's list, see
// eval.Value.Memo, carries over to the next), and reports cases per
// second and the speedup.
func BenchmarkHeavyEngine(b *testing.B) {
	p, c := load(b)
	fresh := func() eval.Value {
		os := make([]eval.Value, 10000)
		for k := range os {
			os[k] = order(p, k)
		}
		return eval.List(os)
	}
	type side struct {
		eng *engine.Engine
		t   time.Duration
	}
	newSide := func(ev engine.Evaluator) *side {
		clk := &difftest.Clock{T: difftest.Epoch}
		eng, err := engine.New(engine.Config{Program: p, Eval: ev, Worker: difftest.NewWorker(p, clk), Log: engine.NewMemLog(), Clock: clk})
		if err != nil {
			b.Fatal(err)
		}
		return &side{eng: eng}
	}
	interp, comp := newSide(&host.Evaluator{}), newSide(c)
	ctx := context.Background()
	one := func(s *side, k int) {
		args := []any{fresh()}
		id := fmt.Sprint("h", k)
		// Each case starts on a collected heap, so that neither side
		// pays for the garbage of the other's last case (the
		// interpreter's is most of it) or of building the argument.
		runtime.GC()
		t0 := time.Now()
		if err := s.eng.Start(ctx, id, "Heavy", args); err != nil {
			b.Fatal(err)
		}
		s.t += time.Since(t0)
		st, err := s.eng.Snapshot(id)
		if err != nil || st.Status != engine.Completed {
			b.Fatalf("case %s: %v %v", id, st, err)
		}
		s.eng.Forget(id)
	}
	b.ResetTimer()
	for k := range b.N {
		one(interp, k)
		one(comp, k)
	}
	b.ReportMetric(float64(b.N)/interp.t.Seconds(), "interp-cases/s")
	b.ReportMetric(float64(b.N)/comp.t.Seconds(), "compiled-cases/s")
	b.ReportMetric(float64(interp.t)/float64(comp.t), "speedup")
}

// BenchmarkGuardHandWritten is the floor for BenchmarkGuard on this
// machine: the same guard written by hand in Go on the same record
// value, with no step, depth or error bookkeeping.
func BenchmarkGuardHandWritten(b *testing.B) {
	p, _ := load(b)
	o := order(p, 700)
	t := p.Type(p.Funcs[0].Params[0].Type)
	amount, region := -1, -1
	for k, f := range t.Fields {
		switch f.Name {
		case "amount":
			amount = k
		case "region":
			region = k
		}
	}
	hits := 0
	for range b.N {
		if o.Index(amount).AsInt() > 1000 && o.Index(region).AsString() == "EU" {
			hits++
		}
	}
	if hits != b.N {
		b.Fatal("order 700 is big: amount 1200, region EU")
	}
}

// BenchmarkGuardTypedFloor is the floor for BenchmarkGuardTyped: the
// guard written by hand on the struct, without the step and depth
// bookkeeping compiled code keeps to fail where the interpreter fails.
// It reports the compiled guard's time over the floor's, both measured
// here.
func BenchmarkGuardTypedFloor(b *testing.B) {
	p, _ := load(b)
	o := unbox_Order(order(p, 700))
	n := &eval.Native{Prog: p}
	floor := func(o *Order) bool { return o.Amount > 1000 && o.Region == "EU" }
	var tf, tc time.Duration
	hits := 0
	b.ResetTimer()
	for done := 0; done < b.N; {
		k := min(1024, b.N-done)
		t0 := time.Now()
		for range k {
			if floor(&o) {
				hits++
			}
		}
		t1 := time.Now()
		for range k {
			n.MaxSteps = 0
			if ok, _ := f0_big(n, o); ok {
				hits++
			}
		}
		tf += t1.Sub(t0)
		tc += time.Since(t1)
		done += k
	}
	if hits != 2*b.N {
		b.Fatal("order 700 is big")
	}
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(tc.Nanoseconds())/float64(b.N), "compiled-ns/op")
	b.ReportMetric(float64(tc)/float64(tf), "x-floor")
}

// BenchmarkColumnFilter is filter(os, o => o.amount < 1000) over 10,000
// orders: the interpreter, the typed scalar fold (FilterOf with a typed
// lambda) and the vector form compiled code takes (FilterCol: the amount
// column compared 8 lanes at a time on AVX-512), each timed in the same
// run; speedup is interpreted over vector time, x-scalar scalar over
// vector time. KNHK_VEC=scalar makes the vector form's loops scalar.
func BenchmarkColumnFilter(b *testing.B) {
	lam := func(o Order) (bool, error) { return o.Amount < 1000, nil }
	columnBench(b, "cheap", func(n *eval.Native, os []Order) int64 {
		s, _ := eval.FilterOf(os, lam)
		return int64(len(s))
	}, func(n *eval.Native, os []Order) int64 {
		v, _ := eval.FilterCol(n, os, 3, gather_Order_Amount, vec.Lt, 1000, lam)
		return int64(len(v))
	})
}

// BenchmarkColumnAll is BenchmarkColumnFilter for all(os, o => o.amount
// >= 500), which holds for every order: a scan with nothing to copy.
func BenchmarkColumnAll(b *testing.B) {
	lam := func(o Order) (bool, error) { return o.Amount >= 500, nil }
	columnBench(b, "everyone", func(n *eval.Native, os []Order) int64 {
		s, _ := eval.AllOf(os, lam)
		return b2i(s)
	}, func(n *eval.Native, os []Order) int64 {
		v, _ := eval.AllCol(n, os, 3, gather_Order_Amount, vec.Ge, 500, lam)
		return b2i(v)
	})
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// columnBench times, in turn, the interpreter on function name over
// 10,000 orders, the scalar fold and the vector fold (each returning its
// result as an int), after checking that all three agree.
func columnBench(b *testing.B, name string, scalar, vector func(*eval.Native, []Order) int64) {
	p, _ := load(b)
	fn := p.Funcs[fnIndex(b, p, name)]
	vs := make([]eval.Value, 10000)
	for k := range vs {
		vs[k] = order(p, k)
	}
	arg := eval.List(vs)
	os := unbox_list_Order(arg)
	m := eval.New(p)
	n := &eval.Native{Prog: p}
	want, err := m.CallFunc(fn, nil, arg)
	if err != nil {
		b.Fatal(err)
	}
	w := want.AsInt()
	if want.Kind() == ir.KindBool {
		w = b2i(want.AsBool())
	}
	if s, v := scalar(n, os), vector(n, os); s != w || v != w {
		b.Fatalf("scalar %d, vector %d, interpreted %v", s, v, want)
	}
	var ti, ts, tv time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := m.CallFunc(fn, nil, arg); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		scalar(n, os)
		t2 := time.Now()
		n.MaxSteps = 0
		vector(n, os)
		t3 := time.Now()
		ti, ts, tv = ti+t1.Sub(t0), ts+t2.Sub(t1), tv+t3.Sub(t2)
	}
	b.ReportMetric(float64(ti.Nanoseconds())/float64(b.N), "interp-ns/op")
	b.ReportMetric(float64(ts.Nanoseconds())/float64(b.N), "scalar-ns/op")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "vector-ns/op")
	b.ReportMetric(float64(ti)/float64(tv), "speedup")
	b.ReportMetric(float64(ts)/float64(tv), "x-scalar")
	b.ReportMetric(0, "level-"+vec.Level())
}
