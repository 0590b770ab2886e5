// This file implements a case's history (one entry per event, steps
// named as knhk history names them) and its export as XES or CSV (as
// knhk export writes them). What an event concerns and how it is named
// come from runtime/history and compiler/view, which cmd/knhk calls too.

package server

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/history"
	"github.com/knhk/knhk/runtime/store"
)

// HistoryEntry is one event of a case.
type HistoryEntry struct {
	Seq    int64  `json:"seq"`
	Time   int64  `json:"time"` // Unix nanoseconds
	Kind   string `json:"kind"`
	Step   string `json:"step,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// events calls fn with each event of case id from its first record on,
// with the state before the event, until fn returns errStop. after, when
// not nil, is called with the state after each event.
func (s *Service) events(ctx context.Context, p *Program, id string, fn func(seq store.Seq, st *engine.State, ev *engine.Event) error, after func(st *engine.State) error) error {
	if err := s.erasedErr(id); err != nil {
		return err
	}
	r := &eventReader{s: s, p: p, id: id, st: &engine.State{ID: id}, applying: true}
	return r.read(ctx, fn, after)
}

// eventReader reads a case's events in order, holding the state they
// fold into, and can go on later from where it stopped (WatchHistory).
type eventReader struct {
	s        *Service
	p        *Program
	id       string
	st       *engine.State
	applying bool      // false once an event did not apply (names are then left out)
	done     store.Seq // the last record read
}

// read reads the events after r.done up to the case's last record now.
func (r *eventReader) read(ctx context.Context, fn func(seq store.Seq, st *engine.State, ev *engine.Event) error, after func(st *engine.State) error) error {
	pos := r.s.log.position(r.id)
	from, last := max(pos.First, r.done+1), pos.Last
	if pos.First == 0 || from > last {
		return nil
	}
	m := r.p.eng.Machine()
	err := r.s.st.ScanViews(ctx, store.Position{Seq: from}, func(rec store.RecordView, _ store.Position) error {
		if rec.Seq > last {
			return errStop // the case's last record when the call began
		}
		r.done = rec.Seq
		if string(rec.CaseID) != r.id || string(rec.Kind) == engine.SnapshotKind {
			return nil
		}
		ev, err := engine.DecodeEvent(rec.Payload)
		if err != nil {
			return fmt.Errorf("record %d of case %s: %w", rec.Seq, r.id, err)
		}
		if err := fn(rec.Seq, r.st, ev); err != nil {
			return err
		}
		if r.applying && m.Apply(r.st, ev) != nil {
			r.applying = false
		}
		if after != nil && r.applying {
			return after(r.st)
		}
		return nil
	})
	if err == errStop {
		err = nil
	}
	return err
}

// History returns the entries of case id from entry from (0-based), at
// most size of them (default 100, at most 1000), and the from of the
// next page (0 when none). Without detail it is the user-level history
// of knhk history: steps named after their source (compiler/view) and
// bookkeeping steps left out; with detail, every event.
func (s *Service) History(ctx context.Context, id string, from int64, size int, detail bool) ([]HistoryEntry, int64, error) {
	if err := s.enter(); err != nil {
		return nil, 0, err
	}
	defer s.leave()
	if from < 0 {
		return nil, 0, errf(CodeInvalidArgument, "from", "from is negative (%d)", from)
	}
	size = pageSize(size)
	e, err := s.entry(id)
	if err != nil {
		return nil, 0, err
	}
	return s.history(ctx, e, from, size, detail)
}

// namer names history entries after the user-level view of their nets
// and numbers the entries shown (see next).
type namer struct {
	p      *Program
	detail bool
	views  map[int32]*view.Graph
	from   int64 // the first entry wanted
	n      int64 // the entries shown so far
}

// next describes ev as entry does and numbers the entries shown from 0:
// it returns the entry and its number, and ok false when the history
// does not show it or it comes before entry from.
func (n *namer) next(seq store.Seq, st *engine.State, ev *engine.Event) (h HistoryEntry, i int64, ok bool) {
	h, show := n.entry(seq, st, ev)
	if !show {
		return h, 0, false
	}
	i = n.n
	n.n++
	return h, i, i >= n.from
}

// entry describes ev (st: the state before it) and reports whether the
// history shows it.
func (n *namer) entry(seq store.Seq, st *engine.State, ev *engine.Event) (HistoryEntry, bool) {
	h := describe(n.p.prog, seq, st, ev)
	if n.detail {
		return h, true
	}
	net, trans := history.Step(n.p.prog, st, ev)
	if net < 0 {
		return h, true
	}
	g := n.views[net]
	if g == nil {
		if n.views == nil {
			n.views = map[int32]*view.Graph{}
		}
		g = view.Build(n.p.prog, int(net), view.Options{Text: n.p.Text})
		n.views[net] = g
	}
	name, show := g.Step(n.p.prog, trans)
	if name != "" {
		h.Step = name
	}
	return h, show
}

func (s *Service) history(ctx context.Context, e *caseEntry, from int64, size int, detail bool) ([]HistoryEntry, int64, error) {
	p, err := s.program(e.summary().Program)
	if err != nil {
		return nil, 0, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	var out []HistoryEntry
	var next int64
	nm := &namer{p: p, detail: detail, from: from}
	err = s.events(ctx, p, e.id, nm.page(size, &out, &next), nil)
	if err != nil {
		return nil, 0, internalUnlessCoded(err) // erase.go
	}
	return out, next, nil
}

// WatchHistory calls fn with every entry of case id (by History's rule
// for detail) from entry from on, as they are appended, until the case
// ends (after its last entry), ctx is done, the Service drains, or fn
// fails.
func (s *Service) WatchHistory(ctx context.Context, id string, from int64, detail bool, fn func(HistoryEntry) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if from < 0 {
		return errf(CodeInvalidArgument, "from", "from is negative (%d)", from)
	}
	e, err := s.entry(id)
	if err != nil {
		return err
	}
	p, err := s.program(e.summary().Program)
	if err != nil {
		return &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	// One reader for the whole watch: each change reads only the records
	// appended since the last one.
	r := &eventReader{s: s, p: p, id: id, st: &engine.State{ID: id}, applying: true}
	nm := &namer{p: p, detail: detail, from: from}
	for {
		sum, changed := e.watch()
		err := r.read(ctx, func(seq store.Seq, st *engine.State, ev *engine.Event) error {
			if h, _, ok := nm.next(seq, st, ev); ok {
				return fn(h)
			}
			return nil
		}, nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return &Error{Code: CodeInternal, Message: err.Error(), Err: err}
		}
		if sum.Done() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		case <-s.stop:
			return nil
		}
	}
}

// describe makes the history entry of ev, st being the state before it.
func describe(p *ir.Program, seq store.Seq, st *engine.State, ev *engine.Event) HistoryEntry {
	h := HistoryEntry{Seq: int64(seq), Time: ev.Time, Kind: ev.Kind.String(), Detail: ev.Message}
	switch {
	case ev.Kind == engine.EvStart && ev.Trans >= 0 && int(ev.Trans) < len(p.Nets):
		h.Step = p.Nets[ev.Trans].Name
	case ev.Kind == engine.EvSignal:
		h.Step = ev.Name
	default:
		if t := history.Transition(p, st, ev); t != nil {
			h.Step = view.StepName(p, t)
		} else if v := history.Compensation(st, ev); v != nil {
			h.Step = "undo " + view.CalleeName(p, v.Call)
		}
	}
	return h
}

// Export writes cases ids (every case when empty) to w as "xes" or "csv".
func (s *Service) Export(ctx context.Context, ids []string, format string, w io.Writer) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	var ew export.Writer
	switch format {
	case "xes":
		ew = export.NewXESWriter(w)
	case "csv":
		ew = export.NewCSVWriter(w)
	default:
		return errf(CodeInvalidArgument, "format", "unknown format %q (want xes or csv)", format)
	}
	var entries []*caseEntry
	if len(ids) == 0 {
		s.mu.Lock()
		entries = append(entries, s.list...)
		s.mu.Unlock()
	}
	for _, id := range ids {
		e, err := s.entry(id)
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	for _, e := range entries {
		if !e.listed() {
			continue
		}
		if err := s.trace(ctx, e, ew); err != nil {
			return internalUnlessCoded(err) // erase.go
		}
	}
	return ew.Close()
}

// trace writes case e's events as process-mining events.
func (s *Service) trace(ctx context.Context, e *caseEntry, w export.Writer) error {
	sum := e.summary()
	p, err := s.program(sum.Program)
	if err != nil {
		return err
	}
	if err := w.Begin(e.id, []export.Attr{{Key: "workflow", Value: sum.Workflow}, {Key: "descriptor", Value: sum.Program}}); err != nil {
		return err
	}
	prog := p.prog
	var at time.Time
	var next int32
	var werr error // the first error writing, which ends the scan
	add := func(activity, lifecycle, resource string) {
		if werr == nil {
			werr = w.Event(export.Event{Activity: activity, Lifecycle: lifecycle, Time: at, Resource: resource})
		}
	}
	return s.events(ctx, p, e.id, func(_ store.Seq, st *engine.State, ev *engine.Event) error {
		at = time.Unix(0, ev.Time).UTC()
		history.Ended(prog, st, ev, add)
		next = st.NextInv
		return werr
	}, func(st *engine.State) error {
		history.Started(prog, st, next, add)
		return werr
	})
}

// page returns an event reader's callback that appends the entries n
// shows to *out until it holds size of them, then sets *next to the
// number of the entry after them and stops with errStop: a single
// server, a raft node and a BFT validator read history pages through it.
func (n *namer) page(size int, out *[]HistoryEntry, next *int64) func(store.Seq, *engine.State, *engine.Event) error {
	return func(seq store.Seq, st *engine.State, ev *engine.Event) error {
		h, i, ok := n.next(seq, st, ev)
		if !ok {
			return nil
		}
		if len(*out) == size {
			*next = i
			return errStop
		}
		*out = append(*out, h)
		return nil
	}
}
