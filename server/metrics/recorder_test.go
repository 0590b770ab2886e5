package metrics_test

import (
	"errors"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/server/metrics"
)

// recordingWorker is a worker that asks for the engine's reports of
// logged outcomes, as runtime/worker does for queue tasks.
type recordingWorker struct {
	fakeWorker
	got []string
}

func (r *recordingWorker) Records(t *ir.Task) bool { return t.Binding.Kind == ir.BindQueue }
func (r *recordingWorker) Recorded(key string, err error) {
	r.got = append(r.got, key+" "+errString(err))
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestWorkerPassesRecorderThrough: the timing wrapper must not hide the
// wrapped worker's engine.Recorder, or a queue worker's completion would
// never be acknowledged as durable.
func TestWorkerPassesRecorderThrough(t *testing.T) {
	m := metrics.New(metrics.Options{NoProcess: true})
	inner := &recordingWorker{}
	rec, ok := m.Worker(inner).(engine.Recorder)
	if !ok {
		t.Fatal("the timed worker is not an engine.Recorder")
	}
	queued := &ir.Task{Name: "charge", Binding: ir.Binding{Kind: ir.BindQueue, Target: "billing"}}
	execd := &ir.Task{Name: "reserve", Binding: ir.Binding{Kind: ir.BindExec, Target: "x"}}
	if !rec.Records(queued) || rec.Records(execd) {
		t.Error("Records does not ask the wrapped worker")
	}
	rec.Recorded("k1", nil)
	rec.Recorded("k2", errors.New("disk full"))
	if len(inner.got) != 2 || inner.got[0] != "k1 ok" || inner.got[1] != "k2 disk full" {
		t.Fatalf("wrapped worker got %v", inner.got)
	}
	// A worker that is no Recorder records nothing through the wrapper.
	if m.Worker(fakeWorker{}).(engine.Recorder).Records(queued) {
		t.Error("Records is true for a worker that does not record")
	}
}
