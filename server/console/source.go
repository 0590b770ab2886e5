// This file names what the console needs from the server it is mounted
// on, so that one console serves both a single knhk serve (a
// *server.Service on a *server.Mux) and a raft cluster node (a
// *server.ClusterAPI, which is both).

package console

import (
	"context"
	"net/http"

	"github.com/knhk/knhk/server"
)

// Source is what the console's endpoints read: a case as the console
// shows it and a program by its hash. The pages call everything else
// (list cases, history, queries, signals) through the Connect API,
// which a single server and a cluster node both serve at the same path.
type Source interface {
	Inspect(ctx context.Context, id string) (*server.Inspection, error)
	ProgramByHash(hash string) (*server.Program, error)
}

// Mux is where the console mounts: Handle behind the server's
// credentials, HandlePublic open (the pages themselves carry no data).
type Mux interface {
	Handle(pattern string, h http.Handler)
	HandlePublic(pattern string, h http.Handler)
}

var (
	_ Source = (*server.Service)(nil)
	_ Mux    = (*server.Mux)(nil)
	_ Source = (*server.ClusterAPI)(nil)
	_ Mux    = server.ConsoleMux{}
)
