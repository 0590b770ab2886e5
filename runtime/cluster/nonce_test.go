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
	return WithNonce(ctx(t), n.keys, n.at, n.at.Add(5*time.Minute))
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
	err := f.useNonce(&Nonce{Keys: []string{"acme\x00s1"}, At: now.UnixNano(), Until: now.Add(time.Minute).UnixNano()})
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
		return f.useNonce(&Nonce{Keys: []string{key}, At: at.UnixNano(), Until: at.Add(5 * time.Minute).UnixNano()})
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
		if err := f.useNonce(&Nonce{Keys: []string{key}, At: at.UnixNano(), Until: at.Add(5 * time.Minute).UnixNano()}); err != nil {
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
