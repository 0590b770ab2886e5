package view_test

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/lang/check"
)

// build compiles path and returns the program and the views of all its
// nets, built with the source text.
func build(t *testing.T, path string) (*ir.Program, []*view.Graph) {
	t.Helper()
	pkg, info, diags := check.Load(path, nil)
	if diags.HasErrors() {
		t.Fatalf("does not check: %v", diags)
	}
	prog, ds := compiler.Lower(pkg, info)
	if ds.HasErrors() {
		t.Fatalf("does not lower: %v", ds)
	}
	srcs := compiler.SourceFiles(pkg, prog)
	text := func(l ir.Loc) string {
		f := srcs[l.File]
		if f == nil {
			return ""
		}
		b := f.Content
		if !l.Known() || int(l.Span.End) > len(b) || l.Span.End <= l.Span.Start {
			return ""
		}
		return string(b[l.Span.Start:l.Span.End])
	}
	var gs []*view.Graph
	for ni := range prog.Nets {
		gs = append(gs, view.Build(prog, ni, view.Options{Text: text}))
	}
	return prog, gs
}

func shipped(t *testing.T) []string {
	var paths []string
	for _, pat := range []string{"../../testdata/patterns/*.knhk", "../../examples/*.knhk"} {
		ps, err := filepath.Glob(pat)
		if err != nil || len(ps) == 0 {
			t.Fatalf("no programs match %s (%v)", pat, err)
		}
		paths = append(paths, ps...)
	}
	return paths
}

var internalSuffix = regexp.MustCompile(`_\d+\b`)

// TestShippedProgramsView checks the view of every shipped program: each
// task call, signal wait, timer, send and join of the net is a node of its
// kind with its source name and a source span, no node or workflow name
// keeps a lowering suffix, every node is reachable from the start and the
// end is reachable, and the view has fewer nodes than the net has
// transitions wherever the net has bookkeeping.
func TestShippedProgramsView(t *testing.T) {
	for _, path := range shipped(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			prog, gs := build(t, path)
			for ni, n := range prog.Nets {
				g := gs[ni]
				if internalSuffix.MatchString(g.Name) {
					t.Errorf("net %s: view named %q", n.Name, g.Name)
				}
				for ti, tr := range n.Transitions {
					want, name := wantKind(prog, tr)
					if tr.Kind == ir.TNop && weightedIn(n, int32(ti)) {
						k := view.Join
						want, name = &k, "join"
					}
					id := g.TransNode[ti]
					if want == nil {
						continue
					}
					if id < 0 {
						t.Errorf("net %s: %s %s (line span %v) is not in the view", n.Name, tr.Kind, tr.Name, tr.Loc.Span)
						continue
					}
					nd := g.Nodes[id]
					if nd.Kind != *want || (name != "" && nd.Name != name) {
						t.Errorf("net %s: %s %s is %s %q, want %s %q", n.Name, tr.Kind, tr.Name, nd.Kind, nd.Name, *want, name)
					}
				}
				for _, nd := range g.Nodes {
					if internalSuffix.MatchString(nd.Name) || internalSuffix.MatchString(nd.Label()) {
						t.Errorf("net %s: node %d named %q (%q)", n.Name, nd.ID, nd.Name, nd.Label())
					}
					if nd.Kind != view.Start && nd.Kind != view.End && !nd.Loc.Known() {
						t.Errorf("net %s: node %q has no source span", n.Name, nd.Label())
					}
					if nd.Kind == view.Timer && nd.Name == "" {
						t.Errorf("net %s: timer at %v has no duration text", n.Name, nd.Loc.Span)
					}
				}
				reach := reachable(g)
				for _, nd := range g.Nodes {
					if !reach[nd.ID] && nd.Kind != view.End {
						t.Errorf("net %s: node %q is not reachable from the start in the view", n.Name, nd.Label())
					}
				}
				if !reach[1] && netEnds(n) {
					t.Errorf("net %s: the end is not reachable in the view", n.Name)
				}
			}
			var buf bytes.Buffer
			if err := view.DOT(&buf, gs, view.DOTOptions{}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(buf.String(), "let_") || strings.Contains(buf.String(), "set_") {
				t.Errorf("the DOT of the view shows bookkeeping:\n%s", buf.String())
			}
		})
	}
}

// weightedIn reports whether transition t of n takes several tokens from
// a place at once: the "join N" of a flow's threads.
func weightedIn(n *ir.Net, t int32) bool {
	for _, a := range n.Arcs {
		if !a.Out && a.Trans == t && a.Weight > 1 {
			return true
		}
	}
	return false
}

// netEnds reports whether some transition of n produces on its end place.
func netEnds(n *ir.Net) bool {
	for _, a := range n.Arcs {
		if a.Out && a.Place == n.End {
			return true
		}
	}
	return false
}

// wantKind is the node kind transition tr must have in the view and the
// name, or nil when tr may be collapsed.
func wantKind(p *ir.Program, tr *ir.Transition) (*view.Kind, string) {
	k := func(k view.Kind) *view.Kind { return &k }
	switch tr.Kind {
	case ir.TTask:
		return k(view.Task), p.Tasks[tr.Call.Target].Name
	case ir.TKernel:
		return k(view.Task), p.Kernels[tr.Call.Target].Name
	case ir.TWorkflow:
		return k(view.Task), view.NetName(p.Nets[tr.Call.Target].Name)
	case ir.TMulti, ir.TRoute:
		return k(view.Task), ""
	case ir.TSignal:
		return k(view.Wait), tr.Label
	case ir.TTimer:
		return k(view.Timer), ""
	case ir.TSend:
		return k(view.Send), tr.Label
	case ir.TNop:
		if tr.Join == ir.JoinPartial || tr.Join == ir.JoinOr || ir.BaseName(tr.Name) == "join" {
			return k(view.Join), "join"
		}
	}
	return nil, ""
}

func reachable(g *view.Graph) map[int]bool {
	seen := map[int]bool{0: true}
	for changed := true; changed; {
		changed = false
		for _, e := range g.Edges {
			if seen[e.From] && !seen[e.To] {
				seen[e.To] = true
				changed = true
			}
		}
	}
	return seen
}
