// This file implements the JSON-RPC payload codec and the stream wrapper
// that survives malformed messages.

package server

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// codec marshals params and results with the protocol package's
// union-aware encoder, as protocol.NewServer does; we build the connection
// ourselves so that requests are handled in order.
type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	case *jsonrpc2.RawMessage:
		if m == nil || *m == nil {
			return []byte("null"), nil
		}
		return *m, nil
	}
	return protocol.Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}

// frameStream is the raw-frame interface of jsonrpc2's header framer.
type frameStream interface {
	ReadFrame(ctx context.Context) ([]byte, int64, error)
	WriteFrame(ctx context.Context, data []byte) (int64, error)
}

// resilientStream is the connection's stream. jsonrpc2 ends the connection
// when a frame does not decode or its header is malformed; a language
// server should instead answer with a JSON-RPC error (parse error or
// invalid request, id null) and carry on. So frames are read by a
// [frameReader], which survives a wrong Content-Length, and validated
// before jsonrpc2 sees them; writing stays with jsonrpc2's framer.
type resilientStream struct {
	jsonrpc2.Stream
	frames frameStream
	in     *frameReader
	logf   func(string, ...any)
	// answers, when set, learns of every answer written (see answers.go).
	answers *answers
}

func newResilientStream(p *pipe, logf func(string, ...any)) *resilientStream {
	inner := jsonrpc2.NewStream(p)
	fs, _ := inner.(frameStream)
	return &resilientStream{Stream: inner, frames: fs, in: newFrameReader(p.r, logf), logf: logf}
}

// ReadFrame returns the next frame that is a well-formed JSON-RPC message.
func (s *resilientStream) ReadFrame(ctx context.Context) ([]byte, int64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		frame, n, err := s.in.next()
		if errors.Is(err, errTruncated) {
			if werr := s.reject(ctx, frame, jsonrpc2.ParseError, "parse error: "+err.Error()); werr != nil {
				return nil, 0, werr
			}
			continue
		}
		if err != nil {
			return frame, n, err
		}
		code, msg, ok := validFrame(frame)
		if ok {
			return frame, n, nil
		}
		if err := s.reject(ctx, frame, code, msg); err != nil {
			return nil, 0, err
		}
	}
}

// reject answers a frame that is not a message with a JSON-RPC error.
func (s *resilientStream) reject(ctx context.Context, frame []byte, code jsonrpc2.Code, msg string) error {
	s.logf("rejected message: %s", msg)
	reply := `{"jsonrpc":"2.0","id":` + frameID(frame) + `,"error":{"code":` + strconv.Itoa(int(code)) + `,"message":` + strconv.Quote(msg) + `}}`
	_, err := s.frames.WriteFrame(ctx, []byte(reply))
	return err
}

// WriteFrame forwards to the framer.
func (s *resilientStream) WriteFrame(ctx context.Context, data []byte) (int64, error) {
	return s.frames.WriteFrame(ctx, data)
}

// Read reads a validated frame and decodes it.
func (s *resilientStream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	frame, n, err := s.ReadFrame(ctx)
	if err != nil {
		return nil, n, err
	}
	msg, err := jsonrpc2.DecodeMessage(frame)
	return msg, n, err
}

// validFrame reports whether frame is a JSON-RPC message that jsonrpc2 can
// decode; if not, it returns the error code and message to answer with.
func validFrame(frame []byte) (jsonrpc2.Code, string, bool) {
	if !json.Valid(frame) {
		return jsonrpc2.ParseError, "parse error: message is not valid JSON", false
	}
	var probe any
	_ = json.Unmarshal(frame, &probe)
	switch v := probe.(type) {
	case []any:
		if len(v) == 0 {
			return jsonrpc2.InvalidRequest, "invalid request: empty batch", false
		}
		return 0, "", true // members are checked by jsonrpc2, which answers each
	case map[string]any:
		if _, err := jsonrpc2.DecodeMessage(frame); err != nil {
			return jsonrpc2.InvalidRequest, "invalid request: " + err.Error(), false
		}
		if m, ok := v["method"]; ok {
			if _, isStr := m.(string); !isStr {
				return jsonrpc2.InvalidRequest, "invalid request: method is not a string", false
			}
		}
		return 0, "", true
	}
	return jsonrpc2.InvalidRequest, "invalid request: message is not an object", false
}

// frameID returns the frame's id as JSON when it has a usable one, else null.
func frameID(frame []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(frame, &m) != nil {
		return "null"
	}
	id, ok := m["id"]
	if !ok {
		return "null"
	}
	var v any
	if json.Unmarshal(id, &v) != nil {
		return "null"
	}
	switch v.(type) {
	case string, float64:
		return string(id)
	}
	return "null"
}
