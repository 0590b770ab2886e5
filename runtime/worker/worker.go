// This file implements the Worker: dispatch of an invocation to its
// binding and the conversion of its arguments and result.

package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// Options configure a [Worker]. Every field is optional.
type Options struct {
	// DataDir holds the kv store of std/kv (the file kv.json); empty
	// means the current directory.
	DataDir string
	// BaseDir resolves a relative exec program that names a path (one
	// with a slash, such as "./bin/reserve"); empty means the current
	// directory. The CLI sets it to the directory of the .knhk file.
	BaseDir string
	// Log receives the messages of std/log tasks; nil means os.Stderr.
	Log io.Writer
	// Registry holds the extern tasks; nil means none.
	Registry *Registry
	// Client makes the HTTP requests; nil means http.DefaultClient.
	Client *http.Client
	// GroupDir, when set, records the process group of every running
	// exec task (one small file each, removed when the group ends), so
	// that [ReapGroups] can kill the groups left behind by a process
	// that was killed outright. The CLI uses DATA/procs.
	GroupDir string
	// HTTPTimeout bounds an HTTP call without a timeout clause; zero
	// means DefaultHTTPTimeout.
	HTTPTimeout time.Duration
	// Queue hands the tasks of queue bindings to external workers
	// (knhk serve sets it); nil fails them with a message that says so.
	Queue Broker
	// Mining answers the std/mining tasks from the stored cases (knhk
	// run sets it); nil fails them with a message that says so.
	Mining Miner
}

// Worker is an [engine.Worker] for the tasks and kernels of one program.
// It is safe for concurrent use.
type Worker struct {
	prog *ir.Program
	o    Options
	kvMu sync.Mutex
	logM sync.Mutex
}

var _ engine.Worker = (*Worker)(nil)

// New returns a worker for the tasks and kernels of p.
func New(p *ir.Program, o Options) *Worker {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = DefaultHTTPTimeout
	}
	return &Worker{prog: p, o: o}
}

// call is one task invocation with its arguments as eval values.
type call struct {
	inv  engine.Invocation
	task *ir.Task
	args []eval.Value
}

// newCall is the call of task t for inv, its arguments checked against
// t's parameters.
func newCall(inv engine.Invocation, t *ir.Task) (*call, error) {
	args, err := arity(inv.Args, t.Params)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", t.Name, err)
	}
	return &call{inv: inv, task: t, args: args}, nil
}

// Invoke runs one attempt of inv and returns its result (void for a task
// without a result).
func (w *Worker) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	if inv.Kernel != nil {
		return w.kernel(inv)
	}
	t := inv.Task
	if t == nil {
		return eval.Value{}, errors.New("invocation has neither a task nor a kernel")
	}
	c, err := newCall(inv, t)
	if err != nil {
		return eval.Value{}, err
	}
	ctx, cancel := httpDeadline(ctx, t, w.o.HTTPTimeout)
	defer cancel()
	var v eval.Value
	switch t.Binding.Kind {
	case ir.BindExec:
		v, err = w.exec(ctx, c)
	case ir.BindHTTP:
		v, err = w.http(ctx, c)
	case ir.BindStd:
		v, err = w.std(ctx, c)
	case ir.BindExtern:
		v, err = w.extern(ctx, c)
	case ir.BindQueue:
		v, err = w.queue(ctx, c)
	default:
		err = fmt.Errorf("unknown binding %s", t.Binding.Kind)
	}
	return w.outcome(ctx, t, v, err)
}

// outcome is the outcome of a call of t under ctx that returned (v,
// err): an error says when ctx ended meanwhile, and a task without a
// result returns none.
func (w *Worker) outcome(ctx context.Context, t *ir.Task, v eval.Value, err error) (eval.Value, error) {
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		return eval.Value{}, err
	}
	if w.prog.KindOf(t.Result) == ir.KindVoid {
		return eval.Value{}, nil
	}
	return v, nil
}

func (w *Worker) kernel(inv engine.Invocation) (eval.Value, error) {
	k := -1
	for i, x := range w.prog.Kernels {
		if x == inv.Kernel {
			k = i
			break
		}
	}
	if k < 0 {
		return eval.Value{}, fmt.Errorf("kernel %s is not in the program", inv.Kernel.Name)
	}
	args, err := arity(inv.Args, inv.Kernel.Params)
	if err != nil {
		return eval.Value{}, fmt.Errorf("kernel %s: %w", inv.Kernel.Name, err)
	}
	v, err := eval.RunKernel(w.prog, k, args)
	if err != nil {
		return eval.Value{}, err
	}
	return v, nil
}

// argsJSON encodes the named arguments of c as one JSON object, in
// parameter order.
func (w *Worker) argsJSON(c *call) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range c.task.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSONName(&b, p.Name); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		v, err := eval.ToJSON(w.prog, c.args[i], p.Type)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", p.Name, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSONName writes name as a JSON string, as json.Marshal does. A
// parameter name is an identifier, which needs no escaping: it is
// written as it is, without json.Marshal's reflection (a few percent of
// a served queue task's CPU).
func writeJSONName(b *bytes.Buffer, name string) error {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(name)
			b.Write(q)
			return err
		}
	}
	b.WriteByte('"')
	b.WriteString(name)
	b.WriteByte('"')
	return nil
}

// result decodes data as the result of c's task.
func (w *Worker) result(c *call, data []byte) (eval.Value, error) {
	if w.prog.KindOf(c.task.Result) == ir.KindVoid {
		return eval.Void, nil
	}
	v, err := eval.FromJSONNamed(w.prog, c.task.Result, "result", data)
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s returned a bad result: %w", c.task.Name, err)
	}
	return v, nil
}

// excerpt returns at most n bytes of s, trimmed, marking a cut.
func excerpt(s []byte, n int) string {
	s = bytes.TrimSpace(s)
	if len(s) > n {
		return string(s[:n]) + "..."
	}
	return string(s)
}

// arity returns args, the engine's evaluated arguments of a call, when
// there is one per parameter.
func arity(args []eval.Value, params []ir.Param) ([]eval.Value, error) {
	if len(args) != len(params) {
		return nil, fmt.Errorf("%d arguments for %d parameters", len(args), len(params))
	}
	return args, nil
}
