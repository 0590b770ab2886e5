// This file implements the cases of a Service: starting one (idempotent
// on a request id or business key), where each stands, and waiting for
// one to change.

package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/engine"
)

// Summary is where a case stands.
type Summary struct {
	ID       string   `json:"id"`
	Workflow string   `json:"workflow"`
	Program  string   `json:"program"`
	Key      string   `json:"key,omitempty"`
	Request  string   `json:"request,omitempty"`
	Start    int64    `json:"start,omitempty"` // Unix nanoseconds
	Status   string   `json:"status"`
	Result   string   `json:"result,omitempty"` // JSON
	Error    string   `json:"error,omitempty"`
	Waiting  []string `json:"waiting,omitempty"`
	// Idle: the case waits for a signal and for nothing else but timers
	// (no call running or backing off), where knhk run stops.
	Idle bool `json:"idle,omitempty"`
	// ErrorAt is where a failed case failed, when the source is known.
	ErrorAt *SourceRange `json:"error_at,omitempty"`
}

// SourceRange is a span of a source file, 1-based, columns in bytes.
type SourceRange struct {
	File                             string
	Line, Column, EndLine, EndColumn int
}

// Done reports whether the case has ended.
func (s *Summary) Done() bool {
	switch s.Status {
	case "completed", "failed", "cancelled":
		return true
	}
	return false
}

// caseEntry is a case the Service knows.
type caseEntry struct {
	id string

	mu      sync.Mutex
	sum     Summary
	changed chan struct{} // closed and replaced when sum changes
	// kick wakes the case's driver (buffered 1); the driver makes it
	// and drops it when it exits (under mu), so a parked or ended case
	// holds none.
	kick chan struct{}

	// ready is closed once the driver's first Start or Recover returned:
	// from then on the engine holds the case until it ends or is parked.
	// Replaced (under mu) when a parked case is rehydrated; read it with
	// readyC.
	ready chan struct{}
	// parked is set (under mu) while the case is parked (park.go).
	parked *park
	// op is held shared by the calls that run or read the case in the
	// engine (signal, cancel, query) and by a timer's wake, and tried
	// exclusively by the driver to park it, so that a case is never
	// parked under a call.
	op sync.RWMutex

	startOnce sync.Once
	started   chan struct{} // closed once the case's first event is durable, or its start failed
	startErr  error

	// run is its Service's running count once listed, counted whether
	// the case is in it (under mu; starts.go).
	run     *runningCount
	counted bool
}

func newEntry(sum Summary) *caseEntry {
	return &caseEntry{id: sum.ID, sum: sum, started: make(chan struct{}), ready: make(chan struct{})}
}

// closed is a channel that is closed: the started and ready channels of
// every ended case Open reads from the index, which never change.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// endedEntry is the entry of a case that ended before Open and that
// nothing will drive again: it allocates no channels (a server holds
// many of these). Its changed channel is nil: Wait and WatchHistory see
// the case has ended before they would wait on it.
func endedEntry(sum Summary) *caseEntry {
	e := &caseEntry{id: sum.ID, sum: sum, started: closed, ready: closed}
	e.startOnce.Do(func() {})
	return e
}

func (e *caseEntry) summary() Summary {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.sum
	s.Waiting = append([]string(nil), s.Waiting...)
	return s
}

// watch returns the summary and a channel closed at its next change.
// The channel is made for the first watcher: most cases, a million
// parked ones say, are never watched.
func (e *caseEntry) watch() (Summary, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.changed == nil {
		e.changed = make(chan struct{})
	}
	return e.sum, e.changed
}

// set replaces e's summary and wakes its watchers, unless nothing a
// watcher sees changed (a signal's caller and the case's driver both
// bring the summary up to date after a signal).
func (e *caseEntry) set(sum Summary) {
	e.mu.Lock()
	if sameSummary(&e.sum, &sum) {
		e.mu.Unlock()
		return
	}
	e.sum = sum
	e.recountLocked()
	if e.changed != nil {
		close(e.changed)
		e.changed = nil
	}
	e.mu.Unlock()
}

// sameSummary reports whether a and b say the same.
func sameSummary(a, b *Summary) bool {
	return a.ID == b.ID && a.Workflow == b.Workflow && a.Program == b.Program && a.Key == b.Key &&
		a.Request == b.Request && a.Start == b.Start && a.Status == b.Status && a.Result == b.Result &&
		a.Error == b.Error && a.Idle == b.Idle && slices.Equal(a.Waiting, b.Waiting) &&
		(a.ErrorAt == nil) == (b.ErrorAt == nil) && (a.ErrorAt == nil || *a.ErrorAt == *b.ErrorAt)
}

func (e *caseEntry) markStarted(err error) {
	e.startOnce.Do(func() {
		e.mu.Lock()
		e.startErr = err
		close(e.started)
		e.started = closed // one closed channel for every started case
		e.recountLocked()
		e.mu.Unlock()
	})
}

// startedC returns the channel closed once e's start is durable or
// failed (see caseEntry.started).
func (e *caseEntry) startedC() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.started
}

// startError is the start's error, once startedC is closed.
func (e *caseEntry) startError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.startErr
}

// poke wakes e's driver, if it has one, to look at the case again.
func (e *caseEntry) poke() {
	e.mu.Lock()
	kick := e.kick
	e.mu.Unlock()
	if kick == nil {
		return
	}
	select {
	case kick <- struct{}{}:
	default:
	}
}

// appended is the event log's hook for a case's first durable record:
// it acknowledges the case's start.
func (s *Service) appended(caseID string) {
	s.mu.Lock()
	e := s.cases[caseID]
	s.mu.Unlock()
	if e != nil {
		e.markStarted(nil)
	}
}

// StartRequest is what Start takes.
type StartRequest struct {
	Workflow string
	Program  string // a hash; empty: the latest deployed program declaring Workflow
	Input    []byte // JSON, nil for none
	Request  string // the caller's request id
	Key      string // the business key
}

// caseMeta is DIR/cases/ID.json, as knhk run writes it, with the start's
// keys added.
type caseMeta struct {
	Case       string `json:"case"`
	Workflow   string `json:"workflow"`
	Descriptor string `json:"descriptor"`
	Source     string `json:"source"`
	Request    string `json:"request,omitempty"`
	Key        string `json:"key,omitempty"`
	Start      int64  `json:"start,omitempty"`
	// Mock is the mock of a case knhk run --mock started (see
	// mocked.go); never set by the server.
	Mock json.RawMessage `json:"mock,omitempty"`
}

// validKey bounds request ids and business keys.
const maxKey = 1024

// Start starts a case and returns its id once its first event is
// durable. A request id or business key that named a case before
// returns that case, with existing set, and starts nothing.
func (s *Service) Start(ctx context.Context, r StartRequest) (id string, existing bool, err error) {
	if err := s.enter(); err != nil {
		return "", false, err
	}
	defer s.leave()
	switch {
	case r.Workflow == "":
		return "", false, errf(CodeInvalidArgument, "workflow", "name the workflow to start")
	case len(r.Request) > maxKey:
		return "", false, errf(CodeInvalidArgument, "request_id", "the request id is longer than %d bytes", maxKey)
	case len(r.Key) > maxKey:
		return "", false, errf(CodeInvalidArgument, "business_key", "the business key is longer than %d bytes", maxKey)
	}
	if e := s.known(r); e != nil {
		return s.awaitStart(ctx, e, true)
	}
	var p *Program
	if r.Program != "" {
		if p, err = s.deployedProgram(r.Program); err != nil {
			return "", false, err
		}
	} else if p = s.latest(r.Workflow); p == nil {
		return "", false, errf(CodeNotFound, "workflow", "no deployed program declares workflow %s", r.Workflow)
	}
	net := p.prog.Net(r.Workflow)
	if net == nil || strings.Contains(r.Workflow, ".") {
		return "", false, errf(CodeNotFound, "workflow", "no workflow %s (program %s declares: %s)", r.Workflow, p.Hash, listOrNone(p.Workflows))
	}
	vals, err := caseio.DecodeInput(p.prog, net, r.Input)
	if err != nil {
		return "", false, &Error{Code: CodeInvalidArgument, Field: "input_json", Message: "bad input for " + net.Name + ": " + err.Error(), Err: err}
	}
	id, err = newCaseID()
	if err != nil {
		return "", false, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	sum := Summary{ID: id, Workflow: net.Name, Program: p.Hash, Key: r.Key, Request: r.Request, Status: "running", Start: time.Now().UnixNano()}
	e := newEntry(sum)
	s.mu.Lock()
	if prev := s.knownLocked(r); prev != nil {
		s.mu.Unlock()
		return s.awaitStart(ctx, prev, true)
	}
	s.addLocked(e)
	s.mu.Unlock()
	if s.opts.AdmitStart != nil {
		release, err := s.opts.AdmitStart(net.Name)
		if err != nil {
			s.forget(e)
			e.markStarted(err)
			return "", false, &Error{Code: CodeFailedPrecondition, Message: err.Error(), Err: err}
		}
		defer release()
	}
	meta, err := json.Marshal(caseMeta{Case: id, Workflow: net.Name, Descriptor: p.Hash, Source: p.Name, Request: r.Request, Key: r.Key, Start: sum.Start})
	if err != nil {
		s.forget(e)
		e.markStarted(err)
		return "", false, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	args := engine.Boxed(vals)
	// Not the named result id: returning (a caller that gave up) resets
	// it, possibly before the driver reads it.
	caseID, wf := id, net.Name
	// The start is recorded durably before its first event, so that a
	// case in the log always has its program and keys: the case's
	// events are held until then, while the engine runs it to its first
	// wait, so the two writes overlap instead of taking turns.
	release := s.log.hold(caseID)
	s.drivers.Add(1)
	go s.drive(e, p, func(ctx context.Context) error {
		recorded := make(chan struct{})
		go func() {
			defer close(recorded)
			release(s.metas.append(meta))
		}()
		err := p.eng.Start(ctx, caseID, wf, args)
		<-recorded // the driver outlives the writes it began
		return err
	})
	return s.awaitStart(ctx, e, false)
}

// awaitStart waits until e's start is durable or failed.
func (s *Service) awaitStart(ctx context.Context, e *caseEntry, existing bool) (string, bool, error) {
	select {
	case <-e.startedC():
	case <-ctx.Done():
		return "", false, &Error{Code: CodeDeadlineExceeded, Message: "the start was not acknowledged in time; retry it with the same request id", Err: ctx.Err()}
	}
	if err := e.startError(); err != nil {
		return "", false, &Error{Code: CodeInternal, Message: "case " + e.id + " did not start: " + err.Error(), Err: err}
	}
	return e.id, existing, nil
}

func (s *Service) known(r StartRequest) *caseEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knownLocked(r)
}

func (s *Service) knownLocked(r StartRequest) *caseEntry {
	if r.Request != "" {
		if e := s.byReq[r.Request]; e != nil {
			return e
		}
	}
	if r.Key != "" {
		if e := s.byKey[r.Key]; e != nil {
			return e
		}
	}
	return nil
}

// grow makes room for n more cases (Open, before it reads n cases from
// the index).
func (s *Service) grow(n int) {
	s.mu.Lock()
	cases := make(map[string]*caseEntry, len(s.cases)+n)
	maps.Copy(cases, s.cases)
	s.cases = cases
	s.list = slices.Grow(s.list, n)
	s.mu.Unlock()
	s.log.grow(n)
}

func (s *Service) addLocked(e *caseEntry) {
	e.track(&s.running)
	s.cases[e.id] = e
	s.list = append(s.list, e)
	if e.sum.Request != "" {
		s.byReq[e.sum.Request] = e
	}
	if e.sum.Key != "" {
		s.byKey[e.sum.Key] = e
	}
}

// forget drops a case whose start failed before anything was durable.
func (s *Service) forget(e *caseEntry) {
	e.track(nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cases, e.id)
	if s.byReq[e.sum.Request] == e {
		delete(s.byReq, e.sum.Request)
	}
	if s.byKey[e.sum.Key] == e {
		delete(s.byKey, e.sum.Key)
	}
	for i := len(s.list) - 1; i >= 0; i-- {
		if s.list[i] == e {
			s.list = append(s.list[:i], s.list[i+1:]...)
			break
		}
	}
}

func (s *Service) deployedProgram(hash string) (*Program, error) {
	if !descriptorHash.MatchString(hash) {
		return nil, errf(CodeInvalidArgument, "program", "bad program hash %q", hash)
	}
	s.mu.Lock()
	p := s.progs[hash]
	s.mu.Unlock()
	if p == nil {
		return nil, errf(CodeNotFound, "program", "no deployed program %s", hash)
	}
	return p, nil
}

// entry returns case id, or a CodeNotFound error.
func (s *Service) entry(id string) (*caseEntry, error) {
	s.mu.Lock()
	e := s.cases[id]
	s.mu.Unlock()
	if e == nil {
		return nil, errf(CodeNotFound, "case_id", "no case %s", id)
	}
	select {
	case <-e.startedC():
	default:
		return nil, errf(CodeNotFound, "case_id", "no case %s", id)
	}
	return e, nil
}

// Get returns where case id stands.
func (s *Service) Get(id string) (Summary, error) {
	if err := s.enter(); err != nil {
		return Summary{}, err
	}
	defer s.leave()
	e, err := s.entry(id)
	if err != nil {
		return Summary{}, err
	}
	return e.summary(), nil
}

// Wait waits until case id ends (or, with orIdle, is idle: see
// Summary.Idle), ctx is done or the Service drains, and returns where it
// stands and whether it ended.
func (s *Service) Wait(ctx context.Context, id string, orIdle bool) (Summary, bool, error) {
	if err := s.enter(); err != nil {
		return Summary{}, false, err
	}
	defer s.leave()
	e, err := s.entry(id)
	if err != nil {
		return Summary{}, false, err
	}
	for {
		sum, ch := e.watch()
		if sum.Done() {
			return e.summary(), true, nil
		}
		if sum.Status == StatusMocked { // nothing here moves it on
			return sum, false, &Error{Code: CodeFailedPrecondition, Message: sum.Error}
		}
		if orIdle && sum.Idle {
			return e.summary(), false, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return e.summary(), false, nil
		case <-s.stop:
			return e.summary(), false, nil
		}
	}
}

// summarize computes the summary of state st of case e.
func summarize(p *Program, old Summary, st *engine.State) Summary {
	sum := old
	sum.Status = st.Status.String()
	sum.Waiting, sum.Idle = nil, false
	sum.Error, sum.ErrorAt = "", nil
	switch st.Status {
	case engine.Completed:
		if int(st.Net) < len(p.prog.Nets) {
			r, err := resultJSON(p.prog, p.prog.Nets[st.Net], st.Result)
			if err != nil {
				sum.Error = "internal error: the result: " + err.Error()
			}
			sum.Result = r
		}
	case engine.Failed, engine.Failing, engine.CompFailed:
		sum.Error = "case " + st.ID + " failed: " + st.Error
		if loc := st.ErrorLoc; loc.Known() {
			if f := p.files[loc.File]; f != nil {
				a, b := f.Position(loc.Span.Start), f.Position(loc.Span.End)
				sum.ErrorAt = &SourceRange{File: f.Name, Line: a.Line, Column: a.Column, EndLine: b.Line, EndColumn: b.Column}
			}
		}
	case engine.Running:
		sum.Waiting = caseio.Waits(p.prog, st)
		sum.Idle = len(sum.Waiting) > 0 && len(st.Invs) == 0
	}
	return sum
}

var validCaseID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// newCaseID returns a fresh random case id.
func newCaseID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "c-" + hex.EncodeToString(b[:]), nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

var errStop = errors.New("stop")
