// This file implements the access log: one debug record per HTTP
// request.

package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// AccessLog returns h logging one record per request at debug level
// (method, path, status, bytes, duration), or h itself when l does not
// log debug records, so that the default costs nothing.
func AccessLog(l *slog.Logger, h http.Handler) http.Handler {
	if !l.Enabled(context.Background(), slog.LevelDebug) {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rw, r)
		l.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("proto", r.Proto),
			slog.Int("status", rw.status), slog.Int64("bytes", rw.bytes), slog.Duration("duration", time.Since(start)))
	})
}

// recorder notes the status and size of a response. It passes Flush on
// (streaming calls need it) and unwraps for http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	r.wrote = true
	http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
