// This file implements GET /console/api/graph: a workflow drawn as SVG,
// with the marking of a case highlighted.

package console

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/server"
)

// dotTimeout bounds one Graphviz run.
const dotTimeout = 20 * time.Second

// graphSVG answers ?case=ID (the case's workflow, its marking
// highlighted) or ?program=HASH&workflow=W.
func (h *handler) graphSVG(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p *server.Program
	var root int32 = -1
	var marks map[int]map[int]view.Mark
	switch {
	case q.Get("case") != "":
		in, err := h.inspect(r.Context(), q.Get("case"))
		if err != nil {
			writeServiceError(w, err)
			return
		}
		p, root = in.Program, in.State.Net
		marks = Marks(p.Prog(), in)
	case q.Get("program") != "":
		var err error
		if p, err = h.s.ProgramByHash(q.Get("program")); err != nil {
			writeServiceError(w, err)
			return
		}
		wf := q.Get("workflow")
		for i, n := range p.Prog().Nets {
			if n.Name == wf {
				root = int32(i)
			}
		}
		if root < 0 {
			writeError(w, http.StatusNotFound, "program "+p.Hash+" has no workflow "+strconv.Quote(wf))
			return
		}
	default:
		writeError(w, http.StatusBadRequest, "give ?case=CASE or ?program=HASH&workflow=W")
		return
	}
	prog := p.Prog()
	if root < 0 || int(root) >= len(prog.Nets) {
		writeError(w, http.StatusInternalServerError, "the case's workflow is not in its program")
		return
	}
	var gs []*view.Graph
	for _, ni := range rootNets(prog, root) {
		gs = append(gs, view.Build(prog, ni, view.Options{Text: p.Text}))
	}
	svg, err := render(r.Context(), gs, view.DOTOptions{Line: p.Line, Marks: marks})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(svg)
}

// render lays the views out with Graphviz's dot when it is on PATH and
// with the built-in layered layout otherwise.
func render(ctx context.Context, gs []*view.Graph, o view.DOTOptions) ([]byte, error) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		var b bytes.Buffer
		err := view.SVG(&b, gs, view.SVGOptions{Line: o.Line, Marks: o.Marks})
		return b.Bytes(), err
	}
	var src bytes.Buffer
	if err := view.DOT(&src, gs, o); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, dotTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dot, "-Tsvg")
	cmd.Stdin = &src
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &dotError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type dotError struct {
	err    error
	stderr string
}

func (e *dotError) Error() string { return "dot -Tsvg failed: " + e.err.Error() + " " + e.stderr }

// Marks returns the highlight of a case: the steps that have fired are
// done, those a token waits before are pending, and those whose call runs
// are running; the end is done once the case has ended.
func Marks(p *ir.Program, in *server.Inspection) map[int]map[int]view.Mark {
	out := map[int]map[int]view.Mark{}
	views := map[int32]*view.Graph{}
	graph := func(net int32) *view.Graph {
		if net < 0 || int(net) >= len(p.Nets) {
			return nil
		}
		g := views[net]
		if g == nil {
			g = view.Build(p, int(net), view.Options{})
			views[net] = g
		}
		return g
	}
	set := func(net int32, node int, m view.Mark) {
		if out[int(net)] == nil {
			out[int(net)] = map[int]view.Mark{}
		}
		if m > out[int(net)][node] {
			out[int(net)][node] = m
		}
	}
	for st := range in.Fired {
		if g := graph(st.Net); g != nil && g.Visible(st.Trans) {
			set(st.Net, g.TransNode[st.Trans], view.Done)
		}
	}
	if in.State == nil {
		return out
	}
	set(in.State.Net, 0, view.Done)
	ended := in.Summary.Done()
	for _, f := range in.State.Frames {
		g := graph(f.Net)
		if g == nil {
			continue
		}
		for pl, n := range f.Marking {
			if n <= 0 || pl >= len(g.PlaceNodes) || p.Nets[f.Net].Places[pl].Init > 0 {
				continue
			}
			for _, node := range g.PlaceNodes[pl] {
				m := view.Pending
				if ended && node == 1 {
					m = view.Done
				}
				set(f.Net, node, m)
			}
		}
	}
	for _, v := range in.State.Invs {
		if v.Frame < 0 {
			continue
		}
		for _, f := range in.State.Frames {
			if f.ID != v.Frame {
				continue
			}
			if g := graph(f.Net); g != nil && g.Visible(v.Trans) {
				set(f.Net, g.TransNode[v.Trans], view.Running)
			}
		}
	}
	if ended && in.Summary.Status == "completed" {
		set(in.State.Net, 1, view.Done)
	}
	return out
}

// haveDot reports whether Graphviz's dot is on PATH.
func haveDot() bool {
	_, err := exec.LookPath("dot")
	return err == nil
}
