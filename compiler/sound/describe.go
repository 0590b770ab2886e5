// This file implements the messages of problems in source terms: a user
// wrote statements, not places and transitions, so a step is named by
// the text of its statement and its line, and a token by the statement
// that waits for it.

package sound

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

// describer renders the problems of net n with the sources of file.
type describer struct {
	n    *ir.Net
	file func(int32) *source.File
}

// maxSnippet bounds the statement text quoted in a message, in runes.
const maxSnippet = 40

// snippet returns the first line of the source text of loc, trimmed and
// shortened, and its 1-based line; ok is false when the source is not
// known.
func (w *describer) snippet(loc ir.Loc) (text string, line int, ok bool) {
	if !loc.Known() || w.file == nil {
		return "", 0, false
	}
	f := w.file(loc.File)
	if f == nil || int(loc.Span.End) > len(f.Content) || loc.Span.Start > loc.Span.End {
		return "", 0, false
	}
	text = string(f.Content[loc.Span.Start:loc.Span.End])
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) > maxSnippet {
		r := []rune(text)
		text = strings.TrimSpace(string(r[:maxSnippet])) + "…"
	}
	return text, f.Position(loc.Span.Start).Line, text != ""
}

// step names a transition by its statement: "`quick()` (line 13)", "the
// join of `parallel {` (line 11)", "the end of the workflow (line 19)".
// Without the source it is the transition's name. withLine adds the line.
func (w *describer) step(name string, loc ir.Loc, withLine bool) string {
	text, line, ok := w.snippet(loc)
	if !ok {
		return name
	}
	at := ""
	if withLine {
		at = fmt.Sprintf(" (line %d)", line)
	}
	switch ir.BaseName(name) {
	case "end":
		return "the end of the workflow" + at
	case "join", "merge":
		return fmt.Sprintf("the join of `%s`%s", text, at)
	case "flow_done":
		return fmt.Sprintf("the end of `%s`%s", text, at)
	}
	if strings.HasSuffix(name, "_idle") {
		return fmt.Sprintf("`%s` finding nothing to cancel%s", text, at)
	}
	return fmt.Sprintf("`%s`%s", text, at)
}

// trace names the steps of a trace, repeats folded ("`a()` (line 3) ×2")
// and a long trace shortened to its first step and its last three.
func (w *describer) trace(steps []Step) string {
	if len(steps) == 0 {
		return "the start"
	}
	var names []string
	for i := 0; i < len(steps); {
		j := i + 1
		for j < len(steps) && steps[j].Transition == steps[i].Transition {
			j++
		}
		s := w.step(steps[i].Name, steps[i].Loc, true)
		if j-i > 1 {
			s += fmt.Sprintf(" ×%d", j-i)
		}
		names = append(names, s)
		i = j
	}
	if len(names) > 4 {
		names = append([]string{names[0], "…"}, names[len(names)-3:]...)
	}
	return strings.Join(names, ", ")
}

// consumer returns the first transition that takes tokens from place p,
// or -1.
func (w *describer) consumer(p int32) int32 {
	for _, a := range w.n.Arcs {
		if a != nil && !a.Out && a.Place == p && a.Trans >= 0 && int(a.Trans) < len(w.n.Transitions) {
			return a.Trans
		}
	}
	return -1
}

// waiting names what the tokens on places wait for, each once: the
// statement that would take them next, or a lock not given back.
func (w *describer) waiting(places []int32) (names []string, first ir.Loc) {
	first = ir.NoLoc
	seen := map[string]bool{}
	for _, p := range places {
		if p == w.n.End || p < 0 || int(p) >= len(w.n.Places) || w.n.Places[p] == nil {
			continue
		}
		var s string
		t := w.consumer(p)
		switch {
		case t < 0:
			s = w.n.Places[p].Name
		case w.n.Places[p].Init > 0:
			tr := w.n.Transitions[t]
			s = "the lock taken by " + w.step(tr.Name, tr.Loc, true) + ", not given back"
		default:
			tr := w.n.Transitions[t]
			s = w.step(tr.Name, tr.Loc, true)
			if !first.Known() {
				first = tr.Loc
			}
		}
		if !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	return names, first
}

// problem returns the message of p in source terms and where to point,
// or "" to keep p's own message.
func (w *describer) problem(p *Problem) (string, ir.Loc) {
	name := w.n.Name
	after := w.trace(p.Trace)
	waits, first := w.waiting(p.Marked)
	list := strings.Join(waits, ", ")
	switch p.Kind {
	case Deadlock:
		return fmt.Sprintf("workflow %s can deadlock: after %s, nothing can run; still waiting: %s", name, after, list), ir.NoLoc
	case LeftoverTokens:
		// Point at the work left behind: that is what the user must
		// join or end, not the end the case reaches.
		return fmt.Sprintf("workflow %s can end while work is left behind: after %s, the workflow ends, but %s still waits to run (nothing joins it)", name, after, list), first
	case Livelock:
		return fmt.Sprintf("workflow %s can run forever without completing: after %s, the end can no longer be reached; waiting: %s", name, after, list), ir.NoLoc
	case Unbounded:
		at, _ := w.waiting([]int32{p.Over})
		return fmt.Sprintf("workflow %s is unbounded: after %s, more than the bound of runs would wait for %s", name, after, strings.Join(at, "")), ir.NoLoc
	case DeadTransition:
		if p.Transition >= 0 && int(p.Transition) < len(w.n.Transitions) {
			t := w.n.Transitions[p.Transition]
			if _, _, ok := w.snippet(t.Loc); ok {
				return fmt.Sprintf("%s can never run in workflow %s", w.step(t.Name, t.Loc, true), name), ir.NoLoc
			}
		}
	}
	return "", ir.NoLoc
}
