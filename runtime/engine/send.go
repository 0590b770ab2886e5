// This file implements send: a signal raised by a case, delivered exactly
// once.
//
// A TSend fires like any step, in one EvFire that carries the evaluated
// payload (Values) and target case id (Name, empty for the running case).
// Applying it is the durable record of the send:
//
//   - to the running case, the same event delivers the signal: hooks on
//     it fire, and it goes to the inbox when a wait for it is enabled, so
//     that the wait takes it as the next step of its frame (a step of its
//     own, as the soundness model, which treats the send as a plain step,
//     expects); with no wait enabled it takes the path of an arriving
//     EvSignal (a loop with more on starts an instance, a persistent
//     signal is buffered, a transient one dropped). A replay re-delivers
//     it exactly as often as the send fired: once;
//   - to another case, the event puts a [Mail] in the sender's
//     State.Outbox, named by an id derived from the sender and the count
//     of its sends ("CASE/send/N", the same on every replay). Whoever
//     hosts the cases (runtime/host.Post, the knhk commands) delivers it
//     with [Engine.Receive], which appends an EvSignal carrying the mail's
//     id (Event.From) to the target's log unless the target has already
//     received that mail, and then records the outcome in the sender with
//     [Engine.Settle] (an EvSent). A crash between the two re-delivers the
//     mail after recovery and the target's record of what it received
//     drops the duplicate: the target's log holds the signal exactly once.
//     That record (State.MailSeen) keeps, per sending case, the number of
//     the latest mail delivered, so it grows with the number of senders,
//     not of signals: a sender's mail to one case is delivered in the
//     order it was sent, because the host delivers an outbox in order and
//     stops at the first mail it cannot deliver yet.
//
// A mail that cannot be delivered (no such case, a case that has ended,
// one that runs another workflow or does not accept the signal, a payload
// that does not fit) is not retried: EvSent records why, the sender's
// State.Undelivered keeps it, and the sending case goes on. A send is a
// throw that does not wait for its receiver (as a BPMN throw event or
// Temporal's signal to an external workflow from the sender's point of
// view), so its delivery failing is an outcome to report, not a failure
// of the step that already happened.

package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// Mail is a signal one case sent to another, waiting to be delivered.
type Mail struct {
	ID       string // "SENDER/send/N": unique per send, the same on every replay
	From     string // the sending case
	To       string // the target case
	Workflow string // the workflow the target must run
	Signal   string
	Payload  []eval.Value
	Loc      ir.Loc // the send statement
}

// ErrUndeliverable wraps the reason a mail cannot be delivered to its
// target: the target case is unknown or has ended, or does not take the
// signal. [Engine.Receive] returns it; the host records it with
// [Engine.Settle] instead of retrying.
var ErrUndeliverable = errors.New("undeliverable")

func undeliverable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUndeliverable, fmt.Sprintf(format, args...))
}

// sendEvent evaluates the payload and target of TSend t into out.
func (e *Engine) sendEvent(ctx context.Context, t *ir.Transition, vars *frameVars, out *Event) error {
	if t.Send == nil {
		return fmt.Errorf("send without a payload")
	}
	ev := evaluator{e.m, e.eval}
	vals, err := ev.args(ctx, t.Send.Args, vars)
	if err != nil {
		return err
	}
	out.Values = vals
	if t.Send.Case == ir.NoFunc {
		return nil
	}
	v, err := ev.call(ctx, t.Send.Case, vars)
	if err != nil {
		return err
	}
	to := v.AsString()
	if v.Kind() != ir.KindString || to == "" {
		return fmt.Errorf("send %s: the target case id is %s, want a non-empty string", t.Label, describeValue(v))
	}
	out.Name = to
	return nil
}

// describeValue names v for an error message: a string quoted, anything
// else by its kind.
func describeValue(v eval.Value) string {
	switch v.Kind() {
	case ir.KindString:
		return strconv.Quote(v.AsString())
	case ir.KindVoid:
		return "void"
	case ir.KindOptional:
		return "none"
	}
	return "a " + v.Kind().String()
}

// message is the text of a fail statement's value: a string as it is,
// anything else formatted.
func message(v eval.Value) string {
	if v.Kind() == ir.KindString || v.Kind() == ir.KindEnum {
		return v.AsString()
	}
	return v.String()
}

// raise applies the send of a fired TSend t (after its outputs): the
// signal is delivered to the running case itself, or queued as mail.
func (m *Machine) raise(s *State, t *ir.Transition, e *Event) {
	n := s.NextSend
	s.NextSend++
	if e.Name == "" || e.Name == s.ID {
		m.onSelfSignal(s, t.Label, e.Values)
		return
	}
	wf := ""
	if t.Send != nil {
		wf = t.Send.Workflow
	}
	s.Outbox = append(s.Outbox, Mail{ID: s.ID + "/send/" + strconv.Itoa(int(n)), From: s.ID, To: e.Name,
		Workflow: wf, Signal: t.Label, Payload: e.Values, Loc: t.Loc})
}

// onSelfSignal delivers signal name, sent by s to itself: to the inbox
// when a wait for it is enabled (the wait takes it next), else as an
// arriving EvSignal.
func (m *Machine) onSelfSignal(s *State, name string, payload []eval.Value) {
	if s.Status != Running {
		return
	}
	if f, _, _ := m.enabledWait(s, name); f == nil {
		m.signal(s, &Event{Kind: EvSignal, Name: name, Values: payload})
		return
	}
	m.onSignal(s, name)
	s.Inbox = append(s.Inbox, Received{Name: name, Payload: payload})
}

// enabledWait returns the first enabled wait for signal name, frame by
// frame: its frame, net and transition; a nil frame when none is
// enabled.
func (m *Machine) enabledWait(s *State, name string) (*Frame, *cnet, int32) {
	for _, f := range s.Frames {
		if !s.live(f) {
			continue
		}
		c := m.nets[f.Net]
		for _, ti := range c.waits {
			if c.trans[ti].t.Label == name && m.enabled(s, f, c, ti) {
				return f, c, ti
			}
		}
	}
	return nil, nil, 0
}

// received notes the mail an EvSignal from another case delivers.
func received(s *State, e *Event) {
	if e.From == "" {
		return
	}
	from, n := mailNumber(e.From)
	if s.MailSeen == nil {
		s.MailSeen = map[string]int32{}
	}
	if prev, ok := s.MailSeen[from]; !ok || n > prev {
		s.MailSeen[from] = n
	}
}

// seen reports whether the mail with id has been delivered to s.
func seen(s *State, id string) bool {
	from, n := mailNumber(id)
	prev, ok := s.MailSeen[from]
	return ok && n <= prev
}

// mailNumber splits a mail id "SENDER/send/N" into the sender and N. An
// id of another form stands for itself, as mail number 0.
func mailNumber(id string) (string, int32) {
	i := strings.LastIndex(id, "/send/")
	if i < 0 {
		return id, 0
	}
	n, err := strconv.ParseInt(id[i+len("/send/"):], 10, 32)
	if err != nil || n < 0 {
		return id, 0
	}
	return id[:i], int32(n)
}

// sent applies an EvSent: mail Name leaves the outbox; a Message says why
// it could not be delivered.
func sent(s *State, e *Event) error {
	k := slices.IndexFunc(s.Outbox, func(m Mail) bool { return m.ID == e.Name })
	if k < 0 {
		return notApplicable("sent of mail %s that is not in the outbox", e.Name)
	}
	mail := s.Outbox[k]
	s.Outbox = slices.Delete(s.Outbox, k, k+1)
	if e.Message != "" {
		s.Undelivered = append(s.Undelivered, fmt.Sprintf("signal %s to case %s: %s", mail.Signal, mail.To, e.Message))
	}
	return nil
}

// Holds reports whether the engine holds case id (started or recovered
// here and not forgotten).
func (e *Engine) Holds(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cases[id] != nil
}

// Outbox returns the mail case id has sent and not yet settled, oldest
// first.
func (e *Engine) Outbox(id string) []Mail {
	cr, err := e.lookup(id)
	if err != nil {
		return nil
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return slices.Clone(cr.s.Outbox)
}

// Receive delivers mail m to case id, which must run m.Workflow and
// accept m.Signal, and runs it on as [Engine.Signal] does. A mail the
// case has already received is not delivered again (nil). The reasons
// not to deliver wrap [ErrUndeliverable]; other errors (the log) leave
// the mail to be delivered again.
func (e *Engine) Receive(ctx context.Context, id string, m Mail) error {
	cr, err := e.lookup(id)
	if err != nil {
		return undeliverable("unknown case %s", id)
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	s := &cr.s
	if seen(s, m.ID) {
		return nil
	}
	if s.Done() {
		return undeliverable("case %s has ended (%s)", id, s.Status)
	}
	if c := e.m.net(s.Net); c == nil || c.n.Name != m.Workflow {
		name := "?"
		if c != nil {
			name = c.n.Name
		}
		return undeliverable("case %s runs workflow %s, not %s", id, name, m.Workflow)
	}
	if !e.m.accepts(s.Net, m.Signal) {
		return undeliverable("workflow %s of case %s has no signal %s", m.Workflow, id, m.Signal)
	}
	// The payload has the sender's types; the case holds its own.
	vals := m.Payload
	if d := e.m.signalDecl(&cr.s, m.Signal); d != nil {
		if v, err := e.m.ValueArgs(m.Payload, d.Params); err == nil {
			vals = v
		}
	}
	if err := e.commit(ctx, cr, &Event{Kind: EvSignal, Time: e.now(), Name: m.Signal, Values: vals, From: m.ID}); err != nil {
		return err
	}
	if cr.poke() {
		return nil
	}
	return e.run(ctx, cr)
}

// Settle records in the sending case id that mail mailID was delivered
// (why empty) or could not be (why says why). Settling a mail that is no
// longer in the outbox does nothing.
func (e *Engine) Settle(ctx context.Context, id, mailID, why string) error {
	cr, err := e.lookup(id)
	if err != nil {
		return err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !slices.ContainsFunc(cr.s.Outbox, func(m Mail) bool { return m.ID == mailID }) {
		return nil
	}
	return e.commit(ctx, cr, &Event{Kind: EvSent, Time: e.now(), Name: mailID, Message: why})
}

// wireMail is the send bookkeeping of a snapshot.
type wireMail struct {
	Outbox      []wireOut        `json:"outbox,omitempty"`
	Next        int32            `json:"next,omitempty"`
	Seen        map[string]int32 `json:"seen,omitempty"`
	Undelivered []string         `json:"undelivered,omitempty"`
}

type wireOut struct {
	ID       string   `json:"id"`
	From     string   `json:"from"`
	To       string   `json:"to"`
	Workflow string   `json:"workflow"`
	Signal   string   `json:"signal"`
	Payload  []any    `json:"payload"`
	Loc      *wireLoc `json:"loc,omitempty"`
}

// encodeMail returns the send bookkeeping of s for a snapshot, nil when
// it has none.
func encodeMail(s *State) (*wireMail, error) {
	if len(s.Outbox) == 0 && s.NextSend == 0 && s.MailSeen == nil && len(s.Undelivered) == 0 {
		return nil, nil
	}
	w := &wireMail{Next: s.NextSend, Seen: s.MailSeen, Undelivered: s.Undelivered}
	for _, m := range s.Outbox {
		p := eval.TagAll(m.Payload, false)
		w.Outbox = append(w.Outbox, wireOut{ID: m.ID, From: m.From, To: m.To, Workflow: m.Workflow, Signal: m.Signal,
			Payload: p, Loc: encodeLoc(m.Loc)})
	}
	return w, nil
}

// decodeMail restores what encodeMail saved into s.
func decodeMail(w *wireMail, s *State) error {
	if w == nil {
		return nil
	}
	s.NextSend, s.MailSeen, s.Undelivered = w.Next, w.Seen, w.Undelivered
	for _, o := range w.Outbox {
		p, err := eval.UntagAll(o.Payload)
		if err != nil {
			return badSnapshot("mail %s: %v", o.ID, err)
		}
		s.Outbox = append(s.Outbox, Mail{ID: o.ID, From: o.From, To: o.To, Workflow: o.Workflow, Signal: o.Signal,
			Payload: p, Loc: decodeLoc(o.Loc)})
	}
	return nil
}
