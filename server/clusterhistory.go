// This file implements a case's history and its export on a cluster
// node, from the events the replicated FSM keeps (runtime/cluster's
// FSM.CaseEvents): the entries and the XES or CSV are those a single
// knhk serve gives, named by the same describe and namer. Reads are
// linearizable on the leader (a follower forwards them) unless the
// caller asks for this node's copy (Knhk-Consistency: stale).

package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/history"
	"github.com/knhk/knhk/runtime/store"
)

// caseEvents reads case id's events with consistency c.
func (a *ClusterAPI) caseEvents(ctx context.Context, id string, c cluster.Consistency) ([]cluster.Event, *cluster.View, error) {
	v, err := a.n.Get(ctx, id, c)
	if err != nil {
		return nil, nil, err
	}
	evs, _, ok := a.n.FSM().CaseEvents(id)
	if !ok {
		return nil, nil, fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
	}
	return evs, v, nil
}

// clusterEvents folds the events of case id, from its first on and
// given in one or more slices (read), into a state, calling fn with each event and the state before it and
// after, when set, with the state after it. As on a single server, once
// an event does not apply the state is left as it was (entries then
// lose their step names, never their events).
type clusterEvents struct {
	machine  func() *engine.Machine // the case's program, looked up at the first read
	holder   string                 // "node" or "validator", for the error when it holds no such program
	st       *engine.State
	applying bool
	done     int // events read
}

func (a *ClusterAPI) newEvents(id string) *clusterEvents {
	return &clusterEvents{
		machine:  func() *engine.Machine { return a.n.FSM().MachineOf(a.caseHash(id)) },
		holder:   "node",
		st:       &engine.State{ID: id},
		applying: true,
	}
}

func (r *clusterEvents) read(evs []cluster.Event, fn func(seq store.Seq, st *engine.State, ev *engine.Event) error, after func(*engine.State) error) error {
	m := r.machine()
	if m == nil {
		return fmt.Errorf("case %s runs a program this %s does not hold", r.st.ID, r.holder)
	}
	for _, e := range evs {
		ev, err := engine.DecodeEvent(e.Data)
		if err != nil {
			return fmt.Errorf("event %d of case %s: %w", r.done, r.st.ID, err)
		}
		if err := fn(store.Seq(e.Index), r.st, ev); err != nil {
			return err
		}
		if r.applying && m.Apply(r.st, ev) != nil {
			r.applying = false
		}
		if after != nil && r.applying {
			if err := after(r.st); err != nil {
				return err
			}
		}
		r.done++
	}
	return nil
}

// history returns a page of case id's history, as Service.History.
func (a *ClusterAPI) history(ctx context.Context, id string, from int64, size int, detail bool, c cluster.Consistency) ([]HistoryEntry, int64, error) {
	if from < 0 {
		return nil, 0, fmt.Errorf("from is negative (%d)", from)
	}
	size = pageSize(size)
	evs, _, err := a.caseEvents(ctx, id, c)
	if err != nil {
		return nil, 0, err
	}
	var out []HistoryEntry
	var next int64
	nm := &namer{p: a.program(id), detail: detail, from: from}
	err = a.newEvents(id).read(evs, nm.page(size, &out, &next), nil)
	if err != nil && err != errStop {
		return nil, 0, err
	}
	return out, next, nil
}

// watchHistory calls fn with each entry of case id from entry from on,
// as the FSM applies them, until the case ends, ctx is done or fn
// fails. On the leader (consistency Linearizable) it stops with the
// not-leader error when the node loses the lead, so that a client that
// reconnects to the new leader, from the entry after the last it got,
// misses nothing.
func (a *ClusterAPI) watchHistory(ctx context.Context, id string, from int64, detail bool, c cluster.Consistency, fn func(HistoryEntry) error) error {
	if from < 0 {
		return fmt.Errorf("from is negative (%d)", from)
	}
	if _, err := a.n.Get(ctx, id, c); err != nil {
		return err
	}
	r := a.newEvents(id)
	nm := &namer{p: a.program(id), detail: detail, from: from}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		changed := a.n.FSM().Changed()
		evs, ok := a.n.FSM().CaseEventsSince(id, r.done)
		if !ok {
			return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
		}
		err := r.read(evs, func(seq store.Seq, st *engine.State, ev *engine.Event) error {
			if h, _, ok := nm.next(seq, st, ev); ok {
				return fn(h)
			}
			return nil
		}, nil)
		if err != nil {
			return err
		}
		if st, _, ok := a.n.FSM().Case(id); ok && st.Done() && int(a.n.FSM().Events(id)) == r.done {
			return nil
		}
		select {
		case <-changed:
		case <-tick.C:
			if c == cluster.Linearizable && !a.n.IsLeader() {
				return a.n.NotLeader()
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// export writes cases ids (every case when empty) as "xes" or "csv", as
// Service.Export does.
func (a *ClusterAPI) export(ctx context.Context, ids []string, format string, c cluster.Consistency, w io.Writer) error {
	var ew export.Writer
	switch format {
	case "xes":
		ew = export.NewXESWriter(w)
	case "csv":
		ew = export.NewCSVWriter(w)
	default:
		return fmt.Errorf("unknown format %q (want xes or csv)", format)
	}
	// One confirmation that the node leads covers every case read
	// after it.
	if c == cluster.Linearizable {
		if err := a.n.VerifyLeader(); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		ids = a.n.FSM().CasesByStart()
	}
	for _, id := range ids {
		st, _, ok := a.n.FSM().Case(id)
		evs, _, eok := a.n.FSM().CaseEvents(id)
		if !ok || !eok {
			return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
		}
		if err := a.trace(id, st, evs, ew); err != nil {
			return err
		}
	}
	return ew.Close()
}

// trace writes case id's events as process-mining events, as
// Service.trace does.
func (a *ClusterAPI) trace(id string, st *engine.State, evs []cluster.Event, w export.Writer) error {
	return traceEvents(w, id, a.progOf(id), a.caseHash(id), st, evs, a.newEvents(id))
}

// traceEvents writes the events evs of case id (in state st), folded by
// r, as process-mining events: Service.trace for the replicated APIs,
// which fold a case's events out of their FSM.
func traceEvents(w export.Writer, id string, prog *ir.Program, hash string, st *engine.State, evs []cluster.Event, r *clusterEvents) error {
	wf := ""
	if int(st.Net) < len(prog.Nets) {
		wf = prog.Nets[st.Net].Name
	}
	if err := w.Begin(id, []export.Attr{{Key: "workflow", Value: wf}, {Key: "descriptor", Value: hash}}); err != nil {
		return err
	}
	var at time.Time
	var next int32
	var werr error
	add := func(activity, lifecycle, resource string) {
		if werr == nil {
			werr = w.Event(export.Event{Activity: activity, Lifecycle: lifecycle, Time: at, Resource: resource})
		}
	}
	err := r.read(evs, func(_ store.Seq, st *engine.State, ev *engine.Event) error {
		at = time.Unix(0, ev.Time).UTC()
		history.Ended(prog, st, ev, add)
		next = st.NextInv
		return werr
	}, func(st *engine.State) error {
		history.Started(prog, st, next, add)
		return werr
	})
	if err != nil {
		return err
	}
	return werr
}

// program is the program of case id as the history's namer wants it.
func (a *ClusterAPI) program(id string) *Program {
	return &Program{Hash: a.caseHash(id), prog: a.progOf(id)}
}

func errNegative(field string, v int64) error { return fmt.Errorf("%s is negative (%d)", field, v) }

func errFormat(f string) error { return fmt.Errorf("unknown format %q (want xes or csv)", f) }

// ClusterHistory is the answer of GET /cluster/v1/cases/{id}/history.
type ClusterHistory struct {
	Entries []HistoryEntry `json:"entries"`
	// Next is the from of the next page, 0 when this is the last.
	Next int64  `json:"next,omitempty"`
	Node string `json:"node"`
}

// historyJSON serves a page of a case's history (?from=N&size=M, and
// detail=1 for every event): linearizable on the leader (a follower
// forwards it), or this node's copy with ?consistency=stale.
func (a *ClusterAPI) historyJSON(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := cluster.Linearizable
	switch v := q.Get("consistency"); v {
	case "", "linearizable":
	case "stale":
		c = cluster.Stale
	default:
		fail(w, fmt.Errorf("consistency %q: want linearizable or stale", v))
		return
	}
	if c == cluster.Linearizable && !a.n.IsLeader() {
		a.forward(w, r)
		return
	}
	var from, size int64
	for name, p := range map[string]*int64{"from": &from, "size": &size} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				fail(w, fmt.Errorf("%s %q: want a whole number", name, v))
				return
			}
			*p = n
		}
	}
	hs, next, err := a.history(r.Context(), r.PathValue("id"), from, int(min(size, 1000)), q.Get("detail") == "1", c)
	if err != nil {
		fail(w, err)
		return
	}
	if hs == nil {
		hs = []HistoryEntry{}
	}
	writeJSON(w, http.StatusOK, ClusterHistory{Entries: hs, Next: next, Node: a.n.ID()})
}
