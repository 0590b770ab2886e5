// This file implements Wrap: the event log decorator that records a
// receipt after each append, keeping the log's optional interfaces.

package receipt

import (
	"context"

	"github.com/knhk/knhk/runtime/engine"
)

// Wrap returns log with a receipt recorded after each successful Append,
// for cases of the program whose descriptor hash is descriptor. The
// result keeps log's optional interfaces (engine.Snapshotter,
// engine.Flusher), so that the engine snapshots and batches as before.
func (r *Recorder) Wrap(log engine.EventLog, descriptor string) engine.EventLog {
	base := &recLog{EventLog: log, r: r, desc: descriptor}
	sn, isSnap := log.(engine.Snapshotter)
	fl, isFlush := log.(engine.Flusher)
	switch {
	case isSnap && isFlush:
		return &snapFlushLog{base, sn, fl}
	case isSnap:
		return &snapLog{base, sn}
	case isFlush:
		return &flushLog{base, fl}
	}
	return base
}

type recLog struct {
	engine.EventLog
	r    *Recorder
	desc string
}

func (l *recLog) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	if err := l.EventLog.Append(ctx, caseID, ev); err != nil {
		return err
	}
	return l.r.Record(caseID, l.desc, ev)
}

type snapLog struct {
	*recLog
	sn engine.Snapshotter
}

func (l *snapLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	return l.sn.SaveSnapshot(ctx, caseID, snap)
}

func (l *snapLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*engine.Event) error) error {
	return l.sn.ReplaySnapshot(ctx, caseID, restore, fn)
}

type flushLog struct {
	*recLog
	fl engine.Flusher
}

func (l *flushLog) Flush(caseID string) { l.fl.Flush(caseID) }

type snapFlushLog struct {
	*recLog
	sn engine.Snapshotter
	fl engine.Flusher
}

func (l *snapFlushLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	return l.sn.SaveSnapshot(ctx, caseID, snap)
}

func (l *snapFlushLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*engine.Event) error) error {
	return l.sn.ReplaySnapshot(ctx, caseID, restore, fn)
}

func (l *snapFlushLog) Flush(caseID string) { l.fl.Flush(caseID) }
