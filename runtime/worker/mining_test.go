package worker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// fakeMiner answers for case "c-1" only.
type fakeMiner struct{}

func (fakeMiner) Predict(_ context.Context, id string) (Prediction, error) {
	if id != "c-1" {
		return Prediction{}, errors.New("unknown case " + id)
	}
	return Prediction{Next: "ship", Probability: 0.75, Remaining: 2 * time.Hour, Low: time.Hour, High: 3 * time.Hour, TrainedOn: 12}, nil
}

func (fakeMiner) Anomaly(_ context.Context, id string) (Anomaly, error) {
	return Anomaly{Score: 0.5, Unusual: true}, nil
}

func miningProgram(t *testing.T) *ir.Program {
	t.Helper()
	src := `package watch

import "std/mining"

workflow Watch(id: string) -> bool {
  let p = mining.predict(id)
  let a = mining.anomaly(id)
  return a.unusual || p.high > 72h
}
`
	return compileSource(t, "watch.knhk", src)
}

func miningTask(t *testing.T, p *ir.Program, target string) *ir.Task {
	t.Helper()
	for _, task := range p.Tasks {
		if task.Binding.Kind == ir.BindStd && task.Binding.Target == target {
			return task
		}
	}
	t.Fatalf("no task bound to std %q", target)
	return nil
}

// TestMining: the std/mining tasks turn the Miner's answers into the
// records std/mining declares, field by field, and pass its errors on;
// without a Miner they fail saying what is missing.
func TestMining(t *testing.T) {
	p := miningProgram(t)
	ctx := context.Background()
	pred, anom := miningTask(t, p, "mining.predict"), miningTask(t, p, "mining.anomaly")

	w := New(p, Options{Mining: fakeMiner{}})
	got, err := invoke(t, w, ctx, pred, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"next": "ship", "probability": 0.75, "remaining": 2 * time.Hour, "low": time.Hour, "high": 3 * time.Hour, "trained_on": int64(12)}
	fields := got.([]any)
	rt := p.Type(pred.Result)
	if len(fields) != len(rt.Fields) {
		t.Fatalf("prediction %v has %d fields, want %d", got, len(fields), len(rt.Fields))
	}
	for i, f := range rt.Fields {
		if fields[i] != want[f.Name] {
			t.Errorf("prediction field %s = %v (%T), want %v", f.Name, fields[i], fields[i], want[f.Name])
		}
	}
	got, err = invoke(t, w, ctx, anom, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	rt = p.Type(anom.Result)
	for i, f := range rt.Fields {
		w := map[string]any{"score": 0.5, "unusual": true}[f.Name]
		if got.([]any)[i] != w {
			t.Errorf("anomaly field %s = %v, want %v", f.Name, got.([]any)[i], w)
		}
	}
	if _, err := invoke(t, w, ctx, pred, "c-2"); err == nil || !strings.Contains(err.Error(), "unknown case c-2") {
		t.Errorf("unknown case: err = %v", err)
	}

	bare := New(p, Options{})
	for _, task := range []*ir.Task{pred, anom} {
		if _, err := invoke(t, bare, ctx, task, "c-1"); err == nil || !strings.Contains(err.Error(), "std/mining needs a data directory") {
			t.Errorf("%s without a Miner: err = %v", task.Binding.Target, err)
		}
	}
}
