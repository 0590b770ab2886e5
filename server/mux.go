// This file implements the HTTP side of knhk serve: the Connect API
// behind a bearer token and a body limit, on a mux that later parts of
// the server (metrics, health, the web console) mount their handlers on.

package server

import (
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// MuxOptions configures [NewMux].
type MuxOptions struct {
	// Token, when not empty, is the bearer token every call must carry.
	Token string
	// MaxBody bounds a request's body in bytes (default 16 MiB).
	MaxBody int64
	// Authorize, if set, is asked about every guarded request (after the
	// token check) and its error refuses it: knhk serve --tenants checks
	// the caller's tenant and role (server/tenant). An error wrapping a
	// [*connect.Error] answers with its code, any other error with
	// CodeUnauthenticated.
	Authorize func(r *http.Request) error
}

// DefaultMaxBody is the default of MuxOptions.MaxBody.
const DefaultMaxBody = 16 << 20

// Mux routes the server's HTTP requests.
type Mux struct {
	mux  *http.ServeMux
	opts MuxOptions
}

// NewMux returns the mux of a server over s with the Connect API (Connect
// JSON and binary over HTTP/1.1, gRPC and gRPC-Web over HTTP/2) mounted.
func NewMux(s *Service, o MuxOptions) *Mux {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	m := &Mux{mux: http.NewServeMux(), opts: o}
	a := &api{s: s}
	path, h := knhkv1connect.NewKnhkServiceHandler(a, connect.WithReadMaxBytes(int(o.MaxBody)), apiCompression())
	m.Handle(path, h)
	m.Handle(knhkv1connect.KnhkServiceWorkTasksProcedure, connect.NewBidiStreamHandler(knhkv1connect.KnhkServiceWorkTasksProcedure, a.WorkTasks,
		connect.WithSchema(knhkv1.File_knhk_v1_knhk_proto.Services().ByName("KnhkService").Methods().ByName("WorkTasks")),
		connect.WithReadMaxBytes(int(o.MaxBody)), streamCompression()))
	return m
}

// Handle mounts h on pattern (http.ServeMux's patterns) behind the
// server's token check and body limit.
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.mux.Handle(pattern, m.guard(h))
}

// HandlePublic mounts h on pattern without the token check (a health
// probe, say).
func (m *Mux) HandlePublic(pattern string, h http.Handler) {
	m.mux.Handle(pattern, h)
}

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// guard checks the bearer token in constant time and limits the body.
func (m *Mux) guard(h http.Handler) http.Handler {
	want := []byte(m.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(want) > 0 {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
				WriteError(w, r, connect.CodeUnauthenticated, "missing or wrong bearer token")
				return
			}
		}
		if m.opts.Authorize != nil {
			if err := m.opts.Authorize(r); err != nil {
				code := connect.CodeUnauthenticated
				var ce *connect.Error
				if errors.As(err, &ce) {
					code = ce.Code()
				}
				WriteError(w, r, code, err.Error())
				return
			}
		}
		if r.URL.Path != knhkv1connect.KnhkServiceWorkTasksProcedure {
			// A worker's stream lives as long as the worker: each of its
			// messages is bounded instead (connect.WithReadMaxBytes).
			r.Body = http.MaxBytesReader(w, r.Body, m.opts.MaxBody)
		}
		h.ServeHTTP(w, r)
	})
}

// WriteError answers r with a Connect error of code and msg in the
// protocol the client speaks (gRPC status trailers-only, or Connect's
// JSON error with its HTTP status), for refusals made before a request
// reaches the API's handlers.
func WriteError(w http.ResponseWriter, r *http.Request, code connect.Code, msg string) {
	if code == connect.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="knhk"`)
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc") {
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Grpc-Status", strconv.Itoa(int(code)))
		w.Header().Set("Grpc-Message", msg)
		w.WriteHeader(http.StatusOK)
		return
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/connect+") {
		writeStreamError(w, ct, code, msg)
		return
	}
	b, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code.String(), msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus(code))
	w.Write(b)
}

// writeStreamError answers a Connect streaming call (a worker's
// WorkTasks, WatchHistory) with the protocol's end-of-stream message
// carrying the error: a streaming client reads the code and message
// only from there (a plain HTTP error status reaches it as "HTTP
// status 403" and no more).
func writeStreamError(w http.ResponseWriter, ct string, code connect.Code, msg string) {
	type endErr struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	body, _ := json.Marshal(struct {
		Error endErr `json:"error"`
	}{endErr{code.String(), msg}})
	env := make([]byte, 5, 5+len(body))
	env[0] = 0b10 // end of stream
	binary.BigEndian.PutUint32(env[1:], uint32(len(body)))
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	w.Write(append(env, body...))
}

// httpStatus is the HTTP status of the Connect protocol for code.
func httpStatus(code connect.Code) int {
	switch code {
	case connect.CodeUnauthenticated:
		return http.StatusUnauthorized
	case connect.CodePermissionDenied:
		return http.StatusForbidden
	case connect.CodeNotFound:
		return http.StatusNotFound
	case connect.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case connect.CodeInvalidArgument:
		return http.StatusBadRequest
	case connect.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
