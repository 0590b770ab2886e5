// This file implements shared task streams: the workers of one Remote
// Conn that take tasks of the same queue share one WorkTasks stream, so
// that many narrow workers cost the server what one wide worker costs.
// A stream's messages carry the tasks, outcomes and acks that are ready
// together; with a stream per worker each carried fewer, and the server
// and the HTTP/2 stack paid per message (bench/serve: 64 workers of 4
// slots cost about a third more CPU per case than 8 workers of 32).

package worker

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
)

// maxStreamCredits is the server's bound on the credits one stream may
// have granted (server.MaxStreamCredits): a group takes members while
// their slots fit in it, and a worker past it opens another stream.
const maxStreamCredits = 256

// sharer hands out member streams of shared streams, one group per
// underlying stream, over s.
type sharer struct {
	s      Streamer
	mu     sync.Mutex
	groups map[string][]*group // by queue: the groups taking members
}

func newSharer(s Streamer) *sharer { return &sharer{s: s, groups: map[string][]*group{}} }

// OpenWork returns a member stream; it joins a group, or opens one, on
// its first Send, which carries the worker's slots.
func (h *sharer) OpenWork(ctx context.Context, queue, workerID string) (WorkStream, error) {
	m := &member{h: h, ctx: ctx, queue: queue, worker: workerID, wake: make(chan struct{}, 1)}
	return m, nil
}

// join adds m, granting credits, to a group of m's queue with room for
// them, or to a new one.
func (h *sharer) join(m *member, credits int) error {
	h.mu.Lock()
	var g *group
	for _, x := range h.groups[m.queue] {
		x.mu.Lock()
		if x.open() && x.room >= credits {
			g = x
			break
		}
		x.mu.Unlock()
	}
	fresh := g == nil
	if fresh {
		// The stream outlives the member that opened it: it ends with
		// the last of its members.
		ctx, cancel := context.WithCancel(context.WithoutCancel(m.ctx))
		st, err := h.s.OpenWork(ctx, m.queue, m.worker)
		if err != nil {
			h.mu.Unlock()
			cancel()
			return err
		}
		g = &group{h: h, st: st, cancel: cancel, queue: m.queue, room: maxStreamCredits, owner: map[string]*member{}}
		h.groups[m.queue] = append(h.groups[m.queue], g)
		g.mu.Lock()
	}
	h.mu.Unlock()
	g.room -= credits
	g.add(m, credits)
	// The credits go out before any other member's message, the
	// opener's first.
	g.sendMu.Lock()
	g.mu.Unlock()
	err := g.st.Send(credits, nil)
	g.sendMu.Unlock()
	if fresh {
		go g.receive() // it ends the members when the stream broke
	}
	return err
}

// leave takes g off the groups that take members.
func (h *sharer) leave(g *group) {
	h.mu.Lock()
	defer h.mu.Unlock()
	gs := h.groups[g.queue]
	for i, x := range gs {
		if x == g {
			h.groups[g.queue] = append(gs[:i:i], gs[i+1:]...)
			break
		}
	}
	if len(h.groups[g.queue]) == 0 {
		delete(h.groups, g.queue)
	}
}

// group is one underlying stream and the members that share it. The
// server counts the credits of the whole stream; the group keeps each
// member's, so that a task goes to a member with a free slot, and
// orphan: the credits of members that stopped or left, which the
// server may still use. A task pushed against them goes to a member
// still running as one more than its slots (a worker runs it on a
// goroutine of its own), and the next credits members grant pay them
// back before any reach the server.
type group struct {
	h      *sharer
	st     WorkStream
	cancel context.CancelFunc
	queue  string
	sendMu sync.Mutex // Send and CloseSend on st, in order

	mu       sync.Mutex
	members  []*member
	owner    map[string]*member // outcome ID -> the member that sent it, until acked
	room     int                // credits new members may still bring
	orphan   int
	accepted bool // the server answered: members get an empty first message
	stopped  bool // st was stopped or half-closed: no more members
	dead     bool // st ended
}

func (g *group) open() bool { return !g.stopped && !g.dead }

// add makes m a member with credits; g.mu is held.
func (g *group) add(m *member, credits int) {
	m.g, m.credits = g, credits
	g.members = append(g.members, m)
	if g.accepted {
		m.push(received{})
	}
}

// receive routes the stream's messages to the members until it ends.
func (g *group) receive() {
	for {
		tasks, acks, err := g.st.Recv()
		g.mu.Lock()
		if err != nil {
			g.dead = true
			for _, m := range g.members {
				m.end(err)
			}
			g.mu.Unlock()
			g.h.leave(g)
			return
		}
		if !g.accepted {
			g.accepted = true
			for _, m := range g.members {
				m.push(received{})
			}
		}
		by := map[*member]*received{}
		for _, a := range acks {
			if m := g.owner[a.ID]; m != nil {
				delete(g.owner, a.ID)
				r := at(by, m)
				r.acks = append(r.acks, a)
			}
		}
		for _, t := range tasks {
			if m := g.pick(); m != nil {
				r := at(by, m)
				r.tasks = append(r.tasks, t)
			}
			// With no member left the lease runs out and the engine
			// retries the attempt, as when a worker dies.
		}
		for m, r := range by {
			m.push(*r)
		}
		g.mu.Unlock()
	}
}

func at(by map[*member]*received, m *member) *received {
	r := by[m]
	if r == nil {
		r = &received{}
		by[m] = r
	}
	return r
}

// pick is the member a pushed task goes to: the first with a credit
// left, else (a task pushed against orphan credits) the first still
// running, else the first not done; g.mu is held.
func (g *group) pick() *member {
	for _, m := range g.members {
		if m.credits > 0 {
			m.credits--
			return m
		}
	}
	g.orphan = max(g.orphan-1, 0)
	var last *member
	for _, m := range g.members {
		if !m.halfClosed && !m.ended {
			if !m.stopping {
				return m
			}
			if last == nil {
				last = m
			}
		}
	}
	return last
}

// member is one worker's stream in a group: what [WorkStream] a shared
// Streamer hands out.
type member struct {
	h             *sharer
	ctx           context.Context
	queue, worker string
	g             *group

	// Under g.mu:
	credits    int
	stopping   bool // Stop: its credits are taken back
	halfClosed bool // CloseSend: no more tasks for it
	ended      bool // its Recv ends once q is read
	q          []received
	err        error
	wake       chan struct{}
}

// push queues r for Recv; g.mu is held.
func (m *member) push(r received) {
	if m.ended {
		return
	}
	m.q = append(m.q, r)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// end makes Recv return err once the messages queued are read; g.mu is
// held.
func (m *member) end(err error) {
	if m.ended {
		return
	}
	m.ended, m.err = true, err
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *member) Send(credits int, done []Outcome) error {
	if m.g == nil {
		if len(done) > 0 {
			return errors.New("worker: outcomes sent before the stream's first credits")
		}
		return m.h.join(m, credits)
	}
	g := m.g
	g.mu.Lock()
	if g.dead || m.ended {
		g.mu.Unlock()
		return net.ErrClosed
	}
	for _, o := range done {
		g.owner[o.ID] = m
	}
	m.credits += credits
	back := min(credits, g.orphan)
	g.orphan -= back
	g.sendMu.Lock()
	g.mu.Unlock()
	defer g.sendMu.Unlock()
	return g.st.Send(credits-back, done)
}

func (m *member) Recv() ([]*Task, []Ack, error) {
	g := m.g
	if g == nil {
		return nil, nil, errors.New("worker: Recv before the stream's first credits")
	}
	for {
		g.mu.Lock()
		if len(m.q) > 0 {
			r := m.q[0]
			m.q[0] = received{}
			m.q = m.q[1:]
			g.mu.Unlock()
			return r.tasks, r.acks, nil
		}
		if m.ended {
			err := m.err
			g.mu.Unlock()
			return nil, nil, err
		}
		g.mu.Unlock()
		<-m.wake
	}
}

// Stop takes m's credits back: they become the group's orphans, and
// once every member stopped the stream itself is stopped.
func (m *member) Stop() error {
	g := m.g
	g.mu.Lock()
	if m.stopping {
		g.mu.Unlock()
		return nil
	}
	m.stopping = true
	g.orphan += m.credits
	m.credits = 0
	all := g.all(func(x *member) bool { return x.stopping || x.halfClosed })
	if all {
		g.stopped = true
	}
	g.sendMu.Lock()
	g.mu.Unlock()
	defer g.sendMu.Unlock()
	if all {
		return g.st.Stop()
	}
	return nil
}

// CloseSend ends m's side: its Recv ends at once while another member
// still takes tasks (they take those still on their way), and with the
// stream's end when m is the last.
func (m *member) CloseSend() error {
	g := m.g
	g.mu.Lock()
	m.halfClosed = true
	if !m.stopping {
		m.stopping = true
		g.orphan += m.credits
		m.credits = 0
	}
	last := g.all(func(x *member) bool { return x.halfClosed })
	if !last {
		m.end(io.EOF)
		g.mu.Unlock()
		return nil
	}
	g.stopped = true
	g.sendMu.Lock()
	g.mu.Unlock()
	defer g.sendMu.Unlock()
	return g.st.CloseSend()
}

// Close leaves the group; the last member closes the stream.
func (m *member) Close() error {
	g := m.g
	if g == nil {
		return nil
	}
	g.mu.Lock()
	for i, x := range g.members {
		if x == m {
			g.members = append(g.members[:i:i], g.members[i+1:]...)
			break
		}
	}
	if !m.stopping {
		g.orphan += m.credits
		m.credits = 0
	}
	m.end(net.ErrClosed)
	last := len(g.members) == 0
	if last {
		g.stopped = true
	}
	g.mu.Unlock()
	if !last {
		return nil
	}
	g.h.leave(g)
	err := g.st.Close()
	g.cancel()
	return err
}

// all says whether every member is f; g.mu is held.
func (g *group) all(f func(*member) bool) bool {
	for _, m := range g.members {
		if !f(m) {
			return false
		}
	}
	return true
}
