// This file runs shop.knhk, the example that needs no services, on the
// durable engine with the real worker: its exec tasks are the scripts in
// examples/bin. An order completes with its receipt; a declined card
// fails the case and undoes the reservation made beside the charge.

package examples

import (
	"context"
	"io"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

func TestShopRuns(t *testing.T) {
	pkg, info, diags := check.Load("shop.knhk", nil)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	p, ld := compiler.Build(pkg, info) // the gate of knhk run
	if ld.HasErrors() {
		t.Fatal(ld.Err())
	}
	var fulfil = -1
	for i, n := range p.Nets {
		if n.Name == "Fulfil" {
			fulfil = i
		}
	}
	if fulfil < 0 {
		t.Fatal("no workflow Fulfil")
	}
	for _, tc := range []struct {
		input  string
		status engine.Status
	}{
		{"inputs/order.json", engine.Completed},
		{"inputs/declined.json", engine.Failed},
	} {
		b, err := os.ReadFile(tc.input)
		if err != nil {
			t.Fatal(err)
		}
		net := p.Nets[fulfil]
		order, err := eval.FromJSONNamed(p, net.Params[0].Type, net.Params[0].Name, b)
		if err != nil {
			t.Fatal(err)
		}
		w := &recorder{w: worker.New(p, worker.Options{BaseDir: ".", DataDir: t.TempDir(), Log: io.Discard})}
		e, err := engine.New(engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: w, Log: engine.NewMemLog()})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := e.Start(ctx, "c", "Fulfil", engine.Boxed([]eval.Value{order})); err != nil {
			t.Fatal(err)
		}
		// The last step waits 100ms for a Cancel that does not come.
		s := waitDone(t, e, "c")
		if s.Status != tc.status {
			t.Fatalf("%s: status %s (%s), want %s", tc.input, s.Status, s.Error, tc.status)
		}
		names := w.done()
		switch tc.status {
		case engine.Completed:
			b, err := eval.ToJSON(p, s.Result, net.Result)
			if want := `{"amount":33,"order":"o-1001","payment":"P-c","reservation":"R-c","shipping":7.5}`; err != nil || string(b) != want {
				t.Errorf("receipt %s (%v), want %s", b, err, want)
			}
			if n := count(names, "pack"); n != 2 {
				t.Errorf("packed %d items, want 2: %v", n, names)
			}
			if !slices.Contains(names, "quote_slow") {
				t.Errorf("the slow quote did not finish (join any keep): %v", names)
			}
		case engine.Failed:
			if s.Error != "task charge: exit status 2: card declined" {
				t.Errorf("error %q", s.Error)
			}
			if !slices.Contains(names, "undo release") || slices.Contains(names, "pack") {
				t.Errorf("calls %v: want the reservation released and nothing packed", names)
			}
		}
	}
}

// waitDone runs case id until it has ended, firing its timers as they
// come due.
func waitDone(t *testing.T, e *engine.Engine, id string) *engine.State {
	t.Helper()
	for range 100 {
		s, err := e.Snapshot(id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Done() {
			return s
		}
		if due, ok := e.NextDue(id); ok {
			time.Sleep(time.Until(due))
		}
		if err := e.Run(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("case %s did not end", id)
	return nil
}

// recorder records the calls that completed: the task's name, "undo
// NAME" for a compensation.
type recorder struct {
	w     engine.Worker
	mu    sync.Mutex
	names []string
}

func (r *recorder) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	v, err := r.w.Invoke(ctx, inv)
	if err == nil && inv.Task != nil {
		name := inv.Task.Name
		if inv.Compensation {
			name = "undo " + name
		}
		r.mu.Lock()
		r.names = append(r.names, name)
		r.mu.Unlock()
	}
	return v, err
}

func (r *recorder) done() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.names)
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}
