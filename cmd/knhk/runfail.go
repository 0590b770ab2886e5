// This file implements the report of a failed case: its message and the
// source position of the step that failed it, found by replaying the
// case's log.

package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/engine"
)

// evalLoc matches the location an eval.Error puts in its text.
var evalLoc = regexp.MustCompile(`file (\d+):(\d+)-(\d+): `)

func reportFailure(e *env, c *compiled, eng *engine.Engine, log engine.EventLog, id string, s *engine.State) {
	msg := s.Error
	loc, ok := failureLoc(c.prog, eng.Machine(), log, id)
	if m := evalLoc.FindStringSubmatchIndex(msg); m != nil {
		f, _ := strconv.Atoi(msg[m[2]:m[3]])
		start, _ := strconv.Atoi(msg[m[4]:m[5]])
		end, _ := strconv.Atoi(msg[m[6]:m[7]])
		loc = ir.Loc{File: int32(f), Span: source.Span{Start: source.Pos(start), End: source.Pos(end)}}
		ok = true
		msg = msg[m[1]:] // what comes before is the internal transition name
	}
	d := &source.Diagnostic{Severity: source.Error, Message: fmt.Sprintf("case %s failed: %s", id, msg)}
	if f := c.files[loc.File]; ok && f != nil && loc.Known() {
		d.File, d.Span = f, loc.Span
	}
	printDiagnostics(e, source.Diagnostics{d})
	for _, ce := range s.CompErrors {
		fmt.Fprintf(e.stderr, "knhk: a compensation failed too: %s\n", ce)
	}
}

// failureLoc replays the log of case id and returns the location of the
// transition whose event turned the case from running to failing: a fail
// step, or a call whose last attempt failed.
func failureLoc(p *ir.Program, m *engine.Machine, log engine.EventLog, id string) (ir.Loc, bool) {
	var s engine.State
	s.ID = id
	var loc ir.Loc
	found := false
	err := log.Replay(context.Background(), id, func(ev *engine.Event) error {
		if found {
			return nil
		}
		before := transLoc(p, &s, ev)
		if err := m.Apply(&s, ev); err != nil {
			return err
		}
		if s.Status == engine.Failing || s.Status == engine.Failed {
			loc, found = before, true
		}
		return nil
	})
	if err != nil || !found {
		return ir.Loc{}, false
	}
	return loc, loc.Known()
}

// transLoc returns the location of the transition ev concerns in s (the
// state before ev), or an unknown location.
func transLoc(p *ir.Program, s *engine.State, ev *engine.Event) ir.Loc {
	frame, trans := ev.Frame, ev.Trans
	switch ev.Kind {
	case engine.EvFire:
	case engine.EvFailed, engine.EvDone:
		frame, trans = -1, -1
		for _, v := range s.Invs {
			if v.ID == ev.Inv {
				frame, trans = v.Frame, v.Trans
			}
		}
	default:
		return ir.NoLoc
	}
	for _, f := range s.Frames {
		if f.ID != frame || f.Net < 0 || int(f.Net) >= len(p.Nets) {
			continue
		}
		n := p.Nets[f.Net]
		if trans >= 0 && int(trans) < len(n.Transitions) {
			return n.Transitions[trans].Loc
		}
	}
	return ir.NoLoc
}
