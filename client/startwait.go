// This file implements StartAndWait: a start and its result in one
// round trip (StartCase's wait_ms).

package client

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
)

// StartAndWait starts a case as Start does and waits until it ends, as
// Wait does, and returns its summary (CaseId names the case). The start
// and the wait go in one call (StartCase with wait_ms) and cost one
// round trip; a case that runs longer than that call's long poll, or a
// server that does not wait on a start, is waited for with WaitCase. An
// error after the start was acknowledged returns the summary so far,
// which names the case, with the error; a retry with req's RequestId
// starts nothing new.
func (c *Client) StartAndWait(ctx context.Context, req *knhkv1.StartCaseRequest) (*knhkv1.CaseSummary, error) {
	m := proto.CloneOf(req) // req is the caller's
	m.WaitMs = pollMs(ctx)
	r, err := c.api.StartCase(ctx, connect.NewRequest(m))
	if err != nil {
		return nil, err
	}
	if r.Msg.Done && r.Msg.Case != nil {
		return r.Msg.Case, nil
	}
	s, err := c.Wait(ctx, r.Msg.CaseId)
	if s == nil {
		s = r.Msg.Case
	}
	if s == nil {
		s = &knhkv1.CaseSummary{CaseId: r.Msg.CaseId}
	}
	return s, err
}
