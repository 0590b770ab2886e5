// This file implements what a client does to a running case: signal,
// cancel and query it.

package server

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/engine"
)

// caseState returns case id with its program and engine state; ended
// cases are rebuilt from the log (see stateOf), parked ones handed back
// to the engine. It holds the case's op lock (shared) until release is
// called, so that the case is not parked under the caller.
func (s *Service) caseState(ctx context.Context, id string) (e *caseEntry, p *Program, st *engine.State, release func(), err error) {
	e, err = s.entry(id)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	e.op.RLock()
	p, st, err = s.heldState(ctx, e)
	if err != nil {
		e.op.RUnlock()
		return nil, nil, nil, nil, err
	}
	// The driver looks again once the caller is done, and parks the
	// case again if it still waits.
	return e, p, st, func() { e.op.RUnlock(); e.poke() }, nil
}

// heldState is caseState with e's op lock held.
func (s *Service) heldState(ctx context.Context, e *caseEntry) (*Program, *engine.State, error) {
	id := e.id
	if err := s.erasedErr(id); err != nil { // erase.go
		return nil, nil, err
	}
	sum := e.summary()
	if sum.Status == StatusMocked {
		return nil, nil, &Error{Code: CodeFailedPrecondition, Message: sum.Error}
	}
	p, err := s.program(sum.Program)
	if err != nil {
		return nil, nil, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	if !sum.Done() {
		if err := s.unpark(e); err != nil {
			return nil, nil, err
		}
		select {
		case <-e.readyC():
		case <-ctx.Done():
			return nil, nil, &Error{Code: CodeDeadlineExceeded, Message: "case " + id + " is still being recovered", Err: ctx.Err()}
		case <-s.stop:
			return nil, nil, &Error{Code: CodeUnavailable, Message: ErrClosed.Error(), Err: ErrClosed}
		}
	}
	st, err := p.eng.Snapshot(id)
	if err == nil {
		err = s.log.sync(ctx, id) // what the caller sees is durable
		if err != nil {
			return nil, nil, &Error{Code: CodeUnavailable, Message: "case " + id + ": " + err.Error(), Err: err}
		}
	} else {
		if st, err = s.stateOf(ctx, p, id); err != nil {
			return nil, nil, &Error{Code: CodeInternal, Message: "case " + id + ": " + err.Error(), Err: err}
		}
	}
	return p, st, nil
}

// stateOf rebuilds the state of a case the engine does not hold (it
// ended) from its latest snapshot and the events after it.
func (s *Service) stateOf(ctx context.Context, p *Program, id string) (*engine.State, error) {
	m := p.eng.Machine()
	st := &engine.State{ID: id}
	err := s.log.ReplaySnapshot(ctx, id, func(b []byte) error {
		x, _, err := m.DecodeState(b)
		if err == nil {
			*st = *x
		}
		return err
	}, func(ev *engine.Event) error { return m.Apply(st, ev) })
	return st, err
}

// Signal delivers signal name with payload (JSON, nil for none) to case
// id and returns where the case stands once it has run on.
func (s *Service) Signal(ctx context.Context, id, name string, payload []byte) (Summary, error) {
	return s.SignalOnce(ctx, id, name, payload, "")
}

// SignalOnce is Signal made idempotent by requestID (none when ""): the
// case records the id with the signal (the engine's once-only delivery
// of mail, State.MailSeen), so a retry with the same id, also after a
// crash or once the signal ended the case, delivers nothing and
// succeeds.
func (s *Service) SignalOnce(ctx context.Context, id, name string, payload []byte, requestID string) (Summary, error) {
	if err := s.enter(); err != nil {
		return Summary{}, err
	}
	defer s.leave()
	mailID := ""
	if requestID != "" {
		if len(requestID) > maxKey || strings.Contains(requestID, "/send/") {
			return Summary{}, errf(CodeInvalidArgument, "request_id", "a signal's request id is at most %d bytes and has no \"/send/\"", maxKey)
		}
		mailID = "request " + requestID
	}
	e, p, st, release, err := s.caseState(ctx, id)
	if err != nil {
		return Summary{}, err
	}
	defer release()
	if _, ok := st.MailSeen[mailID]; ok && mailID != "" {
		return s.settled(ctx, p, e) // delivered before
	}
	if st.Done() {
		return Summary{}, errf(CodeFailedPrecondition, "case_id", "case %s has ended (%s); it takes no more signals", id, st.Status)
	}
	root := p.prog.Nets[st.Net]
	sig := caseio.FindSignal(p.prog, root, name)
	if sig == nil {
		return Summary{}, errf(CodeInvalidArgument, "name", "workflow %s has no signal %s (it accepts: %s)", root.Name, name, listOrNone(caseio.SignalNames(root)))
	}
	vals, err := caseio.DecodePayload(p.prog, sig, payload)
	if err != nil {
		return Summary{}, &Error{Code: CodeInvalidArgument, Field: "payload_json", Message: "bad payload for signal " + name + ": " + err.Error(), Err: err}
	}
	if mailID == "" {
		err = p.eng.Signal(ctx, id, name, engine.Boxed(vals))
	} else {
		err = p.eng.Receive(ctx, id, engine.Mail{ID: mailID, To: id, Workflow: root.Name, Signal: name, Payload: vals})
		if errors.Is(err, engine.ErrUndeliverable) {
			// The case ended between the check and the delivery.
			return Summary{}, errf(CodeFailedPrecondition, "case_id", "case %s: %v", id, err)
		}
	}
	e.poke()
	if err != nil && !isBusy(err) {
		return Summary{}, &Error{Code: CodeInternal, Message: "case " + id + ": " + err.Error(), Err: err}
	}
	return s.settled(ctx, p, e)
}

// settled brings e's summary up to date with the engine's state, once
// the events that made that state are durable.
func (s *Service) settled(ctx context.Context, p *Program, e *caseEntry) (Summary, error) {
	if st, err := p.eng.Snapshot(e.id); err == nil {
		if err := s.log.sync(ctx, e.id); err != nil {
			return Summary{}, &Error{Code: CodeUnavailable, Message: "case " + e.id + ": " + err.Error(), Err: err}
		}
		e.set(summarize(p, e.summary(), st))
	}
	return e.summary(), nil
}

// Cancel cancels case id.
func (s *Service) Cancel(ctx context.Context, id string) (Summary, error) {
	if err := s.enter(); err != nil {
		return Summary{}, err
	}
	defer s.leave()
	e, p, st, release, err := s.caseState(ctx, id)
	if err != nil {
		return Summary{}, err
	}
	defer release()
	if st.Done() {
		return Summary{}, errf(CodeFailedPrecondition, "case_id", "case %s has ended (%s)", id, st.Status)
	}
	err = p.eng.Cancel(ctx, id)
	if err == nil {
		err = p.eng.Run(ctx, id)
	}
	e.poke()
	if err != nil && !isBusy(err) {
		return Summary{}, &Error{Code: CodeInternal, Message: "case " + id + ": " + err.Error(), Err: err}
	}
	return s.settled(ctx, p, e)
}

// Query evaluates query name of case id (every query, as one JSON object,
// when name is empty) and returns its JSON.
func (s *Service) Query(ctx context.Context, id, name string) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	_, p, st, release, err := s.caseState(ctx, id)
	if err != nil {
		return nil, err
	}
	defer release()
	net := p.prog.Nets[st.Net]
	qs := net.Queries
	if name != "" {
		qs = nil
		var names []string
		for _, q := range net.Queries {
			if q != nil && q.Name == name {
				qs = append(qs, q)
			}
			names = append(names, q.Name)
		}
		if len(qs) == 0 {
			return nil, errf(CodeInvalidArgument, "name", "workflow %s has no query %s (it declares: %s)", net.Name, name, listOrNone(names))
		}
	}
	var out bytes.Buffer
	if name == "" {
		out.WriteByte('{')
	}
	for i, q := range qs {
		b, err := caseio.QueryWith(ctx, s.queryEval(), p.prog, st, q)
		if err != nil {
			return nil, errf(CodeFailedPrecondition, "name", "query %s of case %s: %v", q.Name, id, err)
		}
		if name == "" {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(strconv.Quote(q.Name))
			out.WriteByte(':')
		}
		out.Write(b)
	}
	if name == "" {
		out.WriteByte('}')
	}
	return out.Bytes(), nil
}

func isBusy(err error) bool { return err != nil && errors.Is(err, engine.ErrBusy) }
