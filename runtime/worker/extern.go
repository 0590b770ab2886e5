// This file implements extern tasks: Go functions registered by the
// program that embeds the engine.

package worker

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// Call is what an extern function receives.
type Call struct {
	CaseID string
	// IdempotencyKey is the same for every delivery of one attempt; the
	// function must apply its effect once per key.
	IdempotencyKey string
	Attempt        int
	Program        *ir.Program
	Task           *ir.Task
	Args           []eval.Value // one per task parameter, of its type
}

// Func implements an extern task. Its result must have the task's result
// type (anything for a task without one).
type Func func(ctx context.Context, c Call) (eval.Value, error)

// Registry maps the symbols of extern bindings to functions. It is safe
// for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Func
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Func{}} }

// Register binds symbol to f, replacing an earlier binding.
func (r *Registry) Register(symbol string, f Func) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Func{}
	}
	r.m[symbol] = f
}

// Lookup returns the function bound to symbol.
func (r *Registry) Lookup(symbol string) (Func, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.m[symbol]
	return f, ok
}

// Symbols returns the registered symbols, sorted.
func (r *Registry) Symbols() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for s := range r.m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (w *Worker) extern(ctx context.Context, c *call) (eval.Value, error) {
	sym := c.task.Binding.Target
	f, ok := w.o.Registry.Lookup(sym)
	if !ok {
		return eval.Value{}, fmt.Errorf("task %s: no extern function is registered as %q", c.task.Name, sym)
	}
	v, err := f(ctx, Call{CaseID: c.inv.CaseID, IdempotencyKey: c.inv.IdempotencyKey, Attempt: c.inv.Attempt,
		Program: w.prog, Task: c.task, Args: c.args})
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	if err := w.checkResult(c, v); err != nil {
		return eval.Value{}, err
	}
	return v, nil
}

// checkResult verifies that v, computed in Go, has the task's result
// type, so that a wrong value fails the task instead of a later step.
func (w *Worker) checkResult(c *call, v eval.Value) error {
	if w.prog.KindOf(c.task.Result) == ir.KindVoid {
		return nil
	}
	if _, err := eval.ToJSON(w.prog, v, c.task.Result); err != nil {
		return fmt.Errorf("task %s returned a bad result: %w", c.task.Name, err)
	}
	return nil
}
