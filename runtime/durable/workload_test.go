// This file implements the workload shared by the crash test and the
// benchmarks: a KNHK program compiled from source, extern tasks that log
// their effects, and a driver that runs cases to completion.

package durable

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// crashSource is the crash workload: a ten-step sequence, a parallel
// section, a call that fails its first attempt and is retried after a
// backoff, and a multiple-instance loop two at a time.
const crashSource = `package crash

task step(c: string, n: int) -> int extern
task flaky(c: string) -> int extern
task item(c: string, i: int) extern

workflow W(c: string) -> int {
  let a1 = step(c, 1)
  let a2 = step(c, 2)
  let a3 = step(c, 3)
  let a4 = step(c, 4)
  let a5 = step(c, 5)
  let a6 = step(c, 6)
  let a7 = step(c, 7)
  let a8 = step(c, 8)
  let a9 = step(c, 9)
  let a10 = step(c, 10)
  parallel {
    let p = step(c, 11)
    let q = step(c, 12)
  } join all
  let f = flaky(c) retry 2 backoff 2ms
  for i in [1, 2, 3, 4, 5] parallel limit 2 {
    item(c, i)
  } join all
  return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + p + q + f + len(c)
}
`

// crashResult is what case c of crashSource returns: step n returns n and
// flaky returns 100.
func crashResult(c string) int64 { return 78 + 100 + int64(len(c)) }

// crashEffects is every effect a case of crashSource must have had, as
// the labels the extern functions log: the failed first attempt of flaky
// included.
func crashEffects() []string {
	var out []string
	for n := 1; n <= 12; n++ {
		out = append(out, fmt.Sprintf("step/%d@1", n))
	}
	out = append(out, "flaky@1", "flaky@2")
	for i := 1; i <= 5; i++ {
		out = append(out, fmt.Sprintf("item/%d@1", i))
	}
	return out
}

// seqSource is the benchmark workload: ten no-op steps in sequence.
const seqSource = `package bench

task nop(n: int) -> int extern

workflow Seq() -> int {
  let a1 = nop(1)
  let a2 = nop(2)
  let a3 = nop(3)
  let a4 = nop(4)
  let a5 = nop(5)
  let a6 = nop(6)
  let a7 = nop(7)
  let a8 = nop(8)
  let a9 = nop(9)
  let a10 = nop(10)
  return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10
}
`

// compile checks src and passes it through the gate of knhk run
// (compiler.Build: lower, verify, prove sound), so a workload runs only
// if a user could run it.
func compile(src string) (*ir.Program, error) {
	pkg, info, diags := check.CheckSource("workload.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		return nil, fmt.Errorf("check: %v", diags)
	}
	p, ld := compiler.Build(pkg, info)
	if ld.HasErrors() || p == nil {
		return nil, fmt.Errorf("gate: %v", ld)
	}
	return p, nil
}

func mustCompile(tb testing.TB, src string) *ir.Program {
	tb.Helper()
	p, err := compile(src)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// effectLog appends one line per extern call to a file opened O_APPEND:
// each line is one write(2), so a SIGKILL leaves it whole or absent. It
// is the at-least-once record of what the tasks did.
type effectLog struct {
	mu sync.Mutex
	f  *os.File
}

func (l *effectLog) record(c worker.Call, label string) error {
	line := fmt.Sprintf("%s %s %s\n", c.CaseID, label, c.IdempotencyKey)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.f.WriteString(line)
	return err
}

// errTransient is the first attempt of flaky failing.
var errTransient = errors.New("transient")

// crashRegistry binds the extern tasks of crashSource, logging each
// effect to l before it returns.
func crashRegistry(l *effectLog) *worker.Registry {
	r := worker.NewRegistry()
	r.Register("step", func(_ context.Context, c worker.Call) (eval.Value, error) {
		n := c.Args[1].AsInt()
		if err := l.record(c, fmt.Sprintf("step/%d@%d", n, c.Attempt)); err != nil {
			return eval.Value{}, err
		}
		return eval.Int(n), nil
	})
	r.Register("flaky", func(_ context.Context, c worker.Call) (eval.Value, error) {
		if err := l.record(c, fmt.Sprintf("flaky@%d", c.Attempt)); err != nil {
			return eval.Value{}, err
		}
		if c.Attempt == 1 {
			return eval.Value{}, errTransient
		}
		return eval.Int(100), nil
	})
	r.Register("item", func(_ context.Context, c worker.Call) (eval.Value, error) {
		return eval.Value{}, l.record(c, fmt.Sprintf("item/%d@%d", c.Args[1].AsInt(), c.Attempt))
	})
	return r
}

// nopRegistry binds the no-op task of seqSource.
func nopRegistry() *worker.Registry {
	r := worker.NewRegistry()
	r.Register("nop", func(_ context.Context, c worker.Call) (eval.Value, error) { return c.Args[0], nil })
	return r
}

// newEngine returns an engine running p with the real evaluator and
// worker over log.
func newEngine(p *ir.Program, reg *worker.Registry, log engine.EventLog) (*engine.Engine, error) {
	return engine.New(engineConfig(p, reg, log))
}

// engineConfig is the configuration of [newEngine].
func engineConfig(p *ir.Program, reg *worker.Registry, log engine.EventLog) engine.Config {
	return engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: worker.New(p, worker.Options{Registry: reg}), Log: log}
}

// finish drives case id until it is done, waiting out its backoffs and
// timers on the real clock.
func finish(ctx context.Context, e *engine.Engine, id string) (*engine.State, error) {
	for {
		s, err := e.Snapshot(id)
		if err != nil {
			return nil, err
		}
		if s.Done() {
			return s, nil
		}
		due, ok := e.NextDue(id)
		if !ok {
			return s, fmt.Errorf("case %s is %v and waits for nothing", id, s.Status)
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
				return s, ctx.Err()
			case <-time.After(d):
			}
		}
		if err := e.Run(ctx, id); err != nil {
			return s, err
		}
	}
}

// transitions returns the transitions that events fired, one label per
// firing ("fire W.step_3", "done Body.item#2", ...): the kind, the net,
// the transition and, in a child frame, the instance number. Replaying
// them through a Machine tells which net each frame runs.
func transitions(m *engine.Machine, id string, events []*engine.Event) ([]string, error) {
	s := engine.State{ID: id}
	var out []string
	for _, ev := range events {
		label := ""
		switch ev.Kind {
		case engine.EvFire, engine.EvTimer, engine.EvArm:
			label = frameLabel(m, &s, ev.Frame, ev.Trans)
		case engine.EvDone, engine.EvFailed, engine.EvRetry:
			for _, v := range s.Invs {
				if v != nil && v.ID == ev.Inv {
					if v.Comp {
						label = "undo"
					} else {
						label = frameLabel(m, &s, v.Frame, v.Trans)
					}
					if ev.Kind != engine.EvDone {
						label += fmt.Sprintf("@%d", v.Attempt)
					}
				}
			}
			if label == "" {
				return nil, fmt.Errorf("%v of unknown invocation %d", ev.Kind, ev.Inv)
			}
		}
		out = append(out, ev.Kind.String()+" "+label)
		if err := m.Apply(&s, ev); err != nil {
			return nil, err
		}
	}
	slices.Sort(out)
	return out, nil
}

func frameLabel(m *engine.Machine, s *engine.State, frame, trans int32) string {
	for _, f := range s.Frames {
		if f == nil || f.ID != frame {
			continue
		}
		n := m.Prog.Nets[f.Net]
		name := fmt.Sprintf("t%d", trans)
		if trans >= 0 && int(trans) < len(n.Transitions) {
			name = n.Transitions[trans].Name
		}
		if f.Parent < 0 {
			return n.Name + "." + name
		}
		return fmt.Sprintf("%s.%s#%d", n.Name, name, f.Index)
	}
	return fmt.Sprintf("frame%d.t%d", frame, trans)
}

// caseEvents reads the events of case id from log.
func caseEvents(ctx context.Context, log engine.EventLog, id string) ([]*engine.Event, error) {
	var out []*engine.Event
	err := log.Replay(ctx, id, func(ev *engine.Event) error {
		c := *ev
		out = append(out, &c)
		return nil
	})
	return out, err
}
