package engine

import (
	"context"
	"testing"
)

// TestFailNotCommittedOnceCancelled: a failure decided while the run's
// context was ending is not written: it may be the ending itself (an
// evaluation it stopped), which would fail a case that a restart
// resumes (server TestTimerSurvivesRestart failed so, with
// "time.sleep_19: context canceled", at load 8 under -race).
func TestFailNotCommittedOnceCancelled(t *testing.T) {
	log := NewMemLog()
	e, err := New(Config{Program: waitProgram(), Worker: &fakeWorker{}, Log: finishingLog{log}, Clock: &fakeClock{}, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background(), "c", "Wait", []any{"x"}); err != nil {
		t.Fatal(err)
	}
	cr, err := e.lookup("c")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cr.mu.Lock()
	err = e.commit(ctx, cr, &Event{Kind: EvFail, Message: "go: context canceled"})
	status := cr.s.Status
	cr.mu.Unlock()
	if err == nil || status != Running {
		t.Fatalf("a failure committed under an ended context: err %v, status %v", err, status)
	}
	for _, ev := range log.Events("c") {
		if ev.Kind == EvFail {
			t.Fatalf("the log holds a failure: %+v", ev)
		}
	}
}

// finishingLog is a log that writes an event whatever its context says,
// as the server's does (a write it began is finished).
type finishingLog struct{ *MemLog }

func (l finishingLog) Append(ctx context.Context, caseID string, ev *Event) error {
	return l.MemLog.Append(context.WithoutCancel(ctx), caseID, ev)
}
