// This file implements Apply: the deterministic transition function of a
// case.

package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// ErrNotApplicable wraps the error Apply returns for an event that does
// not fit the state (a transition that is not enabled, an unknown
// invocation): a corrupt or foreign log. The state is left unchanged.
var ErrNotApplicable = errors.New("event does not apply")

func notApplicable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotApplicable, fmt.Sprintf(format, args...))
}

// Apply folds event e into s. It is deterministic: it reads only s, e and
// the machine's program, so replaying a case's events rebuilds its state
// exactly. An event that does not fit s leaves s unchanged and returns an
// error wrapping [ErrNotApplicable]. An event read from the log is
// typed first ([Machine.TypeEvent]).
func (m *Machine) Apply(s *State, e *Event) error {
	if e.Kind != EvStart && len(s.Frames) == 0 && s.Status == Running {
		return notApplicable("%s before start", e.Kind)
	}
	if err := m.TypeEvent(s, e); err != nil {
		return notApplicable("%v", err)
	}
	var err error
	switch e.Kind {
	case EvStart:
		err = m.start(s, e)
	case EvFire:
		err = m.fire(s, e)
	case EvArm:
		err = m.arm(s, e)
	case EvTimer:
		err = m.timer(s, e)
	case EvDone:
		err = m.done(s, e)
	case EvFailed:
		err = m.failed(s, e)
	case EvRetry:
		v, _ := s.inv(e.Inv)
		if v == nil || !v.Waiting {
			return notApplicable("retry of invocation %d that is not backing off", e.Inv)
		}
		v.Attempt++
		v.Waiting, v.Due = false, 0
	case EvSignal:
		received(s, e)
		m.signal(s, e)
	case EvFail:
		if s.Status != Running {
			return notApplicable("fail of a %s case", s.Status)
		}
		m.failIn(s, e.Frame, e.Message, e.Loc)
	case EvCancel:
		if s.Done() {
			return notApplicable("cancel of a %s case", s.Status)
		}
		s.Status = Cancelled
		m.abandon(s)
		m.dropHooks(s)
	case EvHook:
		err = m.hook(s, e)
	case EvSent:
		err = sent(s, e)
	case EvCompRetry:
		err = m.retryComp(s)
	default:
		return notApplicable("unknown event %s", e.Kind)
	}
	if err == nil {
		s.Now = e.Time
		m.closeHooks(s)
	}
	return err
}

func (m *Machine) start(s *State, e *Event) error {
	if len(s.Frames) != 0 || s.Status != Running {
		return notApplicable("start of a started case")
	}
	c := m.net(e.Trans)
	if c == nil {
		return notApplicable("start of unknown workflow %d", e.Trans)
	}
	s.Net = e.Trans
	f := m.newFrame(s, e.Trans, -1, -1, 0)
	for i := range min(len(e.Values), len(c.n.Params), len(f.Vars)) {
		f.Vars[i] = e.Values[i]
	}
	m.onStart(s, f)
	m.settle(s, f)
	return nil
}

// newFrame adds a frame of net ni with its start token.
func (m *Machine) newFrame(s *State, ni, parent, trans, index int32) *Frame {
	c := m.nets[ni]
	f := &Frame{ID: s.NextFrame, Net: ni, Parent: parent, Trans: trans, Index: index,
		Marking: make([]int32, len(c.init)), Vars: make([]eval.Value, len(c.n.Vars))}
	copy(f.Marking, c.init)
	f.Marking[c.n.Start]++
	s.NextFrame++
	s.Frames = append(s.Frames, f)
	return f
}

// locate returns the frame, compiled net and transition an event names.
func (m *Machine) locate(s *State, e *Event) (*Frame, *cnet, *ctrans, error) {
	if s.Status != Running {
		return nil, nil, nil, notApplicable("%s in a %s case", e.Kind, s.Status)
	}
	f := s.frame(e.Frame)
	if f == nil || !s.live(f) {
		return nil, nil, nil, notApplicable("%s in unknown or ended frame %d", e.Kind, e.Frame)
	}
	c := m.nets[f.Net]
	if e.Trans < 0 || int(e.Trans) >= len(c.trans) {
		return nil, nil, nil, notApplicable("%s of unknown transition %d", e.Kind, e.Trans)
	}
	return f, c, &c.trans[e.Trans], nil
}

func (m *Machine) fire(s *State, e *Event) error {
	f, c, tr, err := m.locate(s, e)
	if err != nil {
		return err
	}
	t := tr.t
	if !m.enabled(s, f, c, e.Trans) {
		return notApplicable("transition %s is not enabled", t.Name)
	}
	inbox := -1
	switch t.Kind {
	case ir.TRoute:
		if e.Choice < 0 || int(e.Choice) >= len(t.Candidates) || t.Candidates[e.Choice] == nil {
			return notApplicable("route %s has no candidate %d", t.Name, e.Choice)
		}
	case ir.TTimer, ir.TInvalid:
		return notApplicable("transition %s of kind %s cannot fire directly", t.Name, t.Kind)
	case ir.TSignal:
		for i, r := range s.Inbox {
			if r.Name == t.Label {
				inbox = i
				break
			}
		}
		if inbox < 0 {
			return notApplicable("signal %s has not arrived", t.Label)
		}
	case ir.TTask, ir.TKernel, ir.TWorkflow, ir.TMulti:
		if t.Call == nil {
			return notApplicable("transition %s has no call", t.Name)
		}
		if (t.Kind == ir.TWorkflow || t.Kind == ir.TMulti) && m.net(t.Call.Target) == nil {
			return notApplicable("transition %s calls an unknown workflow", t.Name)
		}
		if t.Kind == ir.TMulti && (len(e.Values) == 0 || !isList(e.Values[0])) {
			return notApplicable("transition %s has no items", t.Name)
		}
	}
	consume(f, tr)
	m.cancel(s, f, c, tr)
	switch t.Kind {
	case ir.TRoute:
		s.addInv(f, &Inv{ID: s.NextInv, Frame: f.ID, Trans: e.Trans, Call: t.Candidates[e.Choice],
			Args: e.Values, Attempt: 1, Attempts: max(e.Attempts, 1), Started: e.Time, Features: e.Features})
		s.NextInv++
	case ir.TTask, ir.TKernel:
		s.addInv(f, &Inv{ID: s.NextInv, Frame: f.ID, Trans: e.Trans, Call: t.Call,
			Args: e.Values, Attempt: 1, Attempts: max(e.Attempts, 1), Timeout: e.Timeout, Started: e.Time})
		s.NextInv++
		m.startSleep(s.Invs[len(s.Invs)-1], e.Time) // a durable timer (sleep.go)
	case ir.TWorkflow:
		g := &Group{Trans: e.Trans, Items: []eval.Value{{}}, Args: e.Values, Results: []eval.Value{{}}}
		f.Groups = append(f.Groups, g)
		m.spawn(s, f, g)
	case ir.TMulti:
		// Clipped: more on appends to the items, which must not write
		// into the event's list.
		items := slices.Clip(e.Values[0].Elems())
		g := &Group{Trans: e.Trans, Items: items, Args: e.Values[1:], Limit: max(e.Limit, 0),
			Quorum: max(e.Quorum, 0), Results: make([]eval.Value, len(items))}
		f.Groups = append(f.Groups, g)
		takeBuffered(s, t, g)
		m.spawn(s, f, g)
	case ir.TSignal:
		r := s.Inbox[inbox]
		s.Inbox = append(s.Inbox[:inbox], s.Inbox[inbox+1:]...)
		bind(s, f, t, r.Payload)
		produce(f, tr, e.Outs)
	case ir.TAssign:
		if t.Result >= 0 && len(e.Values) > 0 {
			s.setVar(f, t.Result, e.Values[0])
		}
		produce(f, tr, e.Outs)
	case ir.TReturn:
		if len(e.Values) > 0 {
			f.Result = e.Values[0]
		}
		produce(f, tr, e.Outs)
	case ir.TFail:
		produce(f, tr, e.Outs)
		msg := e.Message
		if msg == "" && len(e.Values) > 0 {
			msg = message(e.Values[0])
		}
		m.failIn(s, f.ID, msg, t.Loc)
		return nil
	case ir.TCancel:
		if t.Cancel == ir.CancelCase {
			// The statement cancel case ends the whole case, from whatever
			// frame it runs in, as cancelled. (A return or fail that
			// carries CancelCase only clears its frame and then ends the
			// case its own way.)
			m.cancelCase(s)
			return nil
		}
		produce(f, tr, e.Outs)
	case ir.TMarker:
		mark(f, t)
		produce(f, tr, e.Outs)
	case ir.TSend:
		produce(f, tr, e.Outs)
		m.settle(s, f)
		m.raise(s, t, e)
		return nil
	default: // TNop
		produce(f, tr, e.Outs)
	}
	m.settle(s, f)
	return nil
}

func isList(v eval.Value) bool { return v.Kind() == ir.KindList }

func bind(s *State, f *Frame, t *ir.Transition, payload []eval.Value) {
	for k, v := range t.Bind {
		if k < len(payload) {
			s.setVar(f, v, payload[k])
		}
	}
}

// spawn starts instances of group g of frame p up to its limit, and
// finishes the group when it has nothing to run.
func (m *Machine) spawn(s *State, p *Frame, g *Group) {
	t := m.nets[p.Net].trans[g.Trans].t
	body := t.Call.Target
	bc := m.nets[body]
	for int(g.Next) < len(g.Items) && (g.Limit == 0 || g.Running < g.Limit) {
		f := m.newFrame(s, body, p.ID, g.Trans, g.Next)
		if t.Kind == ir.TMulti {
			if len(f.Vars) > 0 {
				f.Vars[0] = g.Items[g.Next]
			}
			for k, a := range g.Args {
				if k < len(t.Bind) && t.Bind[k] >= 0 && k+1 < len(f.Vars) {
					if f.Alias == nil {
						f.Alias = make([]int32, len(f.Vars))
						for i := range f.Alias {
							f.Alias[i] = -1
						}
					}
					f.Alias[k+1] = t.Bind[k]
				} else if k+1 < len(f.Vars) {
					f.Vars[k+1] = a
				}
			}
		} else {
			for k, a := range g.Args {
				if k < len(f.Vars) && k < len(bc.n.Params) {
					f.Vars[k] = a
				}
			}
			m.onStart(s, f) // a sub-workflow's own start hooks
		}
		g.Next++
		g.Running++
	}
	if groupOver(t, g) {
		m.finishGroup(s, p, g)
	}
}

// finishGroup ends group g of frame p, cancelling its remaining
// instances (unless the transition keeps them, see keepOn), stores the
// results and produces the transition's outputs.
func (m *Machine) finishGroup(s *State, p *Frame, g *Group) {
	c := m.nets[p.Net]
	tr := &c.trans[g.Trans]
	kept := keepOn(tr.t, g)
	if !kept {
		s.dropGroup(p, g.Trans)
	}
	if tr.t.Result >= 0 {
		var v eval.Value
		switch {
		case tr.t.Kind == ir.TWorkflow:
			v = g.Results[0]
		case kept:
			// The results so far, nil for the instances still
			// running: the kept ones go on writing g.Results.
			v = eval.List(slices.Clone(g.Results))
		default:
			v = eval.List(g.Results)
		}
		s.setVar(p, tr.t.Result, v)
	}
	m.onGroupDone(s, p, tr.t)
	produce(p, tr, nil)
}

// settle runs after frame f's marking changed: it disarms f's timers that
// are no longer enabled and completes frames whose end place is marked.
// Only the timers of the frames whose marking changed can have been
// disabled, and every change of a frame's marking is followed by a settle
// of that frame.
func (m *Machine) settle(s *State, f *Frame) {
	for f != nil && s.Status == Running {
		c := m.nets[f.Net]
		if len(s.Timers) > 0 {
			i, j := s.frameTimers(f.ID)
			for k := j - 1; k >= i; k-- {
				if !m.enabled(s, f, c, s.Timers[k].Trans) {
					s.Timers = removeAt(s.Timers, k)
				}
			}
		}
		if f.Marking[c.n.End] == 0 {
			return
		}
		if f.Parent < 0 {
			m.topDone(s, f) // the root, or a hook's action (hook.go)
			return
		}
		if m.onEnd(s, f) {
			return // a sub-workflow completes once its end hooks are resolved
		}
		p := s.frame(f.Parent)
		var g *Group
		if p != nil {
			for _, x := range p.Groups {
				if x.Trans == f.Trans {
					g = x
				}
			}
		}
		s.dropFrame(f)
		if g == nil {
			return
		}
		if f.Index >= 0 && int(f.Index) < len(g.Results) {
			g.Results[f.Index] = f.Result
		}
		g.Done++
		g.Running--
		switch {
		case g.Joined:
			keptDone(s, p, g)
		case groupOver(m.nets[p.Net].trans[g.Trans].t, g):
			m.finishGroup(s, p, g)
		default:
			m.spawn(s, p, g)
		}
		f = p
	}
}

// abandon drops every call, timer and child frame of the main path of
// s (hook actions go on: see hook.go).
func (m *Machine) abandon(s *State) {
	s.abandonMain()
	if r := s.Root(); r != nil {
		for len(r.Groups) > 0 {
			s.dropGroup(r, r.Groups[0].Trans)
		}
	}
}

// failCase fails the case and starts its compensation, once the fail
// hooks and the running hook actions are done.
func (m *Machine) failCase(s *State, msg string, loc ir.Loc) {
	s.Error, s.ErrorLoc = msg, loc
	m.abandon(s)
	if m.closing(s, Failing) {
		return
	}
	s.Status = Failing
	m.nextComp(s)
}

// cancelCase cancels the case from inside (the statement cancel case):
// like a failure it abandons every call and runs the compensations, but
// the case ends Cancelled.
func (m *Machine) cancelCase(s *State) {
	s.Status = Failing
	s.Error = "cancelled"
	s.Cancel = true
	m.abandon(s)
	m.dropHooks(s)
	m.nextComp(s)
}

// nextComp starts the innermost pending compensation, or ends the
// failure when there is none.
func (m *Machine) nextComp(s *State) {
	if len(s.Invs) > 0 {
		return
	}
	if len(s.Comp) == 0 {
		s.Status = Failed
		if s.Cancel {
			s.Status, s.Error, s.ErrorLoc = Cancelled, "", ir.NoLoc
		}
		return
	}
	u := s.Comp[len(s.Comp)-1]
	s.Comp = s.Comp[:len(s.Comp)-1]
	s.Invs = append(s.Invs, &Inv{ID: s.NextInv, Frame: -1, Trans: -1, Call: u.Call, Args: u.Args,
		Attempt: 1, Attempts: m.retries(u.Call) + 1, Comp: true})
	s.NextInv++
}

// retries returns the retry count of call c: its own, else its task's.
func (m *Machine) retries(c *ir.Call) int32 {
	if c.Retry >= 0 {
		return c.Retry
	}
	if t := m.task(c); t != nil && t.Retry > 0 {
		return t.Retry
	}
	return 0
}

// task returns the task call c invokes, or nil.
func (m *Machine) task(c *ir.Call) *ir.Task {
	if c == nil || c.Kind != ir.CallTask || c.Target < 0 || int(c.Target) >= len(m.Prog.Tasks) {
		return nil
	}
	return m.Prog.Tasks[c.Target]
}

// undoOf returns the compensation of call c: its own, else its task's.
func (m *Machine) undoOf(c *ir.Call) *ir.Call {
	if c == nil {
		return nil
	}
	if c.Undo != nil {
		return c.Undo
	}
	if t := m.task(c); t != nil {
		return t.Undo
	}
	return nil
}

func (m *Machine) done(s *State, e *Event) error {
	v, i := s.inv(e.Inv)
	if v == nil || v.Waiting && !m.sleeping(v) {
		return notApplicable("completion of invocation %d that is not running", e.Inv)
	}
	var result eval.Value
	if len(e.Values) > 0 {
		result = e.Values[0]
	}
	if v.Comp {
		s.Invs = removeAt(s.Invs, i)
		m.nextComp(s)
		return nil
	}
	if v.Hook {
		s.Invs = removeAt(s.Invs, i)
		return nil
	}
	f := s.frame(v.Frame)
	if s.Status != Running || f == nil {
		return notApplicable("completion of invocation %d in a %s case", e.Inv, s.Status)
	}
	c := m.nets[f.Net]
	tr := &c.trans[v.Trans]
	s.Invs = removeAt(s.Invs, i)
	f.calls--
	if tr.t.Result >= 0 {
		s.setVar(f, tr.t.Result, result)
	}
	m.onComplete(s, f, v.Call)
	if u := m.undoOf(v.Call); u != nil {
		s.Comp = append(s.Comp, Undo{Call: u, Args: e.Undo})
	}
	produce(f, tr, e.Outs)
	m.settle(s, f)
	return nil
}

func (m *Machine) failed(s *State, e *Event) error {
	v, i := s.inv(e.Inv)
	if v == nil || v.Waiting || v.Attempt != e.Attempt {
		return notApplicable("failure of invocation %d attempt %d that is not running", e.Inv, e.Attempt)
	}
	if v.Attempt < v.Attempts {
		v.Waiting, v.Due = true, e.Due
		return nil
	}
	s.Invs = removeAt(s.Invs, i)
	s.uncount(v)
	if v.Comp {
		m.compFailed(s, v, e.Message) // compretry.go
		return nil
	}
	if v.Hook {
		s.HookErrors = append(s.HookErrors, hookLabel(m.actionHook(v.Call, -1), v.Trans)+": "+e.Message)
		return nil
	}
	loc := ir.NoLoc
	if v.Call != nil {
		loc = v.Call.Loc
	}
	m.failIn(s, v.Frame, e.Message, loc)
	return nil
}

func (m *Machine) arm(s *State, e *Event) error {
	f, c, tr, err := m.locate(s, e)
	if err != nil {
		return err
	}
	if tr.t.Kind != ir.TTimer || !m.enabled(s, f, c, e.Trans) {
		return notApplicable("arming %s, which is not an enabled timer", tr.t.Name)
	}
	i, found := s.timerAt(f.ID, e.Trans)
	if found {
		return notApplicable("timer %s is already armed", tr.t.Name)
	}
	s.Timers = slices.Insert(s.Timers, i, Timer{Frame: f.ID, Trans: e.Trans, Due: e.Due})
	return nil
}

func (m *Machine) timer(s *State, e *Event) error {
	f, c, tr, err := m.locate(s, e)
	if err != nil {
		return err
	}
	k, found := s.timerAt(f.ID, e.Trans)
	if !found || !m.enabled(s, f, c, e.Trans) {
		return notApplicable("timer %s is not armed", tr.t.Name)
	}
	s.Timers = removeAt(s.Timers, k)
	consume(f, tr)
	m.cancel(s, f, c, tr)
	produce(f, tr, e.Outs)
	m.settle(s, f)
	return nil
}

// signal delivers a signal to the first enabled wait for it, frame by
// frame, or buffers it (drops it when it is transient).
func (m *Machine) signal(s *State, e *Event) {
	if s.Status != Running {
		return
	}
	m.onSignal(s, e.Name)
	if f, c, ti := m.enabledWait(s, e.Name); f != nil {
		tr := &c.trans[ti]
		consume(f, tr)
		m.cancel(s, f, c, tr)
		bind(s, f, tr.t, e.Values)
		produce(f, tr, nil)
		m.settle(s, f)
		return
	}
	if m.addInstance(s, e) {
		return
	}
	for _, d := range m.nets[s.Net].n.Signals {
		if d != nil && d.Name == e.Name && d.Transient {
			return
		}
	}
	s.Inbox = append(s.Inbox, Received{Name: e.Name, Payload: e.Values})
}
