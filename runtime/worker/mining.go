// This file implements the tasks of std/mining: prediction and anomaly
// scores over the cases in the data directory, as queries a workflow can
// call. The worker knows nothing of how cases are stored, so the program
// that embeds it supplies a [Miner]; without one the tasks fail saying so.

package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/eval"
)

// Miner answers the queries of std/mining about stored cases.
type Miner interface {
	Predict(ctx context.Context, caseID string) (Prediction, error)
	Anomaly(ctx context.Context, caseID string) (Anomaly, error)
}

// Prediction is the answer of mining.predict.
type Prediction struct {
	Next        string // empty: the case likely ends
	Probability float64
	Remaining   time.Duration
	Low, High   time.Duration // the interval's bounds
	TrainedOn   int           // completed cases learned from
}

// Anomaly is the answer of mining.anomaly.
type Anomaly struct {
	Score   float64
	Unusual bool
}

// errNoMiner is the failure of a std/mining task in a worker without a
// Miner (an embedder that did not set Options.Mining).
var errNoMiner = errors.New("no case history to mine here: std/mining needs a data directory (knhk run --data)")

func init() {
	stdTasks["mining.predict"] = func(ctx context.Context, w *Worker, c *call) (eval.Value, error) {
		if w.o.Mining == nil {
			return eval.Value{}, errNoMiner
		}
		p, err := w.o.Mining.Predict(ctx, c.args[0].AsString())
		if err != nil {
			return eval.Value{}, err
		}
		return w.record(c, map[string]eval.Value{
			"next":        eval.Str(p.Next),
			"probability": eval.Float(p.Probability),
			"remaining":   eval.Duration(p.Remaining),
			"low":         eval.Duration(p.Low),
			"high":        eval.Duration(p.High),
			"trained_on":  eval.Int(int64(p.TrainedOn)),
		})
	}
	stdTasks["mining.anomaly"] = func(ctx context.Context, w *Worker, c *call) (eval.Value, error) {
		if w.o.Mining == nil {
			return eval.Value{}, errNoMiner
		}
		a, err := w.o.Mining.Anomaly(ctx, c.args[0].AsString())
		if err != nil {
			return eval.Value{}, err
		}
		return w.record(c, map[string]eval.Value{"score": eval.Float(a.Score), "unusual": eval.Bool(a.Unusual)})
	}
}

// record builds the task's result record from fields by name, so that the
// order of fields in the std module's declaration is free.
func (w *Worker) record(c *call, fields map[string]eval.Value) (eval.Value, error) {
	rt := w.prog.Type(c.task.Result)
	if rt == nil || len(rt.Fields) != len(fields) {
		return eval.Value{}, fmt.Errorf("%s is declared with a result that is not its record", c.task.Binding.Target)
	}
	vs := make([]eval.Value, len(rt.Fields))
	for i, f := range rt.Fields {
		v, ok := fields[f.Name]
		if !ok {
			return eval.Value{}, fmt.Errorf("%s: unknown result field %s", c.task.Binding.Target, f.Name)
		}
		vs[i] = v
	}
	return eval.Record(rt, vs), nil
}
