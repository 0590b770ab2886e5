// This file implements the console's JSON endpoints: a case as its page
// shows it, and a program with its source.

package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/server"
)

// caseView is the JSON of GET /console/api/case?id=ID.
type caseView struct {
	Summary server.Summary     `json:"summary"`
	Program string             `json:"program"`
	Input   json.RawMessage    `json:"input,omitempty"`
	Signals []signalView       `json:"signals"`
	Queries []string           `json:"queries"`
	History []server.ViewEntry `json:"history"`
	Events  int64              `json:"events"`
}

// signalView is a signal the case's workflow declares, with its payload.
type signalView struct {
	Name   string      `json:"name"`
	Params []paramView `json:"params"`
}

type paramView struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func (h *handler) caseJSON(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "give the case: ?id=CASE")
		return
	}
	in, err := h.inspect(r.Context(), id)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	p := in.Program.Prog()
	cv := caseView{Summary: in.Summary, Program: in.Program.Hash, History: in.History, Events: in.Events, Signals: []signalView{}, Queries: []string{}}
	if in.Input != "" {
		cv.Input = json.RawMessage(in.Input)
	}
	if root := in.State.Net; root >= 0 && int(root) < len(p.Nets) {
		n := p.Nets[root]
		for _, s := range n.Signals {
			sv := signalView{Name: s.Name, Params: []paramView{}}
			for _, prm := range s.Params {
				sv.Params = append(sv.Params, paramView{Name: prm.Name, Type: p.TypeString(prm.Type)})
			}
			cv.Signals = append(cv.Signals, sv)
		}
		for _, q := range n.Queries {
			cv.Queries = append(cv.Queries, q.Name)
		}
	}
	writeJSON(w, cv)
}

// programView is the JSON of GET /console/api/program?hash=H.
type programView struct {
	*server.Program
	Files []fileView `json:"files"`
}

type fileView struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

func (h *handler) programJSON(w http.ResponseWriter, r *http.Request) {
	p, err := h.s.ProgramByHash(r.URL.Query().Get("hash"))
	if err != nil {
		writeServiceError(w, err)
		return
	}
	pv := programView{Program: p, Files: []fileView{}}
	files := p.Files()
	idx := make([]int32, 0, len(files))
	for i := range files {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	for _, i := range idx {
		name := files[i].Name
		if int(i) < len(p.Prog().Files) {
			name = p.Prog().Files[i].Name
		}
		pv.Files = append(pv.Files, fileView{Name: name, Source: string(files[i].Content)})
	}
	writeJSON(w, pv)
}

// rootNets returns the nets drawn for workflow root: the root and the
// nets its parallel fors and sub-workflow calls start, transitively.
func rootNets(p *ir.Program, root int32) []int {
	seen := map[int32]bool{root: true}
	out := []int{int(root)}
	for i := 0; i < len(out); i++ {
		for _, t := range p.Nets[out[i]].Transitions {
			if t.Call == nil || (t.Kind != ir.TMulti && t.Kind != ir.TWorkflow) {
				continue
			}
			c := t.Call.Target
			if c >= 0 && int(c) < len(p.Nets) && !seen[c] {
				seen[c] = true
				out = append(out, int(c))
			}
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.Encode(v) // the client has gone when this fails
}

// writeError answers as the Connect API does: {"code", "message"}.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	code := map[int]string{http.StatusBadRequest: "invalid_argument", http.StatusNotFound: "not_found", http.StatusServiceUnavailable: "unavailable"}[status]
	if code == "" {
		code = "internal"
	}
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

func writeServiceError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var se *server.Error
	if errors.As(err, &se) {
		switch se.Code {
		case server.CodeInvalidArgument:
			status = http.StatusBadRequest
		case server.CodeNotFound:
			status = http.StatusNotFound
		case server.CodeUnavailable, server.CodeDeadlineExceeded:
			status = http.StatusServiceUnavailable
		}
	}
	writeError(w, status, err.Error())
}
