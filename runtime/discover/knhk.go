// This file implements printing a process tree as a .knhk workflow.

package discover

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/knhk/knhk/lang/format"
)

// Source is a discovered model as a .knhk program and a mock file that
// runs it without services.
type Source struct {
	// Program is the .knhk source: one extern task per activity, one
	// decision task per choice and loop, and the workflow.
	Program string
	// Mock answers every task for knhk run --mock: activities return
	// nothing, each choice takes its first branch and each loop runs its
	// body once.
	Mock []byte
}

// Header is the comment the program opens with: where the model comes
// from and how well it fits.
type Header struct {
	Log      string  // the log's file name
	Noise    float64 // the IMf threshold
	Traces   int
	Score    Score
	Workflow string // the workflow's name, "Discovered" when empty
}

// Knhk prints tree as a .knhk program. Activities become extern tasks
// named after them (lower case, other characters as underscores, made
// unique); a choice (X) becomes a decision task choose_N returning the
// branch and a choose statement on it; a parallel (+) a parallel block
// joined by all; a loop (*) a while loop whose decision task repeat_N
// says whether to go round again, through the redo part. Silent steps
// print as nothing.
func Knhk(tree *Node, h Header) Source {
	p := &printer{names: map[string]string{}, used: map[string]bool{}, mock: map[string]any{}}
	for _, a := range tree.Activities() {
		p.name(a)
	}
	var body strings.Builder
	p.b = &body
	p.stmts(tree, 1)
	var b strings.Builder
	fmt.Fprintf(&b, "// Discovered by knhk discover from %s with the inductive miner", h.Log)
	if h.Noise > 0 {
		fmt.Fprintf(&b, " (IMf, noise %g)", h.Noise)
	}
	fmt.Fprintf(&b, ".\n// On its %d traces: fitness %.4f, precision %.4f (token replay).\n", h.Traces, h.Score.Fitness, h.Score.Precision)
	fmt.Fprintf(&b, "//\n// Process tree: %s\n", commentSafe(tree.String()))
	b.WriteString("//\n// Each activity is an extern task: bind it (exec, http, queue, ...) to\n")
	b.WriteString("// run it. choose_N and repeat_N tasks decide the choices and loops.\n")
	b.WriteString("package discovered\n\n")
	for _, a := range tree.Activities() {
		fmt.Fprintf(&b, "// %s is the activity %q.\ntask %s() extern\n", p.names[a], a, p.names[a])
	}
	for _, d := range p.decisions {
		b.WriteString(d)
	}
	wf := h.Workflow
	if wf == "" {
		wf = "Discovered"
	}
	fmt.Fprintf(&b, "\nworkflow %s() {\n%s}\n", wf, body.String())
	for _, a := range tree.Activities() {
		p.mock[p.names[a]] = nil
	}
	mock, _ := json.MarshalIndent(p.mock, "", "  ")
	prog := []byte(b.String())
	if f, ds := format.Bytes("discovered.knhk", prog); !ds.HasErrors() {
		prog = f // as knhk fmt writes it
	}
	return Source{Program: string(prog), Mock: append(mock, '\n')}
}

type printer struct {
	b         *strings.Builder
	names     map[string]string
	used      map[string]bool
	decisions []string
	mock      map[string]any
	n         int
}

// name returns the task name of activity a.
func (p *printer) name(a string) string {
	if n, ok := p.names[a]; ok {
		return n
	}
	var b strings.Builder
	for _, r := range strings.ToLower(a) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	base := strings.TrimSuffix(b.String(), "_")
	if base == "" || !unicode.IsLetter(rune(base[0])) || reserved[base] || strings.HasPrefix(base, "choose_") || strings.HasPrefix(base, "repeat_") {
		base = "do_" + base
	}
	n := base
	for i := 2; p.used[n]; i++ {
		n = fmt.Sprintf("%s_%d", base, i)
	}
	p.used[n] = true
	p.names[a] = n
	return n
}

// reserved holds the words of the language that cannot name a task.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`package import type fn task kernel workflow let var if else for in while
		parallel join all any active keep choose when multi select on signal timer done as return fail guard
		milestone region cancel case critical flow step route learn among reward send to hook start end
		complete interleave query exec http std queue extern retry backoff timeout undo true false none
		break continue transient persistent limit more enum`) {
		reserved[w] = true
	}
}

func (p *printer) line(depth int, format string, args ...any) {
	p.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(p.b, format, args...)
	p.b.WriteByte('\n')
}

// silent says whether n does nothing visible.
func silent(n *Node) bool {
	switch n.Op {
	case Tau:
		return true
	case Activity:
		return false
	case Xor, Loop:
		return false
	}
	for _, c := range n.Children {
		if !silent(c) {
			return false
		}
	}
	return true
}

// stmts prints n as statements at depth.
func (p *printer) stmts(n *Node, depth int) {
	switch n.Op {
	case Tau:
	case Activity:
		p.line(depth, "%s()", p.names[n.Label])
	case Seq:
		for _, c := range n.Children {
			p.stmts(c, depth)
		}
	case And:
		var cs []*Node
		for _, c := range n.Children {
			if !silent(c) {
				cs = append(cs, c)
			}
		}
		if len(cs) < 2 {
			for _, c := range cs {
				p.stmts(c, depth)
			}
			return
		}
		p.line(depth, "parallel {")
		for _, c := range cs {
			p.line(depth+1, "{")
			p.stmts(c, depth+2)
			p.line(depth+1, "}")
		}
		p.line(depth, "} join all")
	case Xor:
		p.n++
		k := p.n
		p.decisions = append(p.decisions, fmt.Sprintf("// choose_%d picks the branch of a choice: 0 to %d.\ntask choose_%d() -> int extern\n", k, len(n.Children)-1, k))
		p.mock[fmt.Sprintf("choose_%d", k)] = 0
		p.line(depth, "let c%d = choose_%d()", k, k)
		p.line(depth, "choose {")
		for i, c := range n.Children {
			if i < len(n.Children)-1 {
				p.line(depth+1, "when c%d == %d -> {", k, i)
			} else {
				p.line(depth+1, "else -> {")
			}
			p.stmts(c, depth+2)
			p.line(depth+1, "}")
		}
		p.line(depth, "}")
	case Loop:
		p.n++
		k := p.n
		p.decisions = append(p.decisions, fmt.Sprintf("// repeat_%d says whether a loop goes round again.\ntask repeat_%d() -> bool extern\n", k, k))
		p.mock[fmt.Sprintf("repeat_%d", k)] = false
		p.line(depth, "var more%d = true", k)
		p.line(depth, "while more%d {", k)
		p.stmts(n.Children[0], depth+1)
		p.line(depth+1, "let again%d = repeat_%d()", k, k)
		p.line(depth+1, "more%d = again%d", k, k)
		redo := n.Children[1:]
		if len(redo) == 2 && redo[1].Op == Tau {
			redo = redo[:1] // PTML's exit child
		}
		r := redo[0]
		if len(redo) > 1 {
			r = node(Xor, redo...)
		}
		if !silent(r) {
			p.line(depth+1, "if again%d {", k)
			p.stmts(r, depth+2)
			p.line(depth+1, "}")
		}
		p.line(depth, "}")
	}
}

// commentSafe keeps a string on one comment line.
func commentSafe(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
