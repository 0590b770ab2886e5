// This file implements the default timeout of HTTP calls: a silent
// server must not hold a case forever when the task has no timeout.

package worker

import (
	"context"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// DefaultHTTPTimeout bounds one attempt of an http task, or of a std
// http.* task, that has no timeout clause (on the task or the call). A
// timeout clause replaces it, longer or shorter. Running out fails the
// attempt like any timeout, so the task's retries apply.
const DefaultHTTPTimeout = 30 * time.Second

// httpDeadline gives ctx the default HTTP timeout when t calls over HTTP
// and ctx has no deadline of its own (the engine sets one from a timeout
// clause).
func httpDeadline(ctx context.Context, t *ir.Task, d time.Duration) (context.Context, context.CancelFunc) {
	isHTTP := t.Binding.Kind == ir.BindHTTP ||
		t.Binding.Kind == ir.BindStd && strings.HasPrefix(t.Binding.Target, "http.")
	if _, ok := ctx.Deadline(); ok || !isHTTP {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
