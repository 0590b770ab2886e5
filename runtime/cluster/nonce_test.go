package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ctxNonce is a request's one-time keys and time.
type ctxNonce struct {
	keys []string
	at   time.Time
}

// on returns a context of t carrying n.
func (n ctxNonce) on(t *testing.T) context.Context {
	return WithNonce(ctx(t), n.keys, "", n.at, n.at.Add(5*time.Minute))
}

// TestNonceInTheLog replays a request's one-time key on the leader and,
// after the leadership moved, on the new leader: the log refuses both,
// a start and a deploy alike, and a request with a fresh key goes on.
func TestNonceInTheLog(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	c.add("n1", nil, func(cfg *Config) { cfg.Compile = gateCompile })
	l := c.leader()
	n2 := c.add("n2", nil, func(cfg *Config) { cfg.Compile = gateCompile })
	if err := l.Join(ctx(t), Member{ID: "n2", Raft: "n2", API: "api-n2"}, n2.ProgramHash()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	req := func(key string) ctxNonce { return ctxNonce{[]string{"acme\x00" + key}, now} }
	if err := l.Start(req("k1").on(t), "", "a", "W", []any{"a"}); err != nil {
		t.Fatal(err)
	}
	wantReplay := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrReplay) || !strings.Contains(err.Error(), "acme k1") {
			t.Fatalf("%s: %v, want a replay refusal naming acme k1", what, err)
		}
	}
	wantReplay("a second start with k1", l.Start(req("k1").on(t), "", "b", "W", []any{"b"}))
	_, err := l.Deploy(req("k1").on(t), "v.knhk", []byte(strings.Replace(testSource, "got = x\n", "got = x * 10\n", 1)))
	wantReplay("a deploy with k1", err)
	if _, _, ok := l.FSM().Case("b"); ok || len(l.FSM().Deployed()) != 0 {
		t.Fatal("a replayed request took effect")
	}

	// The leadership moves to n2, which received no request: its log
	// has k1 all the same.
	waitFor(t, "n2 to vote", func() bool { return len(c.voters()) == 2 })
	if err := l.r.LeadershipTransfer().Error(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 to lead", n2.IsLeader)
	wantReplay("k1 on the new leader", n2.Start(req("k1").on(t), "", "c", "W", []any{"c"}))
	if err := n2.Start(req("k2").on(t), "", "c", "W", []any{"c"}); err != nil {
		t.Fatalf("a fresh key: %v", err)
	}
	// Each request's keys ride on its first command only: one request
	// proposing twice does not refuse itself.
	cx := req("k3").on(t)
	if err := n2.Start(cx, "", "d", "W", []any{"d"}); err != nil {
		t.Fatal(err)
	}
	if err := n2.Start(cx, "", "e", "W", []any{"e"}); err != nil {
		t.Fatalf("the same context's second command: %v", err)
	}
}

// TestNonceSnapshot restores a snapshot into another FSM: the keys the
// log used are refused there too.
func TestNonceSnapshot(t *testing.T) {
	prog := compile(t, testSource)
	c := newTestCluster(t, prog)
	l := c.add("n1", nil, nil)
	c.leader()
	now := time.Now()
	if err := l.Start(ctxNonce{[]string{"acme\x00s1"}, now}.on(t), "", "a", "W", []any{"a"}); err != nil {
		t.Fatal(err)
	}
	f, _ := roundTrip(t, l.FSM())
	f.mu.Lock()
	err := f.useNonce(&Nonce{Keys: []string{"acme\x00s1"}, At: now.UnixNano(), Until: now.Add(time.Minute).UnixNano()}, "")
	f.mu.Unlock()
	if !errors.Is(err, ErrReplay) {
		t.Fatalf("a key used before the snapshot, after its restore: %v", err)
	}
	if !strings.Contains(err.Error(), "acme s1") {
		t.Fatalf("the refusal names the key otherwise: %v", err)
	}
}

// TestNonceForget forgets a key once requests a minute past its expiry
// came through the log, and not before.
func TestNonceForget(t *testing.T) {
	f := &FSM{}
	at := time.Unix(1000, 0)
	use := func(key string, at time.Time) error {
		return f.useNonce(&Nonce{Keys: []string{key}, At: at.UnixNano(), Until: at.Add(5 * time.Minute).UnixNano()}, "")
	}
	if err := use("old", at); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1100; i++ {
		if err := use(fmt.Sprint("k", i), at.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := use("old", at); !errors.Is(err, ErrReplay) {
		t.Fatalf("forgotten within its window: %v", err)
	}
	for i := 0; i < 1100; i++ {
		use(fmt.Sprint("later", i), at.Add(7*time.Minute))
	}
	if _, ok := f.nonces.seen["old"]; ok {
		t.Fatal("a key long stale is still held")
	}
}

// TestNonceSnapshotForgetsAlike restores a snapshot taken between two
// sweeps of stale keys: the restored replica then forgets the same keys
// at the same entry as the replica it was taken from.
func TestNonceSnapshotForgetsAlike(t *testing.T) {
	f := &FSM{}
	at := time.Unix(1000, 0)
	use := func(f *FSM, key string, at time.Time) {
		if err := f.useNonce(&Nonce{Keys: []string{key}, At: at.UnixNano(), Until: at.Add(5 * time.Minute).UnixNano()}, ""); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		use(f, fmt.Sprint("k", i), at)
	}
	g := &FSM{nonces: f.nonces.wire().restore()}
	for i := 0; i < 100; i++ {
		later := at.Add(7 * time.Minute)
		use(f, fmt.Sprint("later", i), later)
		use(g, fmt.Sprint("later", i), later)
		if len(f.nonces.seen) != len(g.nonces.seen) {
			t.Fatalf("after %d more keys: %d keys held, the restored replica holds %d", i+1, len(f.nonces.seen), len(g.nonces.seen))
		}
	}
	if _, ok := f.nonces.seen["k0"]; ok {
		t.Fatal("no sweep happened: the test shows nothing")
	}
}

// TestNonceSnapshotAfterSweep: a snapshot taken when a sweep has
// forgotten every key still carries the newest request time, so that a
// restored replica sweeps as the others do.
func TestNonceSnapshotAfterSweep(t *testing.T) {
	f, _ := newTestFSM(t)
	f.nonces = nonceSet{seen: map[string]int64{}, newest: 42}
	g, _ := roundTrip(t, f)
	if g.nonces.newest != 42 {
		t.Fatalf("restored newest %d, want 42", g.nonces.newest)
	}
}

// TestNonceRetry applies a start whose nonce is bound to its request
// digest and request id, then the same start again (a client that timed
// out sent it again; here it reaches the log after the first, as after
// a failover): it gets the first outcome, the case starts once. The same
// key with another digest, another request id or none, or put next to
// a fresh key, is refused as a replay; so on a replica restored from a
// snapshot.
func TestNonceRetry(t *testing.T) {
	f, h := newTestFSM(t)
	at := time.Unix(1700000000, 0)
	nonce := func(bind string, keys ...string) *Nonce {
		return &Nonce{Keys: keys, Bind: bind, At: at.UnixNano(), Until: at.Add(5 * time.Minute).UnixNano()}
	}
	start := func(req, id, bind string, keys ...string) *Command {
		return &Command{Op: OpEvent, ReqID: req, Program: h, Case: id, Event: startEvent(t), Nonce: nonce(bind, keys...)}
	}
	if r := f.Apply(entry(t, 1, start("r1", "c1", "D", "acme\x00k1"))).(*Result); r.Err != nil || r.Dup {
		t.Fatalf("the first start: %+v", r)
	}
	check := func(f *FSM, i uint64) {
		t.Helper()
		if r := f.Apply(entry(t, i, start("r1", "c1", "D", "acme\x00k1"))).(*Result); r.Err != nil || !r.Dup || r.Index != 1 {
			t.Fatalf("the retry: %+v, want the first outcome (index 1, a duplicate)", r)
		}
		for what, c := range map[string]*Command{
			"another body":          start("r1", "c1", "E", "acme\x00k1"),
			"another request id":    start("r2", "c2", "D", "acme\x00k1"),
			"no request id":         start("", "c3", "D", "acme\x00k1"),
			"no digest":             start("r1", "c1", "", "acme\x00k1"),
			"the key next to a new": start("r1", "c1", "D", "acme\x00k1", "acme\x00k9"),
		} {
			if r := f.Apply(entry(t, i+1, c)).(*Result); !errors.Is(r.Err, ErrReplay) {
				t.Fatalf("%s: %+v, want a replay refusal", what, r)
			}
		}
		if got := f.Cases(false); len(got) != 1 || got[0] != "c1" {
			t.Fatalf("cases %v, want c1 alone", got)
		}
	}
	check(f, 2)
	g, _ := roundTrip(t, f)
	check(g, 10)
	// A key used without a request id stays once only, retry or not.
	if r := f.Apply(entry(t, 20, start("", "c4", "F", "acme\x00k2"))).(*Result); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := f.Apply(entry(t, 21, start("", "c4", "F", "acme\x00k2"))).(*Result); !errors.Is(r.Err, ErrReplay) {
		t.Fatalf("a request without an id sent again: %+v, want a replay refusal", r)
	}
}
