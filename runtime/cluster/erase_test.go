package cluster

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// caseKeys is a CaseSealer whose node sealing is the identity (so that
// what the per-case sealing leaves in clear shows on disk) and whose
// per-case keys are AES-256-GCM keys in memory.
type caseKeys struct {
	mu   sync.Mutex
	keys map[string]cipher.AEAD
	gone map[string]bool
}

func newCaseKeys() *caseKeys {
	return &caseKeys{keys: map[string]cipher.AEAD{}, gone: map[string]bool{}}
}

func (k *caseKeys) Seal(p []byte) ([]byte, error) { return bytes.Clone(p), nil }
func (k *caseKeys) Open(c []byte) ([]byte, error) { return bytes.Clone(c), nil }

func (k *caseKeys) SealCase(id string, p []byte) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gone[id] {
		return nil, fmt.Errorf("%w: case %s", ErrCaseForgotten, id)
	}
	a := k.keys[id]
	if a == nil {
		key := make([]byte, 32)
		rand.Read(key)
		b, _ := aes.NewCipher(key)
		a, _ = cipher.NewGCM(b)
		k.keys[id] = a
	}
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, p, []byte(id)), nil
}

func (k *caseKeys) OpenCase(id string, c []byte) ([]byte, error) {
	k.mu.Lock()
	a := k.keys[id]
	k.mu.Unlock()
	if a == nil {
		return nil, fmt.Errorf("no key of case %s", id)
	}
	n := a.NonceSize()
	if len(c) < n {
		return nil, errors.New("short")
	}
	return a.Open(nil, c[:n], c[n:], []byte(id))
}

func (k *caseKeys) Holds(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[id] != nil
}

func (k *caseKeys) Forget(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, id)
	k.gone[id] = true
	return nil
}

// stores opens every entry of n's log and its latest snapshot, as raft
// would: it reports whether an entry holds s, and returns the FSM the
// snapshot restores.
func stores(t *testing.T, n *Node, s string) (bool, *FSM) {
	t.Helper()
	l := n.shred.logs
	first, _ := l.FirstIndex()
	last, _ := l.LastIndex()
	found := false
	for i := first; i <= last && first != 0; i++ {
		var e raft.Log
		if err := l.GetLog(i, &e); err != nil {
			t.Fatalf("%s: raft cannot read its log entry %d: %v", n.cfg.ID, i, err)
		}
		found = found || bytes.Contains(e.Data, []byte(s))
	}
	metas, err := n.shred.snaps.List()
	if err != nil || len(metas) == 0 {
		t.Fatalf("%s: snapshots %v %v", n.cfg.ID, metas, err)
	}
	_, rc, err := n.shred.snaps.Open(metas[0].ID)
	if err != nil {
		t.Fatalf("%s: raft cannot open its latest snapshot: %v", n.cfg.ID, err)
	}
	f := NewFSM(n.fsm.m, n.fsm.prog)
	if err := f.Restore(rc); err != nil {
		t.Fatalf("%s: its latest snapshot does not restore: %v", n.cfg.ID, err)
	}
	return found, f
}

// Status implements StatusProber by reading the member's node.
func (c *testCluster) Status(_ context.Context, m Member) (*Status, error) {
	c.mu.Lock()
	n := c.nodes[m.ID]
	c.mu.Unlock()
	if n == nil {
		return nil, fmt.Errorf("no node %s", m.ID)
	}
	return n.Status()
}

// onDisk reports the first file under dir that holds s.
func onDisk(dir, s string) string {
	var hit string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(s)) {
				hit = p
			}
		}
		return nil
	})
	return hit
}

// TestCaseErase erases one case on three nodes with per-case keys, one
// of them down during the erasure: every node drops the case, destroys
// its key of it, and still opens every log entry and its latest
// snapshot (raft never reads what the key sealed); nothing of the case
// is in clear on any node's disk; the other case is intact; a running
// case, a case on a follower and a case written without per-case keys
// are refused; a start of the erased case's id is refused.
func TestCaseErase(t *testing.T) {
	const gone, kept = "erase-me-17", "keep-me-18"
	c := newTestCluster(t, compile(t, testSource))
	dirs, keys := map[string]string{}, map[string]*caseKeys{}
	add := func(id string, also ...func()) *Node {
		if dirs[id] == "" {
			dirs[id], keys[id] = t.TempDir(), newCaseKeys()
		}
		return c.add(id, nil, func(cfg *Config) {
			cfg.Dir, cfg.AtRest = dirs[id], keys[id]
			cfg.Timing.SnapshotThreshold = 1 << 20 // snapshots only when asked
			for _, f := range also {
				f()
			}
		})
	}
	l := add("n1")
	waitFor(t, "n1 to lead", l.IsLeader)
	for _, id := range []string{"n2", "n3"} {
		n := add(id)
		if err := l.Join(ctx(t), Member{ID: id, Raft: id, API: "api-" + id}, n.ProgramHash()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "3 voters", func() bool { return len(c.voters()) == 3 })
	for id, in := range map[string]string{"a": gone, "b": kept} {
		if err := l.Start(ctx(t), "", id, "W", []any{in}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a and b to end on every node", func() bool {
		for _, id := range []string{"n1", "n2", "n3"} {
			for _, cs := range []string{"a", "b"} {
				if st, _, ok := c.node(id).FSM().Case(cs); !ok || !st.Done() {
					return false
				}
			}
		}
		return true
	})
	if err := l.Start(ctx(t), "", "r", "W", []any{"r"}); err != nil {
		t.Fatal(err)
	}
	if err := l.EraseCase(ctx(t), "", "r"); !errors.Is(err, ErrNotErasable) {
		t.Fatalf("erasing a running case: %v", err)
	}
	if err := c.node("n2").EraseCase(ctx(t), "", "a"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("erasing through a follower's node: %v", err)
	}
	// n3 goes down with a in its snapshot.
	if err := c.node("n3").r.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	c.kill("n3")
	if err := l.EraseCase(ctx(t), "e1", "a"); err != nil {
		t.Fatal(err)
	}
	if err := l.EraseCase(ctx(t), "e1", "a"); err != nil {
		t.Fatalf("the erasure retried: %v", err)
	}
	// Acknowledged: no live node holds a's key any more.
	for _, id := range []string{"n1", "n2"} {
		if keys[id].Holds("a") {
			t.Fatalf("%s still holds a's key once the erasure is acknowledged", id)
		}
	}
	// Back, and cut off from the others: it holds a until it applies
	// the erasure, and serves no stale read meanwhile.
	n3 := add("n3", func() { c.partition("n3") })
	if _, _, ok := n3.FSM().Case("a"); !ok {
		t.Fatal("n3 came back without a: the check below shows nothing")
	}
	if v, err := n3.Get(ctx(t), "a", Stale); err == nil || !errors.Is(err, ErrMaybeCommitted) {
		t.Fatalf("n3, back and cut off, reads the erased case: %+v %v", v, err)
	}
	c.heal("n3")
	// A write, through whichever node leads now.
	waitFor(t, "a write after the heal", func() bool { return c.leader().Start(ctx(t), "v", "v", "W", []any{"v"}) == nil })
	check := func(n *Node) {
		t.Helper()
		id := n.cfg.ID
		waitFor(t, "a erased on "+id, func() bool { return n.FSM().Erased("a") != nil && !keys[id].Holds("a") })
		if _, _, ok := n.FSM().Case("a"); ok {
			t.Fatalf("%s holds a", id)
		}
		var lastErr error
		defer func() {
			if t.Failed() {
				t.Logf("%s: last read %v; applied %d, commit %d, catch-up target %d, caught up %v; n1 applied %d", id, lastErr, n.r.AppliedIndex(), n.r.CommitIndex(), n.catchUpTo.Load(), n.caughtUp.Load(), c.node("n1").r.AppliedIndex())
			}
		}()
		waitFor(t, id+" to answer a read of a as erased", func() bool {
			v, err := n.Get(ctx(t), "a", Stale)
			lastErr = err
			if err == nil {
				t.Fatalf("%s reads a: %+v", id, v)
			}
			return errors.Is(err, ErrErased)
		})
		if st, _, ok := n.FSM().Case("b"); !ok || !st.Done() || !keys[id].Holds("b") {
			t.Fatalf("b on %s: %v %v", id, ok, keys[id].Holds("b"))
		}
		inLog, snap := stores(t, n, gone)
		if inLog {
			t.Fatalf("%s's log holds a's input", id)
		}
		if _, _, ok := snap.Case("a"); ok || snap.Erased("a") == nil {
			t.Fatalf("%s's latest snapshot holds a", id)
		}
		if _, _, ok := snap.Case("b"); !ok {
			t.Fatalf("%s's latest snapshot lost b", id)
		}
		if p := onDisk(dirs[id], gone); p != "" {
			t.Fatalf("%s holds a's input in clear", p)
		}
		if metas, _ := n.shred.snaps.List(); len(metas) != 1 {
			t.Fatalf("%s keeps %d snapshots, want the latest alone", id, len(metas))
		}
	}
	for _, n := range []*Node{l, c.node("n2"), n3} {
		check(n)
	}
	if err := c.leader().Start(ctx(t), "", "a", "W", []any{"again"}); !errors.Is(err, ErrErased) {
		t.Fatalf("a start of the erased case's id: %v", err)
	}
	// Restarted, a node reads what is left. (It serves stale reads
	// once it applied what the leader had when it asked; the write
	// brings it the commit index, which raft's heartbeats do not.)
	c.kill("n2")
	n2 := add("n2")
	if err := c.leader().Start(ctx(t), "", "w", "W", []any{"w"}); err != nil {
		t.Fatal(err)
	}
	check(n2)

	// A node without per-case keys refuses to erase.
	plain := newTestCluster(t, compile(t, testSource)).add("p1", nil, nil)
	waitFor(t, "p1 to lead", plain.IsLeader)
	if err := plain.EraseCase(ctx(t), "", "a"); !errors.Is(err, ErrNotErasable) {
		t.Fatalf("erasing without per-case keys: %v", err)
	}
}

// TestCaseEraseBeforePerCaseKeys reopens a node that sealed with its
// own key alone as one that seals per case: a case written before has
// no key of its own, and its erasure is refused (its entries would stay
// readable under the node's key); a case written after is erased.
func TestCaseEraseBeforePerCaseKeys(t *testing.T) {
	prog := compile(t, testSource)
	fx := &effects{calls: map[string]int{}}
	dir, node := t.TempDir(), newGCMSealer(t)
	open := func(s Sealer) *Node {
		n, err := NewNode(Config{ID: "n1", Raft: "127.0.0.1:0", Dir: dir, Bootstrap: true, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{Registry: fx.registry()}), Timing: fastTiming, AtRest: s})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "n1 to lead", n.IsLeader)
		return n
	}
	ended := func(n *Node, id string) {
		waitFor(t, id+" to end", func() bool { st, _, ok := n.FSM().Case(id); return ok && st.Done() })
	}
	n := open(node)
	if err := n.Start(ctx(t), "", "old", "W", []any{"old"}); err != nil {
		t.Fatal(err)
	}
	ended(n, "old")
	n.Close()
	n = open(gcmCaseKeys{node, newCaseKeys()})
	defer n.Close()
	ended(n, "old")
	if err := n.EraseCase(ctx(t), "", "old"); !errors.Is(err, ErrNotErasable) || !strings.Contains(err.Error(), "written before") {
		t.Fatalf("erasing a case written before per-case keys: %v", err)
	}
	if err := n.Start(ctx(t), "", "new", "W", []any{"new"}); err != nil {
		t.Fatal(err)
	}
	ended(n, "new")
	if err := n.EraseCase(ctx(t), "", "new"); err != nil {
		t.Fatal(err)
	}
}

// gcmCaseKeys seals per case inside an AES-256-GCM node sealing, as
// knhk serve --node does for a tenant created with --encrypt (its keys
// in memory here, where the node's are files: a case's first entry
// there also writes its sealed key).
type gcmCaseKeys struct {
	node *gcmSealer
	*caseKeys
}

func (g gcmCaseKeys) Seal(p []byte) ([]byte, error) { return g.node.Seal(p) }
func (g gcmCaseKeys) Open(c []byte) ([]byte, error) { return g.node.Open(c) }

// fileCaseKeys seals per case with runtime/audit's Keys in a directory
// (sealed key files, as knhk serve --node keeps them).
type fileCaseKeys struct {
	node *gcmSealer
	k    *audit.Keys
}

func (g fileCaseKeys) Seal(p []byte) ([]byte, error)                { return g.node.Seal(p) }
func (g fileCaseKeys) Open(c []byte) ([]byte, error)                { return g.node.Open(c) }
func (g fileCaseKeys) SealCase(id string, p []byte) ([]byte, error) { return g.k.SealBytes(id, p) }
func (g fileCaseKeys) OpenCase(id string, c []byte) ([]byte, error) { return g.k.OpenBytes(id, c) }
func (g fileCaseKeys) Holds(id string) bool                         { return g.k.Holds(id) }
func (g fileCaseKeys) Forget(id string) error                       { return g.k.EraseCase(id) }

// BenchmarkAtRestPerCase measures a start committed on a node that seals
// per case against one that seals with its own key only, alternating
// rounds of 20 starts in one process, and prints the ratios of the
// medians of the rounds: per-case keys in memory (the sealing's own
// cost) and in sealed key files (a case's first entry makes its key).
func BenchmarkAtRestPerCase(b *testing.B) {
	prog := compile(b, testSource)
	open := func(s Sealer) *Node {
		fx := &effects{calls: map[string]int{}}
		n, err := NewNode(Config{ID: "n1", Raft: "127.0.0.1:0", Dir: b.TempDir(), Bootstrap: true, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{Registry: fx.registry()}), Timing: fastTiming, AtRest: s})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { n.Close() })
		for !n.IsLeader() {
			time.Sleep(5 * time.Millisecond)
		}
		return n
	}
	keys, err := audit.OpenKeys(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	nodes := []*Node{open(newGCMSealer(b)), open(gcmCaseKeys{newGCMSealer(b), newCaseKeys()}), open(fileCaseKeys{newGCMSealer(b), keys})}
	var rounds [3][]time.Duration
	c := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, n := range nodes {
			began := time.Now()
			for j := 0; j < 20; j++ {
				if err := n.Start(c, "", fmt.Sprint("c", i, "-", j), "W", []any{"payload"}); err != nil {
					b.Fatal(err)
				}
			}
			rounds[k] = append(rounds[k], time.Since(began)/20)
		}
	}
	b.StopTimer()
	med := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	node, perCase, files := med(rounds[0]), med(rounds[1]), med(rounds[2])
	b.Logf("a start: node key %v, per-case keys in memory %v -> %.3fx, per-case key files %v -> %.3fx (medians of %d rounds)",
		node, perCase, float64(perCase)/float64(node), files, float64(files)/float64(node), b.N)
	b.ReportMetric(float64(perCase)/float64(node), "x-mem")
	b.ReportMetric(float64(files)/float64(node), "x-files")
}

// FuzzOpenCaseEntry opens arbitrary bytes as a log entry of a node that
// seals per case: never a panic, and an entry it sealed opens to what
// it sealed.
func FuzzOpenCaseEntry(f *testing.F) {
	keys := newCaseKeys()
	l := &sealedLogs{s: keys, cs: keys}
	for _, id := range []string{"a", "case-17", ""} {
		b, err := l.sealCase(id, []byte(`{"op":1,"case":"`+id+`"}`))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(append(append([]byte{}, caseMagic...), 0xff, 0xff, 0xff))
	f.Add([]byte("KNHKSEAL2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, isCase, err := l.openCase(b)
		if !bytes.HasPrefix(b, caseMagic) && (isCase || err != nil) {
			t.Fatalf("bytes without the magic taken for a case entry: %v %v", isCase, err)
		}
		if err == nil && isCase {
			again, err := l.sealCase("x", pt)
			if err != nil {
				t.Fatal(err)
			}
			if back, _, err := l.openCase(again); err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("round trip: %q %v", back, err)
			}
		}
	})
}
