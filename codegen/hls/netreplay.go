// This file implements the replay of a case's event log on a dispatch
// module: the engine's events as the module's input, with what the
// module must answer, and the comparison of the testbench's output with
// it. The package's tests and knhk hls --replay both use it.

package hls

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// ReplayStep is one event for the module's testbench and what the module
// must answer to it.
type ReplayStep struct {
	Line string // the testbench input: "KIND TRANS OUTS LABEL"
	What string // for messages: "engine fires a_8", "completion of b_9", ...
	// Kind and Trans, when CheckKind, are the answer a step must give
	// (ResNone: nothing to dispatch).
	CheckKind   bool
	Kind, Trans int
	// The engine's state after the event, when CheckState.
	CheckState           bool
	Marking, Busy, Armed uint64
	Status               int
}

// Replay translates the events of one case of workflow mod.Workflow,
// in log order, into the module's input, replaying them on a shadow state
// of machine m for the state the module must reach after each: the
// engine's decisions (a transition fired, a timer armed, a wait taking a
// buffered signal) become steps that must answer the same; completions,
// timers, signals and failures are fed in as events; before each outside
// event, and at the end of a running case, a step must find nothing to
// dispatch, as the engine did not. It stops at the event that ends the
// case. An event a fitting net cannot produce is an error.
func Replay(m *engine.Machine, mod *NetModule, evs []engine.Event) ([]ReplayStep, error) {
	p := m.Prog
	n := p.Net(mod.Workflow)
	if n == nil {
		return nil, fmt.Errorf("no workflow %s", mod.Workflow)
	}
	var out []ReplayStep
	none := func(why string) ReplayStep {
		return ReplayStep{Line: fmt.Sprintf("%d 0 0 0", EvStep), What: "nothing to dispatch " + why, CheckKind: true, Kind: ResNone}
	}
	outs := func(o []int32, t int32) uint64 {
		if o == nil {
			return 1<<uint(len(mod.OutArcs[t])) - 1
		}
		var x uint64
		for _, k := range o {
			x |= 1 << uint(k)
		}
		return x
	}
	s := &engine.State{ID: "replay"}
	status := StatusIdle
	for i := range evs {
		e := &evs[i]
		var tr *ir.Transition
		if e.Trans >= 0 && int(e.Trans) < len(n.Transitions) {
			tr = n.Transitions[e.Trans]
		}
		fed := true
		switch e.Kind {
		case engine.EvStart:
			if e.Trans < 0 || int(e.Trans) >= len(p.Nets) || p.Nets[e.Trans] != n {
				return nil, fmt.Errorf("event %d starts another workflow than %s", i, mod.Workflow)
			}
			out = append(out, ReplayStep{Line: fmt.Sprintf("%d 0 0 0", EvStart), What: "start"})
		case engine.EvFire, engine.EvArm:
			if e.Frame != 0 || tr == nil {
				return nil, fmt.Errorf("event %d (%v) is in frame %d: the module runs one frame", i, e.Kind, e.Frame)
			}
			st := ReplayStep{CheckKind: true, Kind: ResFire, Trans: int(e.Trans), What: "engine fires " + tr.Name}
			switch {
			case e.Kind == engine.EvArm:
				st.Kind, st.What = ResArm, "engine arms "+tr.Name
			case tr.Kind == ir.TSignal:
				st.Kind, st.What = ResWait, "engine's wait "+tr.Name+" takes a buffered signal"
			}
			st.Line = fmt.Sprintf("%d 0 %x 0", EvStep, outs(e.Outs, e.Trans))
			out = append(out, st)
		case engine.EvTimer:
			if tr == nil {
				return nil, fmt.Errorf("event %d: timer of unknown transition %d", i, e.Trans)
			}
			out = append(out, none("before the timer"),
				ReplayStep{Line: fmt.Sprintf("%d %d %x 0", EvTimer, e.Trans, outs(e.Outs, e.Trans)), What: "timer " + tr.Name})
		case engine.EvDone:
			var inv *engine.Inv
			for _, v := range s.Invs {
				if v.ID == e.Inv {
					inv = v
				}
			}
			if inv == nil || inv.Comp || inv.Hook || inv.Trans < 0 || int(inv.Trans) >= len(n.Transitions) {
				fed = false
				break
			}
			out = append(out, none("before a completion"),
				ReplayStep{Line: fmt.Sprintf("%d %d %x 0", EvDone, inv.Trans, outs(e.Outs, inv.Trans)), What: "completion of " + n.Transitions[inv.Trans].Name})
		case engine.EvSignal:
			label := -1
			for l, name := range mod.Labels {
				if name == e.Name {
					label = l
				}
			}
			if label < 0 {
				fed = false // no wait for it: the control part does not see it
				break
			}
			out = append(out, none("before a signal"), ReplayStep{Line: fmt.Sprintf("%d 0 0 %d", EvSignal, label), What: "signal " + e.Name})
		case engine.EvFail, engine.EvCancel:
			out = append(out, ReplayStep{Line: fmt.Sprintf("%d 0 0 0", EvFail), What: "failure"})
		case engine.EvFailed, engine.EvRetry, engine.EvCompRetry:
			fed = false
		default:
			return nil, fmt.Errorf("event %d is a %v, which a fitting net does not produce", i, e.Kind)
		}
		if err := m.Apply(s, e); err != nil {
			return nil, fmt.Errorf("event %d (%v): %w", i, e.Kind, err)
		}
		switch s.Status {
		case engine.Running:
			status = StatusRunning
		case engine.Completed:
			status = StatusCompleted
		default:
			status = StatusEnded
		}
		if !fed && status == StatusEnded {
			// A call's last attempt failed: the case fails outside the
			// control part.
			out = append(out, ReplayStep{Line: fmt.Sprintf("%d 0 0 0", EvFail), What: "failure"})
			fed = true
		}
		if len(out) == 0 {
			continue
		}
		last := &out[len(out)-1]
		if fed || status != StatusRunning {
			last.CheckState, last.Status = true, status
		}
		if f := s.Root(); f != nil && status == StatusRunning && last.CheckState {
			counts := make([]int, len(f.Marking))
			for q, c := range f.Marking {
				if q >= len(mod.PlaceWidth) || int(c) > mod.PlaceWidth[q] {
					return nil, fmt.Errorf("after event %d place %s holds %d tokens, more than the search found", i, n.Places[q].Name, c)
				}
				counts[q] = int(c)
			}
			last.Marking = Thermo(counts, mod.PlaceOff, mod.PlaceWidth)
			calls := make([]int, len(n.Transitions))
			for _, v := range s.Invs {
				if v.Frame == 0 && !v.Comp && !v.Hook && v.Trans >= 0 && int(v.Trans) < len(calls) {
					calls[v.Trans]++
				}
			}
			for t, c := range calls {
				if c > mod.BusyWidth[t] {
					return nil, fmt.Errorf("after event %d transition %s runs %d calls, more than the search found", i, n.Transitions[t].Name, c)
				}
			}
			last.Busy = Thermo(calls, mod.BusyOff, mod.BusyWidth)
			for _, tm := range s.Timers {
				last.Armed |= 1 << tm.Trans
			}
		}
		if status != StatusRunning {
			return out, nil
		}
	}
	if status == StatusRunning {
		out = append(out, none("at the end"))
	}
	return out, nil
}

// ReplayInput is the testbench input of steps, one line each.
func ReplayInput(steps []ReplayStep) string {
	var sb strings.Builder
	for _, st := range steps {
		sb.WriteString(st.Line)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// CheckReplay compares the testbench's output on [ReplayInput] with the
// answers steps require; the error names the first difference. It
// returns the number of dispatch decisions compared.
func CheckReplay(mod *NetModule, steps []ReplayStep, output string) (int, error) {
	lines := strings.Split(strings.TrimSpace(output), "\n")
	if len(lines) != len(steps) {
		return 0, fmt.Errorf("%d events in, %d results out", len(steps), len(lines))
	}
	decisions := 0
	name := func(t int) string {
		if t >= 0 && t < len(mod.OutArcs) {
			return mod.TransNames[t]
		}
		return strconv.Itoa(t)
	}
	for i, st := range steps {
		f := strings.Fields(lines[i])
		if len(f) != 6 {
			return decisions, fmt.Errorf("result %d: %q is not KIND TRANS MARKING BUSY ARMED STATUS", i+1, lines[i])
		}
		var v [6]uint64
		for k, x := range f {
			base := 10
			if k >= 2 && k <= 4 {
				base = 16
			}
			n, err := strconv.ParseUint(x, base, 64)
			if err != nil {
				return decisions, fmt.Errorf("result %d: %q: %v", i+1, lines[i], err)
			}
			v[k] = n
		}
		if st.CheckKind {
			if int(v[0]) != st.Kind || st.Kind != ResNone && int(v[1]) != st.Trans {
				got := "nothing"
				if v[0] != ResNone {
					got = fmt.Sprintf("%s %s", resNames[v[0]%4], name(int(v[1])))
				}
				return decisions, fmt.Errorf("event %d (%s): the module dispatches %s", i+1, st.What, got)
			}
			if st.Kind != ResNone {
				decisions++
			}
		}
		if st.CheckState {
			if int(v[5]) != st.Status {
				return decisions, fmt.Errorf("after event %d (%s): module status %d, engine %d", i+1, st.What, v[5], st.Status)
			}
			if st.Status == StatusRunning && (v[2] != st.Marking || v[3] != st.Busy || v[4] != st.Armed) {
				return decisions, fmt.Errorf("after event %d (%s): module marking %x busy %x armed %x, engine %x %x %x", i+1, st.What, v[2], v[3], v[4], st.Marking, st.Busy, st.Armed)
			}
		}
	}
	return decisions, nil
}

var resNames = [...]string{"nothing", "fires", "arms", "wait takes a signal in"}
