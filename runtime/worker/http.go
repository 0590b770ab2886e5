// This file implements http tasks: a JSON request to an endpoint.

package worker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/knhk/knhk/runtime/eval"
)

// maxBody bounds the response body read from an endpoint.
const maxBody = 16 << 20

func (w *Worker) http(ctx context.Context, c *call) (eval.Value, error) {
	b := c.task.Binding
	method := b.Method
	if method == "" {
		method = http.MethodPost
	}
	body, err := w.argsJSON(c)
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.Target, bytes.NewReader(body))
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", c.inv.IdempotencyKey)
	status, data, err := w.do(req)
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	if status >= 400 {
		return eval.Value{}, fmt.Errorf("task %s: %s %s: status %d: %s", c.task.Name, method, b.Target, status, excerpt(data, 500))
	}
	return w.result(c, data)
}

// do sends req and reads at most maxBody bytes of the answer.
func (w *Worker) do(req *http.Request) (int, []byte, error) {
	resp, err := w.o.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > maxBody {
		return 0, nil, fmt.Errorf("%s %s: response body over %d bytes", req.Method, req.URL, maxBody)
	}
	return resp.StatusCode, data, nil
}
