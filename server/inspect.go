// This file implements what the web console (server/console) shows of a
// case beyond its Summary: the program's source, the engine state (for
// the marking), the input, which steps have fired, and the history named
// after the user-level view of compiler/view. The console calls it in
// process, as the CLI's embedded mode calls the Service.

package server

import (
	"context"
	"encoding/json"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/history"
	"github.com/knhk/knhk/runtime/store"
)

// Files returns the source files the program was deployed from, by
// Program.Files index; nil when it was deployed as a descriptor.
func (p *Program) Files() map[int32]*source.File { return p.files }

// Text returns the source text at l, "" when unknown (a program
// deployed as a descriptor has none).
func (p *Program) Text(l ir.Loc) string {
	f := p.files[l.File]
	if f == nil || !l.Known() || l.Span.End <= l.Span.Start || int(l.Span.End) > len(f.Content) {
		return ""
	}
	return string(f.Content[l.Span.Start:l.Span.End])
}

// Line returns the 1-based source line of l, 0 when unknown.
func (p *Program) Line(l ir.Loc) int {
	f := p.files[l.File]
	if f == nil || !l.Known() {
		return 0
	}
	return f.Position(l.Span.Start).Line
}

// ProgramByHash returns deployed program hash.
func (s *Service) ProgramByHash(hash string) (*Program, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	return s.deployedProgram(hash)
}

// Step is a (net, transition) pair of a program.
type Step struct{ Net, Trans int32 }

// ViewEntry is a history entry with how the user-level view shows it.
type ViewEntry struct {
	HistoryEntry
	// Bookkeeping marks the event of a step the view collapses.
	Bookkeeping bool `json:"bookkeeping,omitempty"`
	// User is the view's name of the step, when it differs from Step.
	User string `json:"user,omitempty"`
}

// Inspection is a case as the web console shows it.
type Inspection struct {
	Summary Summary
	Program *Program
	// State is the engine's state of the case now; read it only.
	State *engine.State
	// Input is the case's arguments as a JSON object by parameter name.
	Input string
	// Fired holds the steps that have fired at least once.
	Fired map[Step]bool
	// History is the last MaxInspectHistory entries; Events counts all.
	History []ViewEntry
	Events  int64
}

// MaxInspectHistory bounds Inspection.History.
const MaxInspectHistory = 1000

// Inspect returns case id as the web console shows it.
func (s *Service) Inspect(ctx context.Context, id string) (*Inspection, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	e, p, st, release, err := s.caseState(ctx, id)
	if err != nil {
		return nil, err
	}
	release() // st is a copy
	in := &Inspection{Summary: e.summary(), Program: p, State: st, Fired: map[Step]bool{}}
	views := map[int32]*view.Graph{}
	err = s.events(ctx, p, id, func(seq store.Seq, before *engine.State, ev *engine.Event) error {
		in.addEvent(p, views, seq, before, ev)
		if len(in.History) > 2*MaxInspectHistory {
			in.History = append(in.History[:0], in.History[len(in.History)-MaxInspectHistory:]...)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, internalUnlessCoded(err) // erase.go
	}
	if len(in.History) > MaxInspectHistory {
		in.History = in.History[len(in.History)-MaxInspectHistory:]
	}
	return in, nil
}

// inputJSON encodes the arguments of a start event as a JSON object by
// parameter name; a value that does not encode is left out.
func inputJSON(p *ir.Program, ev *engine.Event) string {
	if ev.Trans < 0 || int(ev.Trans) >= len(p.Nets) {
		return ""
	}
	net := p.Nets[ev.Trans]
	obj := map[string]json.RawMessage{}
	for i, prm := range net.Params {
		if i >= len(ev.Values) {
			break
		}
		v, err := eval.Retype(p, ev.Values[i], prm.Type) // a logged event is untyped
		if err != nil {
			continue
		}
		if b, err := eval.ToJSON(p, v, prm.Type); err == nil {
			obj[prm.Name] = b
		}
	}
	b, _ := json.Marshal(obj) // raw messages from ToJSON are valid JSON
	return string(b)
}

// addEvent adds event ev, read at seq on state before, to the
// inspection as the console shows it: its history entry with the
// user-level step name, the case's input, and the steps it fired. A
// single server and a raft node inspect a case event by event through it.
func (in *Inspection) addEvent(p *Program, views map[int32]*view.Graph, seq store.Seq, before *engine.State, ev *engine.Event) {
	in.Events++
	h := ViewEntry{HistoryEntry: describe(p.prog, seq, before, ev)}
	if ev.Kind == engine.EvStart && in.Input == "" {
		in.Input = inputJSON(p.prog, ev)
	}
	if ev.Kind == engine.EvSignal {
		if net, trans := caseio.SignalWait(p.prog, before, ev.Name); net >= 0 {
			in.Fired[Step{net, trans}] = true
		}
	}
	if net, trans := history.Step(p.prog, before, ev); net >= 0 {
		if ev.Kind == engine.EvFire || ev.Kind == engine.EvTimer {
			in.Fired[Step{net, trans}] = true
		}
		g := views[net]
		if g == nil {
			g = view.Build(p.prog, int(net), view.Options{Text: p.Text})
			views[net] = g
		}
		name, show := g.Step(p.prog, trans)
		h.Bookkeeping = !show
		if name != h.Step {
			h.User = name
		}
	}
	in.History = append(in.History, h)
}
