package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// hashFSM returns an empty FSM of testSource and the program's hash.
func hashFSM(tb testing.TB) (*FSM, string) {
	p := compile(tb, testSource)
	m, err := engine.NewMachine(p)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := p.Hash()
	if err != nil {
		tb.Fatal(err)
	}
	return NewFSM(m, h), h
}

// hashEntry is log entry i: the start of case id with input in, or with
// cancel its cancellation (event 1).
func hashEntry(tb testing.TB, prog string, i uint64, id, in, req string, cancel bool) *raft.Log {
	ev := &engine.Event{Kind: engine.EvStart, Time: 1, Values: eval.Values(in)}
	pos := uint64(0)
	if cancel {
		ev, pos = &engine.Event{Kind: engine.EvCancel}, 1
	}
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := (&Command{Op: OpEvent, ReqID: req, Program: prog, Case: id, Pos: pos, Event: b}).Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return &raft.Log{Index: i, Type: raft.LogCommand, Data: c}
}

func mustHash(tb testing.TB, f *FSM) []byte {
	tb.Helper()
	h, err := f.StateHash()
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// restored returns a new FSM restored from f's snapshot, whose hash is
// then computed from the state alone.
func restored(tb testing.TB, f *FSM, edit func(*wireSnapshot)) *FSM {
	tb.Helper()
	s, err := f.Snapshot()
	if err != nil {
		tb.Fatal(err)
	}
	b := []byte(s.(fsmSnapshot))
	if edit != nil {
		var w wireSnapshot
		if err := json.Unmarshal(b, &w); err != nil {
			tb.Fatal(err)
		}
		edit(&w)
		if b, err = json.Marshal(&w); err != nil {
			tb.Fatal(err)
		}
	}
	g, _ := hashFSM(tb)
	if err := g.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		tb.Fatal(err)
	}
	return g
}

// TestStateHashIncremental: the hash kept up on every apply equals the
// hash computed from the state alone (a restore of its snapshot), and
// that of a replica that applied the same entries without hashing in
// between.
func TestStateHashIncremental(t *testing.T) {
	f, prog := hashFSM(t)
	g, _ := hashFSM(t)
	i := uint64(0)
	step := func(id, in, req string, cancel bool) {
		i++
		e := hashEntry(t, prog, i, id, in, req, cancel)
		f.Apply(e)
		g.Apply(e)
		h := mustHash(t, f)
		if r := mustHash(t, restored(t, f, nil)); !bytes.Equal(h, r) {
			t.Fatalf("entry %d: incremental hash %x, from the state %x", i, h, r)
		}
	}
	for k := range 6 {
		step(fmt.Sprintf("c%d", k), "x", fmt.Sprintf("r%d", k), false)
	}
	step("c2", "", "r-cancel", true)
	step("c2", "", "r-cancel", true) // a duplicate request: nothing changes but the index
	step("c4", "", "", true)
	step("c4", "", "", true) // a conflict: refused
	if a, b := mustHash(t, f), mustHash(t, g); !bytes.Equal(a, b) {
		t.Fatalf("replicas with equal states disagree: %x, %x", a, b)
	}
	// After a restore the hash is that of the restored state, and stays
	// incremental from there.
	r := restored(t, f, nil)
	_ = mustHash(t, r)
	e := hashEntry(t, prog, i+1, "c9", "y", "r9", false)
	r.Apply(e)
	f.Apply(e)
	if a, b := mustHash(t, f), mustHash(t, r); !bytes.Equal(a, b) {
		t.Fatalf("restored replica disagrees after one more entry: %x, %x", b, a)
	}
	// A restore over a replica that has hashed before.
	g.Restore(io.NopCloser(bytes.NewReader(mustSnapshot(t, f))))
	if a, b := mustHash(t, f), mustHash(t, g); !bytes.Equal(a, b) {
		t.Fatalf("a replica restored over its own state disagrees: %x, %x", b, a)
	}
}

func mustSnapshot(t *testing.T, f *FSM) []byte {
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s.(fsmSnapshot))
}

// TestStateHashDiffers: a different case state, event, key or start,
// and another order of the remembered requests, each change the hash.
func TestStateHashDiffers(t *testing.T) {
	f, prog := hashFSM(t)
	for k, id := range []string{"a", "b", "c"} {
		f.Apply(hashEntry(t, prog, uint64(k+1), id, "x", "r"+id, false))
	}
	base := mustHash(t, f)
	other, _ := hashFSM(t)
	for k, id := range []string{"a", "b", "c"} {
		in := "x"
		if id == "b" {
			in = "y"
		}
		other.Apply(hashEntry(t, prog, uint64(k+1), id, in, "r"+id, false))
	}
	if bytes.Equal(base, mustHash(t, other)) {
		t.Error("a case started with another input hashes alike")
	}
	edits := map[string]func(*wireSnapshot){
		"an event's index":    func(w *wireSnapshot) { w.Cases[1].Events[0].Index++ },
		"a case's start time": func(w *wireSnapshot) { w.Cases[1].Started++ },
		"a business key":      func(w *wireSnapshot) { w.Cases[1].Key = "k" },
		"the request order":   func(w *wireSnapshot) { w.Reqs[0], w.Reqs[1] = w.Reqs[1], w.Reqs[0] },
		"a request outcome":   func(w *wireSnapshot) { w.Reqs[2].Err = "no" },
		"the applied index":   func(w *wireSnapshot) { w.Applied++ },
		"a member":            func(w *wireSnapshot) { w.Members = append(w.Members, &Member{ID: "n9"}) },
	}
	if same := mustHash(t, restored(t, f, nil)); !bytes.Equal(base, same) {
		t.Fatalf("an unedited restore hashes to %x, want %x", same, base)
	}
	for what, edit := range edits {
		if bytes.Equal(base, mustHash(t, restored(t, f, edit))) {
			t.Errorf("%s changed, the hash did not", what)
		}
	}
}

// TestStateHashRequestFIFO: with a full FIFO of request ids, the oldest
// leaving keeps the hash equal to the one computed from the remaining
// order.
func TestStateHashRequestFIFO(t *testing.T) {
	f, _ := hashFSM(t)
	_ = mustHash(t, f) // valid from here on
	const limit = 3
	for k := range 8 {
		id, o := fmt.Sprintf("q%d", k), outcome{Index: uint64(k + 1)}
		f.mu.Lock()
		f.rememberUpTo(id, o, limit) // remember with a small limit
		inc := f.sh.reqs
		f.sh.valid = false
		f.mu.Unlock()
		_ = mustHash(t, f) // rebuilt from the state
		if inc != f.sh.reqs {
			t.Fatalf("after %s: the incremental request hash differs from the rebuilt one (order %v)", id, f.order)
		}
	}
}

// BenchmarkStateHash compares the per-block cost of the application
// hash before (encode the whole FSM, SHA-256 it) and now (rehash the
// cases one block touched) with 1k and 10k cases, as many one-time
// keys, accelerator entries and audit records, 10 cases touched and 10
// keys added per block, and reports the ratio measured in the same
// process.
func BenchmarkStateHash(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		f, prog := hashFSM(b)
		for k := range n {
			f.Apply(hashEntry(b, prog, uint64(k+1), fmt.Sprintf("c%06d", k), "x", fmt.Sprintf("r%d", k), false))
		}
		keys := 0
		key := func() { // f.mu is held
			keys++
			if err := f.useNonce(&Nonce{Keys: []string{fmt.Sprintf("acme\x00%d", keys)}, At: 1, Until: 1 << 62}, ""); err != nil {
				panic(err) // not b.Fatal: f.mu would stay held
			}
		}
		f.mu.Lock()
		for k := range n {
			key()
			f.acc.add([]AccelUse{{Month: "2026-12", NS: 1, Calls: 1}}, uint64(k+1))
			f.applyAudit(&AuditRecord{Action: "StartCase", Result: "ok", Time: "2026-12-03T00:00:00Z"})
		}
		f.mu.Unlock()
		_ = mustHash(b, f)
		touch := func(j int) {
			f.mu.Lock()
			for k := range 10 {
				f.touchCase(fmt.Sprintf("c%06d", (j*10+k)%n))
				key()
			}
			f.mu.Unlock()
		}
		var full, inc float64
		b.Run(fmt.Sprintf("full/cases=%d", n), func(b *testing.B) {
			for j := 0; b.Loop(); j++ {
				touch(j)
				s, err := f.Snapshot()
				if err != nil {
					b.Fatal(err)
				}
				_ = sha256.Sum256(s.(fsmSnapshot))
			}
			full = float64(b.Elapsed()) / float64(b.N)
		})
		b.Run(fmt.Sprintf("incremental/cases=%d", n), func(b *testing.B) {
			for j := 0; b.Loop(); j++ {
				touch(j)
				mustHash(b, f)
			}
			inc = float64(b.Elapsed()) / float64(b.N)
		})
		if inc > 0 {
			b.Logf("cases=%d: full %.0f ns/block, incremental %.0f ns/block, ratio %.1fx", n, full, inc, full/inc)
		}
	}
}
