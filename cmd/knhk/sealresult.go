// This file implements run --seal-results: the string results of the
// tasks named are sealed (X-Wing, for the --unseal-key key) as the task
// returns them, before the engine records them, so the event log,
// receipts, history and exports hold only the sealed text; a later task
// that takes such a value gets it opened at the call (unseal.go).

package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/seal"
)

// sealTasks parses --seal-results (task names, comma-separated) against
// prog: every name must be a task of prog returning a string.
func sealTasks(list string, prog *ir.Program, key *seal.PrivateKey) (map[string]bool, error) {
	if list == "" {
		return nil, nil
	}
	if key == nil {
		return nil, fmt.Errorf("--seal-results needs --unseal-key KEY: results are sealed for KEY, which opens them for the tasks that take them")
	}
	byName := map[string]*ir.Task{}
	var names []string
	for _, t := range prog.Tasks {
		byName[t.Name] = t
		names = append(names, t.Name)
	}
	sort.Strings(names)
	tasks := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		t := byName[n]
		switch {
		case t == nil:
			return nil, fmt.Errorf("--seal-results: no task %q in the program (its tasks: %s)", n, strings.Join(names, ", "))
		case prog.KindOf(t.Result) != ir.KindString:
			return nil, fmt.Errorf("--seal-results: task %s does not return a string; only string results can be sealed", n)
		}
		tasks[n] = true
	}
	return tasks, nil
}

// sealResultWorker seals the results of the tasks named.
type sealResultWorker struct {
	engine.Worker
	to    *seal.PublicKey
	tasks map[string]bool
}

// sealResultRecorder is a sealResultWorker over a worker that is an
// engine.Recorder, which it stays.
type sealResultRecorder struct {
	*sealResultWorker
	engine.Recorder
}

// withSealResults wraps w when tasks are named.
func withSealResults(w engine.Worker, key *seal.PrivateKey, tasks map[string]bool) engine.Worker {
	if len(tasks) == 0 {
		return w
	}
	s := &sealResultWorker{Worker: w, to: key.Public(), tasks: tasks}
	if r, ok := w.(engine.Recorder); ok {
		return &sealResultRecorder{s, r}
	}
	return s
}

func (w *sealResultWorker) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	v, err := w.Worker.Invoke(ctx, inv)
	if err != nil || inv.Task == nil || inv.Compensation || !w.tasks[inv.Task.Name] {
		return v, err
	}
	if v.Kind() != ir.KindString {
		return v, nil
	}
	s := v.AsString()
	if seal.IsSealed(s) {
		return v, nil
	}
	sealed, err := w.to.Seal([]byte(s))
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: sealing its result: %w", inv.Task.Name, err)
	}
	return eval.Str(sealed), nil
}
