// This file implements the refusal to drive a case that knhk run
// --mock started: its mocked tasks would otherwise call the real
// services its program binds them to.

package server

import (
	"bytes"
	"context"
	"encoding/json"
)

// StatusMocked is the status of a case knhk run --mock started in the
// data directory before this server took it over. The server keeps it
// as it stands and does not run it: the mock (canned task results and a
// clock that skips ahead) lives in the CLI, and running the case here
// would call the real services the mock stood in for. Signal, Cancel,
// Query and Wait refuse it (failed_precondition) with the summary's
// Error, which Get and ListCases show. knhk signal and resume go on with it, with its
// mock, once the server is stopped.
const StatusMocked = "mocked"

// mockedMessage says why case id is not run and how to go on with it.
func mockedMessage(id string) string {
	return "case " + id + " was started with knhk run --mock; knhk serve does not run mocked cases (it would call the real services the mock stands in for): stop the server and go on with knhk signal or knhk resume --data DIR " + id
}

// isMocked reports whether a CLI case's metadata carries a mock.
func isMocked(mock json.RawMessage) bool {
	m := bytes.TrimSpace(mock)
	return len(m) > 0 && !bytes.Equal(m, []byte("null"))
}

// holdMocked gives mocked case e the summary its log says (where it
// waits, or how it ended after knhk signal or resume finished it) and,
// while it has not ended, the mocked status and message. It is not
// driven; its ready channel is closed so nothing waits for a driver.
func (s *Service) holdMocked(ctx context.Context, e *caseEntry) {
	defer close(e.ready)
	sum := e.sum
	if p, err := s.program(sum.Program); err == nil {
		if st, err := s.stateOf(ctx, p, e.id); err == nil {
			sum = summarize(p, sum, st)
		}
	}
	if !sum.Done() {
		sum.Status, sum.Error, sum.Idle = StatusMocked, mockedMessage(e.id), false
	}
	e.sum = sum
}
