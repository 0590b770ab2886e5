// This file implements the server's structured logger (log/slog) and
// the adapter that turns lines written to an io.Writer into its records.

package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// NewLogger returns a logger that writes to w in format ("text":
// key=value lines, or "json": one JSON object a line) the records at
// level ("debug", "info", "warn" or "error") and above. A bad format or
// level is an error that names it and what is allowed.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "info", "":
		lv = slog.LevelInfo
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("unknown log format %q (want text or json)", format)
}

// LineWriter returns an io.Writer that logs every line written to it as
// one record of l at level, the line (without its newline) as the
// message and attrs after it. It is how the lines the server and its
// tasks write (task output, a case's failure) become structured records.
// A line still unterminated is logged when Close is called.
func LineWriter(l *slog.Logger, level slog.Level, attrs ...any) io.WriteCloser {
	return &lineWriter{l: l, level: level, attrs: attrs}
}

type lineWriter struct {
	l     *slog.Logger
	level slog.Level
	attrs []any

	mu  sync.Mutex
	buf []byte
}

// maxLine bounds a line held while waiting for its newline; a longer one
// is logged in pieces.
const maxLine = 64 << 10

func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.buf = append(lw.buf, p...)
	for {
		i := bytes.IndexByte(lw.buf, '\n')
		if i < 0 {
			if len(lw.buf) >= maxLine {
				lw.emit(lw.buf)
				lw.buf = lw.buf[:0]
			}
			return len(p), nil
		}
		lw.emit(lw.buf[:i])
		lw.buf = lw.buf[i+1:]
	}
}

func (lw *lineWriter) emit(line []byte) {
	s := strings.TrimRight(string(line), "\r")
	if strings.TrimSpace(s) == "" {
		return
	}
	lw.l.Log(context.Background(), lw.level, s, lw.attrs...)
}

// Close logs what is left of an unterminated line.
func (lw *lineWriter) Close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.buf) > 0 {
		lw.emit(lw.buf)
		lw.buf = nil
	}
	return nil
}
