// This file implements knhk run --mock: tasks bound to canned results
// from a JSON file instead of their bindings, as Step Functions Local's
// mocked service integrations and Temporal's mocked activities let a
// workflow be run before (or without) the services it calls.
//
// A mock file is one JSON object with a member per mocked task:
//
//	{"score": 700, "approve": [false, false, true], "notify": null}
//
// A value is that task's result for every call; an array is a sequence,
// one element per call in the order the calls start, the last repeating
// (so a task whose result is itself a list is always written as a
// sequence: [[1, 2]]). An element {"$fail": "why"} fails that call's
// attempt with the message, which the task's retry clauses and the case's
// compensations then handle as any failure. A task without a result
// takes null. Every value is checked against the task's result type as
// an exec task's output is, and a task the program does not declare, a
// mistyped value or an empty sequence is refused, naming the member,
// before the case starts.
//
// The mock goes with the case: the canned results and how far each
// sequence has been consumed are kept in the case's metadata
// (DIR/cases/ID.json, see casedata.go), so knhk signal and knhk resume
// answer the case's calls from the same mock, going on with each
// sequence where the last command left it.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// caseMock is a case's mock as its metadata keeps it: the results per
// task, each a sequence of JSON values (or {"$fail": why}), and how many
// calls of each task have been answered.
type caseMock struct {
	Results map[string][]json.RawMessage `json:"results"`
	Used    map[string]int               `json:"used,omitempty"`
	// Skew is how far the case's clock runs ahead of the real one, in
	// nanoseconds: the time skipped so far (see mockclock.go).
	Skew int64 `json:"skew,omitempty"`

	mu sync.Mutex // guards Used and Skew while a command runs the case
	// save records the mock in the case's metadata; nil before the case
	// is recorded.
	save func(*caseMock) error
}

// failKey marks an element of a sequence that fails its call. No field of
// a record can be named with a leading '$', so it is never a result.
const failKey = "$fail"

// readMock reads and checks the mock file at path against prog.
func readMock(prog *ir.Program, path string) (*caseMock, error) {
	b, err := readInputFile(path)
	if err != nil {
		return nil, err
	}
	m, err := parseMock(prog, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// parseMock decodes a mock file's text and checks each member against
// the task it names.
func parseMock(prog *ir.Program, b []byte) (*caseMock, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("a mock file is a JSON object with one member per task: %v", err)
	}
	if raw == nil {
		return nil, errors.New("a mock file is a JSON object with one member per task, not null")
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	m := &caseMock{Results: map[string][]json.RawMessage{}}
	for _, name := range names {
		t := taskNamed(prog, name)
		if t == nil {
			return nil, fmt.Errorf("%q: the program declares no task %s (it declares: %s)", name, name, listOrNone(taskNames(prog)))
		}
		seq := []json.RawMessage{raw[name]}
		if v := bytes.TrimSpace(raw[name]); len(v) > 0 && v[0] == '[' {
			if err := json.Unmarshal(v, &seq); err != nil {
				return nil, fmt.Errorf("%q: %v", name, err)
			}
			if len(seq) == 0 {
				return nil, fmt.Errorf("%q: an empty sequence answers no call; give at least one result", name)
			}
		}
		for i, x := range seq {
			at := name
			if len(seq) > 1 || bytes.TrimSpace(raw[name])[0] == '[' {
				at = fmt.Sprintf("%s[%d]", name, i)
			}
			canon, err := checkMockResult(prog, t, at, x)
			if err != nil {
				return nil, err
			}
			seq[i] = canon
		}
		m.Results[name] = seq
	}
	return m, nil
}

// checkMockResult checks one canned result of task t, named at in
// messages, and returns it in canonical form.
func checkMockResult(prog *ir.Program, t *ir.Task, at string, x json.RawMessage) (json.RawMessage, error) {
	if why, ok := mockFailure(x); ok {
		if why == "" {
			return nil, fmt.Errorf("%q: %s needs a message: {%q: \"why\"}", at, failKey, failKey)
		}
		return json.Marshal(map[string]string{failKey: why})
	}
	if prog.KindOf(t.Result) == ir.KindVoid {
		if string(bytes.TrimSpace(x)) != "null" {
			return nil, fmt.Errorf("%q: task %s has no result; mock it with null", at, t.Name)
		}
		return json.RawMessage("null"), nil
	}
	v, err := eval.FromJSONNamed(prog, t.Result, at, x)
	if err != nil {
		return nil, fmt.Errorf("task %s (result %s): %w", t.Name, prog.TypeString(t.Result), err)
	}
	return eval.ToJSON(prog, v, t.Result)
}

// mockFailure reports whether x is {"$fail": why}.
func mockFailure(x json.RawMessage) (string, bool) {
	if v := bytes.TrimSpace(x); len(v) == 0 || v[0] != '{' {
		return "", false
	}
	var f map[string]json.RawMessage
	if json.Unmarshal(x, &f) != nil || len(f) != 1 {
		return "", false
	}
	w, ok := f[failKey]
	if !ok {
		return "", false
	}
	var why string
	if json.Unmarshal(w, &why) != nil {
		return "", true
	}
	return why, true
}

func taskNamed(prog *ir.Program, name string) *ir.Task {
	for _, t := range prog.Tasks {
		if t != nil && t.Name == name {
			return t
		}
	}
	return nil
}

func taskNames(prog *ir.Program) []string {
	var names []string
	for _, t := range prog.Tasks {
		if t != nil {
			names = append(names, t.Name)
		}
	}
	sort.Strings(names)
	return names
}

// mockWorker answers the calls of mocked tasks from a caseMock and hands
// every other call (and kernels) to the worker it wraps.
type mockWorker struct {
	engine.Worker
	prog *ir.Program
	m    *caseMock
}

func newMockWorker(w engine.Worker, prog *ir.Program, m *caseMock) engine.Worker {
	if m == nil {
		return w
	}
	return &mockWorker{Worker: w, prog: prog, m: m}
}

func (w *mockWorker) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	if inv.Task == nil {
		return w.Worker.Invoke(ctx, inv)
	}
	x, ok, err := w.next(inv.Task.Name)
	if err != nil {
		return eval.Value{}, err
	}
	if !ok {
		return w.Worker.Invoke(ctx, inv)
	}
	if why, ok := mockFailure(x); ok {
		return eval.Value{}, fmt.Errorf("task %s: %s (mocked)", inv.Task.Name, why)
	}
	if w.prog.KindOf(inv.Task.Result) == ir.KindVoid {
		return eval.Value{}, nil
	}
	v, err := eval.FromJSONNamed(w.prog, inv.Task.Result, "result", x)
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s returned a bad mocked result: %w", inv.Task.Name, err)
	}
	return v, nil
}

// next takes the result of task's next call, consuming one element of a
// sequence; ok is false when task is not mocked. The progress is saved
// before the result is handed out, so a later command goes on with each
// sequence where this one left it.
func (w *mockWorker) next(task string) (json.RawMessage, bool, error) {
	m := w.m
	m.mu.Lock()
	defer m.mu.Unlock()
	seq, ok := m.Results[task]
	if !ok || len(seq) == 0 {
		return nil, false, nil
	}
	i := min(m.Used[task], len(seq)-1)
	if i < len(seq)-1 {
		if m.Used == nil {
			m.Used = map[string]int{}
		}
		m.Used[task] = i + 1
		if err := m.saveLocked(); err != nil {
			return nil, false, fmt.Errorf("task %s: recording the mock: %w", task, err)
		}
	}
	return seq[i], true, nil
}

// saveLocked records m in the case's metadata; m.mu is held.
func (m *caseMock) saveLocked() error {
	if m.save == nil {
		return nil
	}
	return m.save(m)
}

// bindMock makes meta's mock, if any, save itself to the metadata of
// meta's case in data, and returns it (nil for none).
func bindMock(data string, meta *caseMeta) *caseMock {
	if meta == nil || meta.Mock == nil {
		return nil
	}
	m := meta.Mock
	m.save = func(m *caseMock) error {
		cp := *meta
		cp.Mock = m
		return writeMeta(data, &cp)
	}
	return m
}
