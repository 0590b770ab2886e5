package metrics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/server/metrics"
)

// fakeWorker answers every invocation with err, after waiting for ctx
// when block is set.
type fakeWorker struct {
	err   error
	block bool
}

func (f fakeWorker) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	if f.block {
		<-ctx.Done()
		return eval.Value{}, ctx.Err()
	}
	return eval.Str("r"), f.err
}

// TestWorkerLabels checks the labels a timed attempt gets: the task's
// name, its queue only for a queue binding, a kernel's name, and the
// outcome (ok, error, cancelled when the attempt's context ended), and
// that the wrapped worker's result and error pass through unchanged.
func TestWorkerLabels(t *testing.T) {
	m := metrics.New(metrics.Options{NoProcess: true})
	queued := &ir.Task{Name: "charge", Binding: ir.Binding{Kind: ir.BindQueue, Target: "billing"}}
	execd := &ir.Task{Name: "reserve", Binding: ir.Binding{Kind: ir.BindExec, Target: "./bin/reserve"}}
	kernel := &ir.Kernel{Name: "risk"}
	bad := errors.New("exit status 1")
	ctx := context.Background()

	ok := m.Worker(fakeWorker{})
	for range 2 {
		if v, err := ok.Invoke(ctx, engine.Invocation{Task: queued}); v != eval.Str("r") || err != nil {
			t.Fatalf("Invoke = %v, %v", v, err)
		}
	}
	ok.Invoke(ctx, engine.Invocation{Kernel: kernel})
	if _, err := m.Worker(fakeWorker{err: bad}).Invoke(ctx, engine.Invocation{Task: execd}); err != bad {
		t.Fatalf("the error did not pass through: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	m.Worker(fakeWorker{block: true}).Invoke(cctx, engine.Invocation{Task: queued})

	for labels, n := range map[[3]string]int{
		{"charge", "billing", "ok"}:        2,
		{"risk", "", "ok"}:                 1,
		{"reserve", "", "error"}:           1,
		{"charge", "billing", "cancelled"}: 1,
	} {
		if got := histCount(t, m, labels); got != n {
			t.Errorf("knhk_task_duration_seconds%v: %d samples, want %d", labels, got, n)
		}
	}
	if n := testutil.CollectAndCount(m.Registry(), "knhk_task_duration_seconds"); n != 4 {
		t.Errorf("%d series, want 4", n)
	}
}

func histCount(t *testing.T, m *metrics.Metrics, labels [3]string) int {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "knhk_task_duration_seconds" {
			continue
		}
		for _, s := range f.Metric {
			got := map[string]string{}
			for _, l := range s.Label {
				got[l.GetName()] = l.GetValue()
			}
			if got["task"] == labels[0] && got["queue"] == labels[1] && got["outcome"] == labels[2] {
				return int(s.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}
