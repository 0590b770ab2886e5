// This file implements StartCase's wait_ms: a start that also waits for
// the case's result, so that a client that wants the result (the usual
// request-response workflow) pays one round trip instead of a start
// and a WaitCase. On the queue benchmark the second call was about a
// tenth of the CPU a case cost, client and server together
// (bench/serve).

package server

import (
	"context"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
)

// slotKey is the context key of a call's slot release (WithSlotRelease).
type slotKey struct{}

// WithSlotRelease returns ctx carrying release, the end of the call's
// turn at a front that bounds a caller's calls in flight (server/tenant's
// in-flight gate). A start with wait_ms runs it once the case is started
// and before it waits: the gate counts the start, as it counts no
// WaitCase, and a caller with one slot can still signal the case it
// waits for. release must be safe to run twice (the front runs it again
// when the call returns).
func WithSlotRelease(ctx context.Context, release func()) context.Context {
	return context.WithValue(ctx, slotKey{}, release)
}

// releaseSlot ends the call's turn at its front, if any.
func releaseSlot(ctx context.Context) {
	if f, ok := ctx.Value(slotKey{}).(func()); ok {
		f()
	}
}

// checkStartWait refuses a negative wait_ms before anything is started.
func checkStartWait(m *knhkv1.StartCaseRequest) error {
	if m.GetWaitMs() < 0 {
		return toConnect(errf(CodeInvalidArgument, "wait_ms", "wait_ms is negative (%d)", m.GetWaitMs()))
	}
	return nil
}

// waitFunc is a server's WaitCase.
type waitFunc func(context.Context, *connect.Request[knhkv1.WaitCaseRequest]) (*connect.Response[knhkv1.WaitCaseResponse], error)

// startThenWait answers a start that succeeded: with m's wait_ms it
// first waits for the case with wait, as WaitCase would for timeout_ms,
// and adds what it says. The start is acknowledged whatever the wait
// gives: a wait that fails (the caller went away, a cluster's leader
// changed) leaves done false, and the caller waits with WaitCase. The
// wait holds no slot of the caller's in-flight bound (WithSlotRelease).
func startThenWait(ctx context.Context, m *knhkv1.StartCaseRequest, res *knhkv1.StartCaseResponse, wait waitFunc) *connect.Response[knhkv1.StartCaseResponse] {
	if m.GetWaitMs() > 0 {
		releaseSlot(ctx)
		w, err := wait(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: res.CaseId, TimeoutMs: m.GetWaitMs()}))
		if err == nil {
			res.Case, res.Done = w.Msg.GetCase(), w.Msg.GetDone()
		}
	}
	return connect.NewResponse(res)
}
