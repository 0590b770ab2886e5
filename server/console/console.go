// This file implements mounting the console on the server's mux.

package console

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"time"

	"github.com/knhk/knhk/server"
)

//go:embed assets
var assets embed.FS

// Mount serves the console over s on m: the pages at "/" (public) and
// the console's endpoints at /console/api/ (behind the server's token).
func Mount(m Mux, s Source) {
	mount(m, s, inspectWait)
}

// inspectWait bounds how long an endpoint waits for a case the server is
// still starting or recovering (a case whose first step is a long call is
// not ready until that call returns), so a page is answered and retries
// instead of hanging.
const inspectWait = 5 * time.Second

func mount(m Mux, s Source, wait time.Duration) {
	h := &handler{s: s, wait: wait}
	m.Handle("GET /console/api/case", http.HandlerFunc(h.caseJSON))
	m.Handle("GET /console/api/program", http.HandlerFunc(h.programJSON))
	m.Handle("GET /console/api/graph", http.HandlerFunc(h.graphSVG))
	m.Handle("GET /console/api/whoami", http.HandlerFunc(whoami))
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
	s    Source
	wait time.Duration
}

// inspect returns case id as the console shows it, waiting at most h.wait.
func (h *handler) inspect(ctx context.Context, id string) (*server.Inspection, error) {
	ctx, cancel := context.WithTimeout(ctx, h.wait)
	defer cancel()
	return h.s.Inspect(ctx, id)
}
