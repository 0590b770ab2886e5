// This file implements the tasks of the std modules (stdlib/std).

package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/eval"
)

// stdFunc implements one std task; args are of the task's parameter
// types, as declared in stdlib/std.
type stdFunc func(ctx context.Context, w *Worker, c *call) (eval.Value, error)

// stdTasks maps the target of a std binding to its implementation.
var stdTasks = map[string]stdFunc{
	// The engine runs the calls of time.sleep in a case's net as durable
	// timers and never invokes them here; this serves the rest (a hook's
	// or compensation's own call, an embedder's direct call).
	"time.sleep": func(ctx context.Context, _ *Worker, c *call) (eval.Value, error) {
		t := time.NewTimer(c.args[0].AsDuration())
		defer t.Stop()
		select {
		case <-t.C:
			return eval.Void, nil
		case <-ctx.Done():
			return eval.Value{}, ctx.Err()
		}
	},
	"time.now": func(context.Context, *Worker, *call) (eval.Value, error) {
		return eval.Time(time.Now()), nil
	},
	"log.info":  logTask("info"),
	"log.warn":  logTask("warn"),
	"log.error": logTask("error"),
	"kv.get": func(_ context.Context, w *Worker, c *call) (eval.Value, error) {
		m, err := w.kvLoad()
		if err != nil {
			return eval.Value{}, err
		}
		if v, ok := m[c.args[0].AsString()]; ok {
			return eval.Str(v), nil
		}
		return eval.None, nil
	},
	"kv.put": func(_ context.Context, w *Worker, c *call) (eval.Value, error) {
		return eval.Void, w.kvUpdate(func(m map[string]string) { m[c.args[0].AsString()] = c.args[1].AsString() })
	},
	"kv.delete": func(_ context.Context, w *Worker, c *call) (eval.Value, error) {
		return eval.Void, w.kvUpdate(func(m map[string]string) { delete(m, c.args[0].AsString()) })
	},
	"http.get":    httpTask(http.MethodGet, false),
	"http.post":   httpTask(http.MethodPost, true),
	"http.put":    httpTask(http.MethodPut, true),
	"http.delete": httpTask(http.MethodDelete, false),
	"http.request": func(ctx context.Context, w *Worker, c *call) (eval.Value, error) {
		req, err := http.NewRequestWithContext(ctx, c.args[0].AsString(), c.args[1].AsString(), strings.NewReader(c.args[2].AsString()))
		if err != nil {
			return eval.Value{}, err
		}
		h := c.args[3]
		for i := 0; i < h.Len(); i++ {
			req.Header.Set(h.Key(i).AsString(), h.Index(i).AsString())
		}
		if req.Header.Get("Idempotency-Key") == "" {
			req.Header.Set("Idempotency-Key", c.inv.IdempotencyKey)
		}
		resp, err := w.o.Client.Do(req)
		if err != nil {
			return eval.Value{}, err
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		if _, err := body.ReadFrom(http.MaxBytesReader(nil, resp.Body, maxBody)); err != nil {
			return eval.Value{}, err
		}
		var ks, vs []eval.Value
		for k := range resp.Header {
			ks = append(ks, eval.Str(k))
			vs = append(vs, eval.Str(resp.Header.Get(k)))
		}
		rt := w.prog.Type(c.task.Result)
		if rt == nil {
			return eval.Value{}, fmt.Errorf("http.request is declared with a result that is not a record")
		}
		fields := make([]eval.Value, len(rt.Fields))
		for i, f := range rt.Fields {
			switch f.Name {
			case "status":
				fields[i] = eval.Int(int64(resp.StatusCode))
			case "body":
				fields[i] = eval.Str(body.String())
			case "headers":
				fields[i] = eval.Map(ks, vs)
			default:
				return eval.Value{}, fmt.Errorf("http.request: unknown response field %s", f.Name)
			}
		}
		return eval.Record(rt, fields), nil
	},
	"strings.upper": strTask(strings.ToUpper),
	"strings.lower": strTask(strings.ToLower),
	"strings.trim":  strTask(strings.TrimSpace),
	"strings.split": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		parts := strings.Split(c.args[0].AsString(), c.args[1].AsString())
		out := make([]eval.Value, len(parts))
		for i, p := range parts {
			out[i] = eval.Str(p)
		}
		return eval.List(out), nil
	},
	"strings.join": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		l := c.args[0]
		parts := make([]string, l.Len())
		for i := range parts {
			parts[i] = l.Index(i).AsString()
		}
		return eval.Str(strings.Join(parts, c.args[1].AsString())), nil
	},
	"strings.replace": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		return eval.Str(strings.ReplaceAll(c.args[0].AsString(), c.args[1].AsString(), c.args[2].AsString())), nil
	},
	"json.valid": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		return eval.Bool(json.Valid([]byte(c.args[0].AsString()))), nil
	},
	"json.get": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		var doc any
		if err := json.Unmarshal([]byte(c.args[0].AsString()), &doc); err != nil {
			return eval.Value{}, fmt.Errorf("json.get: %w", err)
		}
		x, ok := pointer(doc, c.args[1].AsString())
		if !ok {
			return eval.None, nil
		}
		b, err := json.Marshal(x)
		if err != nil {
			return eval.Value{}, err
		}
		return eval.Str(string(b)), nil
	},
	"json.fields": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		var m map[string]string
		if err := json.Unmarshal([]byte(c.args[0].AsString()), &m); err != nil {
			return eval.Value{}, fmt.Errorf("json.fields: %w", err)
		}
		var ks, vs []eval.Value
		for k, v := range m {
			ks = append(ks, eval.Str(k))
			vs = append(vs, eval.Str(v))
		}
		return eval.Map(ks, vs), nil
	},
	"json.pretty": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(c.args[0].AsString()), "", "  "); err != nil {
			return eval.Value{}, fmt.Errorf("json.pretty: %w", err)
		}
		return eval.Str(b.String()), nil
	},
	"crypto.sha256": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		sum := sha256.Sum256([]byte(c.args[0].AsString()))
		return eval.Str(hex.EncodeToString(sum[:])), nil
	},
	"crypto.hmac": func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		m := hmac.New(sha256.New, []byte(c.args[0].AsString()))
		m.Write([]byte(c.args[1].AsString()))
		return eval.Str(hex.EncodeToString(m.Sum(nil))), nil
	},
	"crypto.random_id": func(context.Context, *Worker, *call) (eval.Value, error) {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return eval.Value{}, err
		}
		return eval.Str(hex.EncodeToString(b[:])), nil
	},
}

func (w *Worker) std(ctx context.Context, c *call) (eval.Value, error) {
	f, ok := stdTasks[c.task.Binding.Target]
	if !ok {
		return eval.Value{}, fmt.Errorf("task %s: no std task %q", c.task.Name, c.task.Binding.Target)
	}
	if len(c.args) != len(c.task.Params) {
		return eval.Value{}, fmt.Errorf("task %s: wrong number of arguments", c.task.Name)
	}
	v, err := stdCall(ctx, f, w, c)
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	if err := w.checkResult(c, v); err != nil {
		return eval.Value{}, err
	}
	return v, nil
}

// stdCall runs f, turning a panic from a std task declared with other
// parameter types than the implementation expects into an error.
func stdCall(ctx context.Context, f stdFunc, w *Worker, c *call) (v eval.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("std task %s does not match its declaration: %v", c.task.Binding.Target, r)
		}
	}()
	return f(ctx, w, c)
}

func logTask(level string) stdFunc {
	return func(_ context.Context, w *Worker, c *call) (eval.Value, error) {
		w.logM.Lock()
		defer w.logM.Unlock()
		_, err := fmt.Fprintf(w.o.Log, "%s [%s] %s\n", level, c.inv.CaseID, c.args[0].AsString())
		return eval.Void, err
	}
}

func strTask(f func(string) string) stdFunc {
	return func(_ context.Context, _ *Worker, c *call) (eval.Value, error) {
		return eval.Str(f(c.args[0].AsString())), nil
	}
}

// httpTask implements http.get, post, put and delete: the body is the
// second argument when withBody; a status of 400 or more fails.
func httpTask(method string, withBody bool) stdFunc {
	return func(ctx context.Context, w *Worker, c *call) (eval.Value, error) {
		url := c.args[0].AsString()
		var body *strings.Reader
		if withBody {
			body = strings.NewReader(c.args[1].AsString())
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequestWithContext(ctx, method, url, body)
		if err != nil {
			return eval.Value{}, err
		}
		req.Header.Set("Idempotency-Key", c.inv.IdempotencyKey)
		status, data, err := w.do(req)
		if err != nil {
			return eval.Value{}, err
		}
		if status >= 400 {
			return eval.Value{}, fmt.Errorf("%s %s: status %d: %s", method, url, status, excerpt(data, 500))
		}
		return eval.Str(string(data)), nil
	}
}

// pointer resolves a JSON pointer (RFC 6901) in doc.
func pointer(doc any, p string) (any, bool) {
	if p == "" {
		return doc, true
	}
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := doc.(type) {
		case map[string]any:
			v, ok := x[tok]
			if !ok {
				return nil, false
			}
			doc = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			doc = x[i]
		default:
			return nil, false
		}
	}
	return doc, true
}
