// This file implements the fault-injecting network the fault tests and
// the latency benchmarks run raft on: a wrapper around any raft
// transport (in-memory or TCP) that delays, drops and cuts the RPCs a
// node sends, since netem is not available on the test machines.

package cluster

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// errDropped is what a sender sees for an RPC the network lost or a
// partition cut: raft treats it as any transport failure and retries.
var errDropped = errors.New("faultnet: message lost")

// faultNet decides the fate of every RPC between the nodes wrapped by
// it. The random source is seeded, so a test's faults are a function of
// its seed and of the order raft sends in.
type faultNet struct {
	mu   sync.Mutex
	rng  *rand.Rand
	loss float64 // probability that a request or its answer is lost
	// oneWay is the delay between two nodes, each way; nil for none.
	oneWay func(from, to string) time.Duration
	cut    map[[2]string]bool // unordered pairs that cannot talk
	sent   int                // RPCs attempted, for the tests' sanity checks
	lost   int                // RPCs dropped by loss or a partition
}

func newFaultNet(seed uint64) *faultNet {
	return &faultNet{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cut: map[[2]string]bool{}}
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// isolate cuts id off from every node in others; heal mends every cut.
func (f *faultNet) isolate(id string, others []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range others {
		if o != id {
			f.cut[pair(id, o)] = true
		}
	}
}

func (f *faultNet) heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.cut)
}

func (f *faultNet) setLoss(p float64) {
	f.mu.Lock()
	f.loss = p
	f.mu.Unlock()
}

// fate returns whether the RPC from -> to is delivered, and its one-way
// delay.
func (f *faultNet) fate(from, to string) (bool, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent++
	var d time.Duration
	if f.oneWay != nil {
		d = f.oneWay(from, to)
	}
	if f.cut[pair(from, to)] || f.loss > 0 && f.rng.Float64() < f.loss {
		f.lost++
		return false, d
	}
	return true, d
}

func (f *faultNet) counts() (sent, lost int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent, f.lost
}

// faultTransport is one node's transport seen through the faultNet.
type faultTransport struct {
	raft.Transport
	net  *faultNet
	self string
}

func (f *faultNet) wrap(self string, t raft.Transport) *faultTransport {
	return &faultTransport{Transport: t, net: f, self: self}
}

// call runs one RPC to node to: the request waits the one-way delay and
// may be lost; the answer waits it again and may be lost too (the
// receiver then has acted on a request the sender thinks failed).
func (t *faultTransport) call(to raft.ServerID, rpc func() error) error {
	ok, d := t.net.fate(t.self, string(to))
	time.Sleep(d)
	if !ok {
		return fmt.Errorf("%w: %s -> %s", errDropped, t.self, to)
	}
	if err := rpc(); err != nil {
		return err
	}
	ok, d = t.net.fate(string(to), t.self)
	time.Sleep(d)
	if !ok {
		return fmt.Errorf("%w: answer %s -> %s", errDropped, to, t.self)
	}
	return nil
}

// AppendEntriesPipeline pipelines as raft's TCP transport does: the
// leader keeps sending batches while earlier ones are in flight, each
// delayed (and possibly lost) on its own.
func (t *faultTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p := &faultPipeline{t: t, id: id, target: target, reqs: make(chan *pipeFuture, 128), back: make(chan *pipeFuture, 128),
		out: make(chan raft.AppendFuture, 128), done: make(chan struct{})}
	go p.send()
	go p.answer()
	return p, nil
}

func (t *faultTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	return t.call(id, func() error { return t.Transport.AppendEntries(id, target, args, resp) })
}

func (t *faultTransport) RequestVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	return t.call(id, func() error { return t.Transport.RequestVote(id, target, args, resp) })
}

func (t *faultTransport) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	pv, ok := t.Transport.(raft.WithPreVote)
	if !ok {
		return fmt.Errorf("faultnet: the wrapped transport has no pre-vote")
	}
	return t.call(id, func() error { return pv.RequestPreVote(id, target, args, resp) })
}

func (t *faultTransport) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	return t.call(id, func() error { return t.Transport.InstallSnapshot(id, target, args, resp, data) })
}

func (t *faultTransport) TimeoutNow(id raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	return t.call(id, func() error { return t.Transport.TimeoutNow(id, target, args, resp) })
}

// Close closes the wrapped transport, as the node closes its own.
func (t *faultTransport) Close() error {
	if c, ok := t.Transport.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// faultPipeline delivers pipelined AppendEntries in order: a sender
// waits for each request's arrival time and hands it to the follower,
// an answerer waits for each answer's arrival time and hands the future
// to raft.
type faultPipeline struct {
	t          *faultTransport
	id         raft.ServerID
	target     raft.ServerAddress
	reqs, back chan *pipeFuture
	out        chan raft.AppendFuture
	done       chan struct{}
	once       sync.Once
}

type pipeFuture struct {
	start time.Time
	args  *raft.AppendEntriesRequest
	resp  *raft.AppendEntriesResponse
	due   time.Time // when the request, then the answer, arrives
	ok    bool      // whether it arrives at all
	err   error
	ready chan struct{}
}

func (f *pipeFuture) Error() error                          { <-f.ready; return f.err }
func (f *pipeFuture) Start() time.Time                      { return f.start }
func (f *pipeFuture) Request() *raft.AppendEntriesRequest   { return f.args }
func (f *pipeFuture) Response() *raft.AppendEntriesResponse { return f.resp }

var errPipeClosed = errors.New("faultnet: pipeline closed")

func (p *faultPipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	ok, d := p.t.net.fate(p.t.self, string(p.id))
	now := time.Now()
	f := &pipeFuture{start: now, args: args, resp: resp, due: now.Add(d), ok: ok, ready: make(chan struct{})}
	select {
	case p.reqs <- f:
		return f, nil
	case <-p.done:
		return nil, errPipeClosed
	}
}

func (p *faultPipeline) Consumer() <-chan raft.AppendFuture { return p.out }

func (p *faultPipeline) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// sleepUntil waits for t unless the pipeline closes first.
func (p *faultPipeline) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-p.done:
		return false
	}
}

func (p *faultPipeline) send() {
	for {
		var f *pipeFuture
		select {
		case f = <-p.reqs:
		case <-p.done:
			return
		}
		if !p.sleepUntil(f.due) {
			return
		}
		if !f.ok {
			f.err = fmt.Errorf("%w: %s -> %s", errDropped, p.t.self, p.id)
		} else if f.err = p.t.Transport.AppendEntries(p.id, p.target, f.args, f.resp); f.err == nil {
			var d time.Duration
			f.ok, d = p.t.net.fate(string(p.id), p.t.self)
			f.due = time.Now().Add(d)
			if !f.ok {
				f.err = fmt.Errorf("%w: answer %s -> %s", errDropped, p.id, p.t.self)
			}
		}
		select {
		case p.back <- f:
		case <-p.done:
			return
		}
	}
}

func (p *faultPipeline) answer() {
	for {
		var f *pipeFuture
		select {
		case f = <-p.back:
		case <-p.done:
			return
		}
		if f.err == nil && !p.sleepUntil(f.due) {
			return
		}
		close(f.ready)
		select {
		case p.out <- f:
		case <-p.done:
			return
		}
	}
}
