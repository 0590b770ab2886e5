// Package difftest runs programs through the interpreter's evaluator
// (runtime/host's Evaluator) and through their evaluators compiled by
// codegen/golang, on the same engine with the same clock and worker, and
// reports every difference in the event logs' bytes, the cases' ends and
// their results. The differential test of codegen/golang generates a
// main package that calls [Main] with every example and pattern program.
package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
)

// Program is one program under test: its descriptor, its compiled
// evaluator and the scenarios to play (none: start every workflow with
// made-up arguments).
type Program struct {
	Name       string
	Descriptor []byte
	Evaluator  func(*ir.Program) (*host.Compiled, error)
	Scenarios  []Scenario
}

// Scenario is a list of actions, as in testdata/patterns/*.trace:
// "start W [args]", "signal S [args]" and "advance DURATION", arguments
// as a JSON array.
type Scenario struct {
	Name    string
	Actions []string
}

// Main runs every scenario of progs both ways and writes one line per
// scenario to w: "ok NAME events=N status=S" or "FAIL NAME: why". It
// returns the number of failures.
func Main(w io.Writer, progs []Program) int {
	fails := 0
	for _, pr := range progs {
		p1, err := ir.Decode(pr.Descriptor)
		if err != nil {
			fmt.Fprintf(w, "FAIL %s: %v\n", pr.Name, err)
			fails++
			continue
		}
		p2, _ := ir.Decode(pr.Descriptor)
		comp, err := pr.Evaluator(p2)
		if err != nil {
			fmt.Fprintf(w, "FAIL %s: %v\n", pr.Name, err)
			fails++
			continue
		}
		scs := pr.Scenarios
		if len(scs) == 0 {
			scs = Starts(p1)
		}
		for _, sc := range scs {
			name := pr.Name + "/" + sc.Name
			a, err := Play(p1, &host.Evaluator{}, sc)
			if err != nil {
				fmt.Fprintf(w, "FAIL %s: interpreted: %v\n", name, err)
				fails++
				continue
			}
			b, err := Play(p2, comp, sc)
			if err != nil {
				fmt.Fprintf(w, "FAIL %s: compiled: %v\n", name, err)
				fails++
				continue
			}
			if why := Diff(a, b); why != "" {
				fmt.Fprintf(w, "FAIL %s: %s\n", name, why)
				fails++
				continue
			}
			fmt.Fprintf(w, "ok %s events=%d status=%s\n", name, len(a.Events), a.Status)
		}
	}
	return fails
}

// Outcome is what one play left: the encoded events and the case's end.
type Outcome struct {
	Events [][]byte
	Status string
	Result string // the result's JSON, or the error and its location
}

// Diff says how two outcomes differ; "" when they are identical.
func Diff(a, b *Outcome) string {
	for i := 0; i < len(a.Events) && i < len(b.Events); i++ {
		if !bytes.Equal(a.Events[i], b.Events[i]) {
			return fmt.Sprintf("event %d differs:\ninterpreted %s\ncompiled    %s", i, a.Events[i], b.Events[i])
		}
	}
	if len(a.Events) != len(b.Events) {
		return fmt.Sprintf("%d events interpreted, %d compiled", len(a.Events), len(b.Events))
	}
	if a.Status != b.Status || a.Result != b.Result {
		return fmt.Sprintf("interpreted ends %s %s, compiled %s %s", a.Status, a.Result, b.Status, b.Result)
	}
	return ""
}

// Epoch is the fixed start of every play's clock.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Play runs sc on a new engine over p with ev, a fixed clock and the
// deterministic [Worker].
func Play(p *ir.Program, ev engine.Evaluator, sc Scenario) (*Outcome, error) {
	clk := &Clock{T: Epoch}
	log := engine.NewMemLog()
	eng, err := engine.New(engine.Config{Program: p, Eval: ev, Worker: NewWorker(p, clk), Log: log, Clock: clk, MaxSteps: 10000, Rounds: true})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const id = "c"
	for _, a := range sc.Actions {
		verb, rest, _ := strings.Cut(strings.TrimSpace(a), " ")
		switch verb {
		case "start", "signal":
			name, js, _ := strings.Cut(strings.TrimSpace(rest), " ")
			vals, err := host.JSONArgs(p, verb == "start", name, js)
			if err != nil {
				return nil, fmt.Errorf("action %q: %v", a, err)
			}
			if verb == "start" {
				err = eng.Start(ctx, id, name, vals)
			} else {
				err = eng.Signal(ctx, id, name, vals)
			}
			if err != nil {
				return nil, fmt.Errorf("action %q: %v", a, err)
			}
		case "advance":
			d, err := time.ParseDuration(strings.TrimSpace(rest))
			if err != nil {
				return nil, fmt.Errorf("action %q: %v", a, err)
			}
			clk.Advance(d)
			if err := eng.Run(ctx, id); err != nil {
				return nil, fmt.Errorf("action %q: %v", a, err)
			}
		default:
			return nil, fmt.Errorf("unknown action %q", a)
		}
	}
	s, err := eng.Snapshot(id)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Status: s.Status.String()}
	for _, e := range log.Events(id) {
		b, err := engine.EncodeEvent(&e)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, b)
	}
	if s.Error != "" {
		out.Result = fmt.Sprintf("error %q at %d:%d-%d", s.Error, s.ErrorLoc.File, s.ErrorLoc.Span.Start, s.ErrorLoc.Span.End)
	} else {
		r, err := json.Marshal(s.Result)
		if err != nil {
			return nil, err
		}
		out.Result = string(r)
	}
	return out, nil
}

// Starts is one scenario per workflow of p that starts it with made-up
// arguments.
func Starts(p *ir.Program) []Scenario {
	var out []Scenario
	for _, n := range p.Nets {
		if !Workflow(n) {
			continue
		}
		args := make([]json.RawMessage, len(n.Params))
		for i, pa := range n.Params {
			b, err := eval.ToJSON(p, Sample(p, pa.Type, 0), pa.Type)
			if err != nil {
				panic(err) // a made-up value always has a JSON form
			}
			args[i] = b
		}
		js, _ := json.Marshal(args)
		out = append(out, Scenario{Name: n.Name, Actions: []string{"start " + n.Name + " " + string(js)}})
	}
	return out
}

// Workflow reports whether n is a workflow a case can start: a declared
// one, not a net the compiler made for a loop or a parallel for.
func Workflow(n *ir.Net) bool {
	return n != nil && n.Name != "" && !strings.Contains(n.Name, ".") && !(len(n.Params) > 0 && n.Params[0].Name == "")
}

// Sample is a made-up value of type t: small numbers, short strings, two
// elements per list.
func Sample(p *ir.Program, t ir.TypeID, depth int) eval.Value {
	switch p.KindOf(t) {
	case ir.KindBool:
		return eval.Bool(true)
	case ir.KindInt:
		return eval.Int(3)
	case ir.KindI32:
		return eval.I32(3)
	case ir.KindU32:
		return eval.U32(3)
	case ir.KindFloat:
		return eval.Float(2.5)
	case ir.KindF32:
		return eval.F32(2.5)
	case ir.KindString:
		return eval.Str("x")
	case ir.KindBytes:
		return eval.Bytes([]byte("x"))
	case ir.KindDuration:
		return eval.Duration(time.Second)
	case ir.KindTime:
		return eval.Time(Epoch)
	}
	ty := p.Type(t)
	if ty == nil || depth > 4 {
		return eval.Zero(p, t)
	}
	switch ty.Kind {
	case ir.KindList:
		return eval.List([]eval.Value{Sample(p, ty.Elem, depth+1), Sample(p, ty.Elem, depth+1)})
	case ir.KindMap:
		return eval.Map([]eval.Value{Sample(p, ty.Key, depth+1)}, []eval.Value{Sample(p, ty.Elem, depth+1)})
	case ir.KindOptional:
		return Sample(p, ty.Elem, depth+1)
	case ir.KindEnum:
		if len(ty.Members) > 0 {
			return eval.Enum(0, ty.Members[0])
		}
	case ir.KindRecord:
		fs := make([]eval.Value, len(ty.Fields))
		for i, f := range ty.Fields {
			fs[i] = Sample(p, f.Type, depth+1)
		}
		return eval.Record(ty, fs)
	}
	return eval.Zero(p, t)
}

// Clock is a fake clock that moves only when told.
type Clock struct {
	mu sync.Mutex
	T  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.T }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.T = c.T.Add(d); c.mu.Unlock() }

// Worker answers every task call deterministically, as the pattern tests'
// echo functions do: tick advances the clock by its duration argument,
// inc adds one to its int argument, third is false until its third call;
// otherwise the first argument of the result's type, else a made-up
// value (booleans a fixed mix, three in four true, so loops end).
type Worker struct {
	p     *ir.Program
	clk   *Clock
	mu    sync.Mutex
	third int
}

// NewWorker returns a worker for p's tasks.
func NewWorker(p *ir.Program, clk *Clock) *Worker { return &Worker{p: p, clk: clk} }

// Invoke answers a call.
func (w *Worker) Invoke(_ context.Context, inv engine.Invocation) (eval.Value, error) {
	t := inv.Task
	if t == nil {
		return eval.Value{}, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch t.Binding.Target {
	case "third":
		w.third++
		return eval.Bool(w.third >= 3), nil
	case "inc":
		for _, a := range inv.Args {
			if a.Kind() == ir.KindInt {
				return eval.Int(a.AsInt() + 1), nil
			}
		}
	case "tick":
		for i, a := range inv.Args {
			if a.Kind() == ir.KindDuration && i < len(t.Params) && t.Params[i].Type == ir.Duration {
				w.clk.Advance(a.AsDuration())
			}
		}
	}
	for i, a := range inv.Args {
		if i < len(t.Params) && t.Params[i].Type == t.Result {
			return a, nil
		}
	}
	if t.Result == ir.Bool {
		// From the attempt's key, not a call counter: calls of a round
		// run concurrently, in no fixed order.
		h := fnv.New32a()
		h.Write([]byte(inv.IdempotencyKey))
		return eval.Bool(h.Sum32()%4 != 0), nil
	}
	if t.Result == ir.Void {
		return eval.Value{}, nil
	}
	return Sample(w.p, t.Result, 0), nil
}
