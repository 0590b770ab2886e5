// This file implements the result of a soundness check.

package sound

import (
	"fmt"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

// Kind classifies a [Problem].
type Kind int

// The problems.
const (
	Deadlock       Kind = iota // a state where nothing can fire and the case has not completed
	LeftoverTokens             // the case completed with tokens left in other places
	DeadTransition             // a transition that no run can fire
	Livelock                   // a state from which the case can never complete, though steps remain possible
	Unbounded                  // a place can collect more tokens than the bound
	Incomplete                 // the state cap was reached before the proof was done (a warning)
)

var kindNames = [...]string{"deadlock", "leftover-tokens", "dead-transition", "livelock", "unbounded", "incomplete"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// IsError reports whether k makes a workflow fail to compile; Incomplete
// is only a warning.
func (k Kind) IsError() bool { return k != Incomplete }

// Step is one transition firing in a trace.
type Step struct {
	Transition int32
	Name       string
	Loc        ir.Loc
}

// Problem is one reason a net is not (proven) sound.
type Problem struct {
	Kind Kind
	// Trace is a shortest sequence of firings from the start that reaches
	// the bad state (empty for dead transitions and Incomplete).
	Trace []Step
	// Tokens lists the places of the bad state that differ from the
	// start, in place order: "name", "name×n", or "name (n of k)" for a
	// resource place short of its k tokens. For Unbounded it is the state
	// before the last step of the trace, which overflows.
	Tokens []string
	// Marked lists the places of Tokens, in the same order.
	Marked []int32
	// Over is the place that overflows, for Unbounded (else -1).
	Over int32
	// Transition is the dead transition, or -1.
	Transition int32
	// Loc is where to point: the dead transition, else the last step of
	// the trace, else the net.
	Loc     ir.Loc
	Message string
}

func (p *Problem) Error() string { return p.Message }

// TraceString formats the trace as "a → b → c", writing a step repeated
// n times in a row as "b ×n", or "start" when the trace is empty.
func (p *Problem) TraceString() string {
	if len(p.Trace) == 0 {
		return "start"
	}
	var names []string
	for i := 0; i < len(p.Trace); {
		j := i + 1
		for j < len(p.Trace) && p.Trace[j].Transition == p.Trace[i].Transition {
			j++
		}
		if j-i > 1 {
			names = append(names, fmt.Sprintf("%s ×%d", p.Trace[i].Name, j-i))
		} else {
			names = append(names, p.Trace[i].Name)
		}
		i = j
	}
	return strings.Join(names, " → ")
}

// Report is the result of checking one net.
type Report struct {
	Net string
	// Sound is true when the whole state space was explored and no problem
	// was found.
	Sound bool
	// Complete is true when the state space was explored to the end.
	Complete bool
	States   int // distinct states stored
	Edges    int // firings explored between stored states
	Elapsed  time.Duration
	Problems []Problem

	net *ir.Net // the net checked, for messages in source terms
}

// HasErrors reports whether some problem is an error rather than a
// warning.
func (r *Report) HasErrors() bool {
	for i := range r.Problems {
		if r.Problems[i].Kind.IsError() {
			return true
		}
	}
	return false
}

// Summary is the line `knhk check -v` prints for the net.
func (r *Report) Summary() string {
	verdict := "sound"
	switch {
	case r.HasErrors():
		verdict = "unsound"
	case !r.Sound:
		verdict = "unproven"
	}
	return fmt.Sprintf("workflow %s: %s, %d states, %d edges explored in %s", r.Net, verdict, r.States, r.Edges, r.Elapsed.Round(time.Microsecond))
}

// Diagnostics converts the problems to diagnostics with the given code:
// errors, except Incomplete which is a warning. file maps an [ir.Loc]'s
// file index to its source file (nil when unknown). Where the source is
// known, the message speaks in source terms (see describe.go): the
// statements of the trace with their lines, and what is left waiting,
// and the diagnostic points at the statement that causes the problem.
// Each step of a trace that has a location becomes a related location
// "step N: statement", so that an editor can walk the path that gets
// stuck.
func (r *Report) Diagnostics(file func(int32) *source.File, code source.Code) source.Diagnostics {
	var ds source.Diagnostics
	for i := range r.Problems {
		p := &r.Problems[i]
		d := &source.Diagnostic{Severity: source.Error, Code: code, Message: p.Message}
		if !p.Kind.IsError() {
			d.Severity = source.Warning
		}
		loc := p.Loc
		if r.net != nil {
			w := &describer{n: r.net, file: file}
			if msg, at := w.problem(p); msg != "" {
				d.Message = msg
				if at.Known() {
					loc = at
				}
			}
		}
		if loc.Known() {
			d.File, d.Span = file(loc.File), loc.Span
		}
		for k, s := range p.Trace {
			if s.Loc.Known() {
				name := s.Name
				if r.net != nil {
					name = (&describer{n: r.net, file: file}).step(s.Name, s.Loc, false)
				}
				d.Related = append(d.Related, source.Related{File: file(s.Loc.File), Span: s.Loc.Span,
					Message: fmt.Sprintf("step %d: %s", k+1, name)})
			}
		}
		ds = append(ds, d)
	}
	return ds
}
