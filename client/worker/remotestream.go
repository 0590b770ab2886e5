// This file implements Remote's WorkTasks stream.

package worker

import (
	"context"
	"errors"
	"io"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

var _ Streamer = remote{}

// OpenWork opens a member of a shared stream (shared.go).
func (r remote) OpenWork(ctx context.Context, queue, workerID string) (WorkStream, error) {
	return r.share.OpenWork(ctx, queue, workerID)
}

// rawStreams opens a WorkTasks stream of its own per call.
type rawStreams struct {
	api knhkv1connect.KnhkServiceClient
}

func (r rawStreams) OpenWork(ctx context.Context, queue, workerID string) (WorkStream, error) {
	return &remoteStream{st: r.api.WorkTasks(ctx), queue: queue, worker: workerID}, nil
}

// remoteStream is a WorkStream over the generated client's stream.
type remoteStream struct {
	st            *connect.BidiStreamForClient[knhkv1.WorkTasksRequest, knhkv1.WorkTasksResponse]
	queue, worker string
	named         bool  // the first message, naming the queue, was sent
	refused       error // the server's answer to a stream it ended unread
}

func (s *remoteStream) Send(credits int, done []Outcome) error {
	m := &knhkv1.WorkTasksRequest{Credits: int32(credits), Outcomes: make([]*knhkv1.TaskOutcome, len(done))}
	first := !s.named
	if first {
		m.Queue, m.Worker, s.named = s.queue, s.worker, true
	}
	for i, o := range done {
		m.Outcomes[i] = outcomeToWire(o)
	}
	err := s.st.Send(m)
	if first && errors.Is(err, io.EOF) {
		// The server answered before it read the first message (it
		// refused the stream: Unavailable on a cluster node without a
		// leader): the EOF only says so, the answer is in the response.
		// Nothing receives yet (Recv is called after the first Send
		// returns), and no task can be in it (no credit reached the
		// server), so the answer is read here and kept for Recv.
		err = s.answer(err)
	}
	return err
}

// answer reads the response of a stream the server ended before it
// read the first message, and returns the server's error (sendErr, the
// EOF, when it gave none).
func (s *remoteStream) answer(sendErr error) error {
	for {
		if _, err := s.st.Receive(); err != nil {
			if errors.Is(err, io.EOF) {
				err = sendErr
			}
			s.refused = err
			return err
		}
	}
}

func (s *remoteStream) Recv() ([]*Task, []Ack, error) {
	if s.refused != nil {
		return nil, nil, s.refused
	}
	m, err := s.st.Receive()
	if err != nil {
		return nil, nil, err
	}
	tasks := make([]*Task, len(m.GetTasks()))
	for i, t := range m.GetTasks() {
		tasks[i] = fromWire(t)
	}
	acks := make([]Ack, len(m.GetAcks()))
	for i, a := range m.GetAcks() {
		acks[i].ID = a.GetId()
		if a.GetCode() != "" {
			acks[i].Err = refusedCode(a.GetCode(), a.GetMessage())
		}
	}
	return tasks, acks, nil
}

func (s *remoteStream) Stop() error { return s.st.Send(&knhkv1.WorkTasksRequest{Stop: true}) }

func (s *remoteStream) CloseSend() error { return s.st.CloseRequest() }

func (s *remoteStream) Close() error {
	s.st.CloseRequest()
	return s.st.CloseResponse()
}

// refusedCode is the error of a refusal given as a code's text, as
// refused makes it of a plain call's error.
func refusedCode(code, message string) error {
	var c connect.Code
	if err := c.UnmarshalText([]byte(code)); err != nil {
		c = connect.CodeUnknown
	}
	return refused(connect.NewError(c, errors.New(message)))
}

// outcomeToWire converts one outcome.
func outcomeToWire(o Outcome) *knhkv1.TaskOutcome {
	c := &knhkv1.TaskOutcome{Id: o.ID, Token: o.LeaseToken}
	if o.Failed {
		c.Outcome = &knhkv1.TaskOutcome_Failure{Failure: o.Failure}
	} else {
		c.Outcome = &knhkv1.TaskOutcome_ResultJson{ResultJson: string(o.Result)}
	}
	return c
}
