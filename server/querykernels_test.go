package server_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/server"
)

// queriedSrc has a query whose value is a kernel call over the case's
// input, and no step that calls a kernel.
const queriedSrc = `package queried

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))

workflow Hold(xs: [float]) -> int {
  query scaled -> [f32] = scale(f32s(xs))
  select {
    on signal Go -> { return 1 }
  }
}
`

// echoDevice stands for the process's accelerator, which the tenants'
// meters share: it takes every kernel call and answers with its first
// argument, so that a query's answer shows that the call reached it.
type echoDevice struct{ calls atomic.Int64 }

func (d *echoDevice) RunKernel(_ *ir.Program, _ int, args []eval.Value) (eval.Value, bool, error) {
	d.calls.Add(1)
	return args[0], true, nil
}

// TestQueryKernelsMetered: a served case's query that calls a kernel
// runs it on the service's kernel runner, as its steps do; under knhk
// serve --tenants that is the tenant's meter, so the call shows up in
// the asking tenant's accelerator use and not in another's.
func TestQueryKernelsMetered(t *testing.T) {
	dev := &echoDevice{}
	type tenant struct {
		svc *server.Service
		m   *meter.Accelerator
		id  string
	}
	open := func() *tenant {
		dir := t.TempDir()
		m, err := meter.NewAccelerator(dev, dir)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := server.Open(dir, server.Options{Kernels: m})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close(context.Background()) })
		if _, err := svc.Deploy("queried.knhk", []byte(queriedSrc), nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		id, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Hold", Input: []byte(`[1.5, -2, 3]`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Wait(ctx, id, true); err != nil {
			t.Fatal(err)
		}
		return &tenant{svc, m, id}
	}
	acme, beta := open(), open()
	month := meter.Month(time.Now().UnixNano())
	use := func(x *tenant) int64 { return x.m.MonthUse(month).Calls }
	if a, b := use(acme), use(beta); a != 0 || b != 0 {
		t.Fatalf("before any query: acme %d, beta %d accelerator calls, want none (no step calls a kernel)", a, b)
	}

	query := func(x *tenant) []float64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := x.svc.Query(ctx, x.id, "scaled")
		if err != nil {
			t.Fatal(err)
		}
		var v []float64
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("query answer %s: %v", b, err)
		}
		return v
	}
	// The device's answer (the argument) and not the interpreter's
	// (doubled): the query's call went to the runner.
	if got := query(acme); len(got) != 3 || got[0] != 1.5 || got[1] != -2 || got[2] != 3 {
		t.Fatalf("acme's query = %v, want the device's answer [1.5 -2 3]", got)
	}
	if a, b := use(acme), use(beta); a != 1 || b != 0 {
		t.Errorf("after acme's query: acme %d, beta %d accelerator calls, want 1 and 0", a, b)
	}
	if n := acme.m.Total().Calls; n != 1 {
		t.Errorf("acme's knhk_accelerator_calls_total = %d, want 1", n)
	}
	query(beta)
	query(beta)
	if a, b := use(acme), use(beta); a != 1 || b != 2 {
		t.Errorf("after beta's two queries: acme %d, beta %d accelerator calls, want 1 and 2", a, b)
	}
	// Every query of the case at once (name empty) calls it too.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := acme.svc.Query(ctx, acme.id, ""); err != nil {
		t.Fatal(err)
	}
	if a := use(acme); a != 2 {
		t.Errorf("after acme's query of every query: %d accelerator calls, want 2", a)
	}
	if n := dev.calls.Load(); n != 4 {
		t.Errorf("the device took %d calls, want 4", n)
	}

	// A meter whose licence refuses the accelerator keeps the query on
	// the CPU: the interpreter's answer, no call on the device.
	acme.m.Allow = func(meter.AccelMonth) error { return context.Canceled }
	if got := query(acme); len(got) != 3 || got[0] != 3 || got[1] != -4 || got[2] != 6 {
		t.Errorf("acme's query with the accelerator refused = %v, want the CPU's [3 -4 6]", got)
	}
	if a, n := use(acme), dev.calls.Load(); a != 2 || n != 4 {
		t.Errorf("with the accelerator refused: acme %d metered calls, device %d, want 2 and 4", a, n)
	}
}
