// This file implements the bookkeeping that lets shutdown wait until the
// requests that arrived before it are answered on the wire.

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
)

// answers tracks the concurrent requests whose answers are not written
// yet. jsonrpc2 writes an answer after its handler returns, so a handler
// that has returned is not yet answered; only the stream knows. Shutdown
// waits for every earlier answer: the client sends exit once shutdown is
// answered, exit closes the stream, and an answer written after that would
// be lost (an editor that asked for a hover and then shut down waits for
// it).
type answers struct {
	mu      sync.Mutex
	pending map[string]bool
	idle    chan struct{} // closed while nothing is pending; nil otherwise
}

// expect records that the request with the given id will be answered.
func (a *answers) expect(id jsonrpc2.ID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = make(map[string]bool)
	}
	a.pending[idKey(id)] = true
	a.idle = nil
}

// written records that a message went out on the stream; an answer to a
// pending request settles it.
func (a *answers) written(data []byte) {
	key, ok := answerID(data)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.pending[key] {
		return
	}
	delete(a.pending, key)
	if len(a.pending) == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
	}
}

// wait waits until every pending request is answered, or grace has passed
// (an answer whose write failed is never settled).
func (a *answers) wait(grace time.Duration) {
	a.mu.Lock()
	if len(a.pending) == 0 {
		a.mu.Unlock()
		return
	}
	if a.idle == nil {
		a.idle = make(chan struct{})
	}
	idle := a.idle
	a.mu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// idKey is the key of a request id, the same as answerID's for its answer.
func idKey(id jsonrpc2.ID) string {
	if n, ok := id.Number(); ok {
		return "n" + strconv.FormatInt(n, 10)
	}
	s, _ := id.StringValue()
	return "s" + s
}

// answerID returns the key of the request a written message answers, if
// it is an answer: a message with an id and a result or error (a request
// of the server's own has an id and a method).
func answerID(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	var key string
	var haveID, answer bool
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		name, _ := t.(string)
		switch name {
		case "id":
			v, err := dec.Token()
			if err != nil {
				return "", false
			}
			switch v := v.(type) {
			case json.Number:
				key, haveID = "n"+v.String(), true
			case string:
				key, haveID = "s"+v, true
			}
		case "result", "error":
			answer = true
		case "method":
			return "", false
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", false
			}
			continue
		}
		if haveID && answer {
			return key, true
		}
		if name == "result" || name == "error" {
			// The id may follow the result: skip the value and read on.
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", false
			}
		}
	}
	return "", false
}

// Write encodes and writes a message, then tells the answer bookkeeping.
func (s *resilientStream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	data, err := jsonrpc2.EncodeMessage(msg)
	if err != nil {
		return 0, err
	}
	n, err := s.frames.WriteFrame(ctx, data)
	if err == nil && s.answers != nil {
		s.answers.written(data)
	}
	return n, err
}
