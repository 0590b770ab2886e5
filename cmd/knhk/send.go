// This file implements the delivery of signals that a case sends to other
// cases of its data directory (the send statement), for knhk run, signal
// and resume: after the case has run, each signal in its outbox is
// appended to the target case's log exactly once, the target runs on to
// its next wait, and the outcome is recorded in the sender and reported.

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
	"github.com/knhk/knhk/server"
)

// postman finds the target cases of a delivery in a data directory: a
// case this process runs is used as it is; any other is locked, loaded on
// the program it started with and recovered.
type postman struct {
	e       *env
	data    string
	st      *store.Store
	home    *engine.Engine
	engines map[string]*engine.Engine
	locks   []func() error
}

func (p *postman) find(ctx context.Context, id string) (*engine.Engine, error) {
	if p.home.Holds(id) {
		return p.home, nil
	}
	if eng := p.engines[id]; eng != nil {
		return eng, nil
	}
	if !validCaseID.MatchString(id) {
		return nil, fmt.Errorf("%w: unknown case %q", engine.ErrUndeliverable, id)
	}
	m, err := readMeta(p.data, id)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: unknown case %s in %s", engine.ErrUndeliverable, id, p.data)
	case errors.Is(err, errBadMeta):
		return nil, fmt.Errorf("%w: case %s has bad metadata", engine.ErrUndeliverable, id)
	case err != nil:
		return nil, err
	}
	prog, err := loadDescriptor(p.data, m.Descriptor)
	if err != nil {
		return nil, fmt.Errorf("%w: case %s: %v", engine.ErrUndeliverable, id, err)
	}
	if err := appProgram(prog); err != nil {
		// A built binary cannot run another program's case; knhk can, so
		// the signal waits for a later delivery, as for a busy case.
		return nil, err
	}
	if server.Running(p.data) {
		// A knhk serve that started after this process drives the
		// directory's cases without holding their locks: the signal
		// waits for a later delivery, as for a busy case.
		return nil, fmt.Errorf("%w: a knhk serve owns %s", store.ErrCaseBusy, p.data)
	}
	release, err := p.st.LockCase(id)
	if err != nil {
		return nil, err // another process runs it: the signal waits for a later delivery
	}
	p.locks = append(p.locks, release)
	base := "."
	if m.Source != "" {
		base = filepath.Dir(m.Source)
	}
	mock := bindMock(p.data, m)
	eng, err := engine.New(engine.Config{
		Program: prog,
		Eval:    evaluatorOf(prog),
		Worker:  newMockWorker(worker.New(prog, worker.Options{DataDir: p.data, BaseDir: base, Log: p.e.stderr, Mining: dataMiner{p.data}}), prog, mock),
		Clock:   mockClock(mock),
		Log:     engine.StoreLog{Store: p.st},
	})
	if err != nil {
		return nil, err
	}
	if err := eng.Recover(ctx, id); err != nil && !errors.Is(err, engine.ErrBusy) {
		if errors.Is(err, engine.ErrUnknownCase) {
			return nil, fmt.Errorf("%w: unknown case %s in %s", engine.ErrUndeliverable, id, p.data)
		}
		return nil, err
	}
	p.engines[id] = eng
	return eng, nil
}

func (p *postman) release() {
	for _, r := range p.locks {
		r()
	}
}

// report prints one delivery and where its target stands.
func (p *postman) report(ctx context.Context, d host.Delivery) {
	m := d.Mail
	if d.Why != "" {
		fmt.Fprintf(p.e.stderr, "knhk: case %s: signal %s to case %s not delivered: %s\n", m.From, m.Signal, m.To, d.Why)
		return
	}
	where := ""
	if eng, _ := p.find(ctx, m.To); eng != nil {
		if s, err := eng.Snapshot(m.To); err == nil {
			where = "; it is " + s.Status.String()
			if names := waits(eng.Machine().Prog, s); !s.Done() && len(names) > 0 {
				where = "; it is waiting for signal " + strings.Join(names, " or ")
			}
		}
	}
	fmt.Fprintf(p.e.stderr, "case %s: signal %s delivered to case %s%s\n", m.From, m.Signal, m.To, where)
}

// deliverSends delivers what case id of eng has sent to other cases of
// the data directory data, runs the case on when those cases answer it
// (as resume does), and repeats until its outbox is empty. It returns the
// case's state afterwards, s when nothing was sent. A delivery that
// cannot happen now (the target is busy in another process, the log
// fails) is reported and leaves the signal queued in the sender, where a
// later knhk resume of the sender delivers it.
func deliverSends(ctx context.Context, e *env, data string, st *store.Store, eng *engine.Engine, prog *ir.Program, id string, s *engine.State) *engine.State {
	for rounds := 0; len(eng.Outbox(id)) > 0 && rounds < host.MaxPost; rounds++ {
		p := &postman{e: e, data: data, st: st, home: eng, engines: map[string]*engine.Engine{}}
		err := host.Post(ctx, eng, id, p.find, func(d host.Delivery) { p.report(ctx, d) })
		p.release()
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: case %s: %v; the signal stays queued (knhk resume %s delivers it)\n", id, err, id)
			break
		}
		next, err := resume(ctx, eng, prog, id, nil)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: case %s: %v\n", id, err)
			break
		}
		s = next
	}
	if cur, err := eng.Snapshot(id); err == nil {
		s = cur
	}
	return s
}

// sendHistory describes the firing of a send step in knhk history: the
// step is "send S" and its target case goes in To (the event keeps it in
// Name, where a signal event keeps the signal).
func sendHistory(h *historyEntry, t *ir.Transition, ev *engine.Event) {
	if t.Kind != ir.TSend || ev.Kind != engine.EvFire {
		return
	}
	h.Step = "send " + t.Label
	h.Signal, h.To = "", ev.Name
}
