// This file implements mounting the console on the server's mux.

package console

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/knhk/knhk/server"
)

//go:embed assets
var assets embed.FS

// Mount serves the console over s on m: the pages at "/" (public) and
// the console's endpoints at /console/api/ (behind the server's token).
func Mount(m *server.Mux, s *server.Service) {
	h := &handler{s: s}
	m.Handle("GET /console/api/case", http.HandlerFunc(h.caseJSON))
	m.Handle("GET /console/api/program", http.HandlerFunc(h.programJSON))
	m.Handle("GET /console/api/graph", http.HandlerFunc(h.graphSVG))
	m.HandlePublic("/", Assets())
}

// Assets serves the console's pages.
func Assets() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
		files.ServeHTTP(w, r)
	})
}

// handler serves the console's endpoints.
type handler struct {
	s *server.Service
}
