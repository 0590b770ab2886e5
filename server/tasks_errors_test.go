package server

import (
	"errors"
	"fmt"
	"testing"

	"github.com/knhk/knhk/runtime/queue"
)

// TestTaskErrorCodes: each broker refusal reaches the worker with the code
// docs/workers.md promises and the broker's message.
func TestTaskErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code Code
	}{
		{queue.ErrUnknownTask, CodeNotFound},
		{queue.ErrLeaseLost, CodeFailedPrecondition},
		{queue.ErrFinished, CodeFailedPrecondition},
		{queue.ErrBadResult, CodeInvalidArgument},
		{queue.ErrBadRequest, CodeInvalidArgument},
		{queue.ErrClosed, CodeUnavailable},
		{queue.ErrNotRecorded, CodeUnavailable},
	} {
		in := fmt.Errorf("%w: task \"k\"", tc.err)
		var e *Error
		if !errors.As(taskError(in, "id"), &e) || e.Code != tc.code || e.Message != in.Error() {
			t.Errorf("%v: got %+v, want code %v", tc.err, e, tc.code)
		}
	}
}
