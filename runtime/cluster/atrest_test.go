package cluster

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// gcmSealer is a Sealer with an AES-256-GCM key; forget destroys it.
type gcmSealer struct{ aead cipher.AEAD }

func newGCMSealer(t testing.TB) *gcmSealer {
	key := make([]byte, 32)
	rand.Read(key)
	b, _ := aes.NewCipher(key)
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return &gcmSealer{aead: a}
}

func (g *gcmSealer) Seal(p []byte) ([]byte, error) {
	if g.aead == nil {
		return nil, errors.New("the key is destroyed")
	}
	nonce := make([]byte, g.aead.NonceSize())
	rand.Read(nonce)
	return g.aead.Seal(nonce, nonce, p, nil), nil
}

func (g *gcmSealer) Open(c []byte) ([]byte, error) {
	if g.aead == nil {
		return nil, errors.New("the key is destroyed")
	}
	n := g.aead.NonceSize()
	if len(c) < n {
		return nil, errors.New("short")
	}
	return g.aead.Open(nil, c[:n], c[n:], nil)
}

// TestAtRestSealed runs a node whose raft data is sealed: nothing of a
// case's input reaches the disk in clear, a restart reads its log and
// snapshot back, a follower is caught up from a sealed snapshot, and
// once the key is destroyed the node's copy opens no more.
func TestAtRestSealed(t *testing.T) {
	const secret = "top-secret-payload-41"
	prog := compile(t, testSource)
	fx := &effects{calls: map[string]int{}}
	dir := t.TempDir()
	s := newGCMSealer(t)
	open := func() (*Node, error) {
		return NewNode(Config{ID: "n1", Raft: "127.0.0.1:0", Dir: dir, Bootstrap: true, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{Registry: fx.registry()}), Timing: fastTiming, AtRest: s})
	}
	n, err := open()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n1 to lead", n.IsLeader)
	if err := n.Start(ctx(t), "", "a", "W", []any{secret}); err != nil {
		t.Fatal(err)
	}
	if err := n.r.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx(t), "", "b", "W", []any{secret}); err != nil {
		t.Fatal(err)
	}
	n.Close()
	if p := onDisk(dir, secret); p != "" {
		t.Fatalf("%s holds the case's input in clear", p)
	}
	// Restarted, the node reads its sealed snapshot and log.
	n, err = open()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restarted node to apply its log", func() bool {
		return n.FSM().Events("a") != 0 && n.FSM().Events("b") != 0
	})
	if n.FSM().Restores() == 0 {
		t.Fatal("the sealed snapshot was not restored")
	}
	n.Close()
	// The key destroyed: the node's copy opens no more.
	s.aead = nil
	if n, err = open(); err == nil {
		defer n.Close()
		waitFor(t, "a refusal", func() bool { return n.FSM().Restores() == 0 })
		if _, _, ok := n.FSM().Case("a"); ok {
			t.Fatal("a node whose key is destroyed read its case")
		}
	} else if !errors.Is(err, ErrBadSnapshot) || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("reopening without the key: %v", err)
	}
}

// TestAtRestFollowerSnapshot catches a follower up from a sealed
// snapshot (raft sends as many bytes as the opened snapshot holds).
func TestAtRestFollowerSnapshot(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	short := func(cfg *Config) {
		cfg.Timing.SnapshotThreshold = 1 << 20
		cfg.Timing.TrailingLogs = 1
		cfg.AtRest = newGCMSealer(t)
	}
	l := c.add("n1", nil, short)
	waitFor(t, "n1 to lead", l.IsLeader)
	for _, id := range []string{"a", "b", "c"} {
		if err := l.Start(ctx(t), "", id, "W", []any{id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.r.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	n2 := c.add("n2", nil, short)
	if err := l.Join(ctx(t), Member{ID: "n2", Raft: "n2", API: "api-n2"}, n2.ProgramHash()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 to hold the cases", func() bool { return len(n2.FSM().Cases(false)) == 3 })
	if n2.FSM().Restores() == 0 {
		t.Fatal("n2 caught up without the snapshot")
	}
}

// BenchmarkAtRest measures a start committed on a node with its raft
// data on disk, in clear and sealed (the baseline and the cost of
// Config.AtRest, in one run: compare the two sub-benchmarks).
func BenchmarkAtRest(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "clear"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			prog := compile(b, testSource)
			fx := &effects{calls: map[string]int{}}
			cfg := Config{ID: "n1", Raft: "127.0.0.1:0", Dir: b.TempDir(), Bootstrap: true, Program: prog, Eval: &host.Evaluator{},
				Worker: worker.New(prog, worker.Options{Registry: fx.registry()}), Timing: fastTiming}
			if sealed {
				cfg.AtRest = newGCMSealer(b)
			}
			n, err := NewNode(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			for !n.IsLeader() {
				time.Sleep(5 * time.Millisecond)
			}
			c := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := n.Start(c, "", fmt.Sprint("c", i), "W", []any{"payload"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
