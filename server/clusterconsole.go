// This file implements where the web console mounts on a cluster node:
// its endpoints read cases, which only the leader answers
// linearizably, so a follower forwards them as it forwards the Connect
// reads; its pages are static and served by every node.

package server

import (
	"context"
	"net/http"

	"github.com/knhk/knhk/lang/source"
)

// ConsoleMux is the mux server/console mounts on over a cluster node
// (console.Mount(a.ConsoleMux(), a)).
type ConsoleMux struct{ a *ClusterAPI }

// ConsoleMux returns the mux of the node's web console.
func (a *ClusterAPI) ConsoleMux() ConsoleMux { return ConsoleMux{a} }

// Handle serves an endpoint of the console on the leader; a follower
// forwards it, unless the call asks for a stale read (the header
// ConsistencyHeader or ?consistency=stale), which the node answers from
// its own copy.
func (m ConsoleMux) Handle(pattern string, h http.Handler) {
	lead := m.a.leaderOnly(h.ServeHTTP)
	m.a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(ConsistencyHeader) == "stale" || r.URL.Query().Get("consistency") == "stale" {
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), staleKey{}, true)))
			return
		}
		lead(w, r)
	})
}

// HandlePublic serves the console's pages on every node.
func (m ConsoleMux) HandlePublic(pattern string, h http.Handler) { m.a.handlePublic(pattern, h) }

// filesOf returns the source files of program hash: the node's own
// from Sources, a deployed one's from the log (one file, no imports);
// nil when unknown, and the console then shows no source.
func (a *ClusterAPI) filesOf(hash string) map[int32]*source.File {
	if fs := a.Sources[hash]; fs != nil {
		return fs
	}
	for _, d := range a.n.FSM().Deployed() {
		if d.Hash == hash && len(d.Source) > 0 {
			return map[int32]*source.File{0: source.NewFile(d.Name, d.Source)}
		}
	}
	return nil
}
