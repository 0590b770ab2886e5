package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

func newTestFSM(t *testing.T) (*FSM, string) {
	p := compile(t, testSource)
	m, err := engine.NewMachine(p)
	if err != nil {
		t.Fatal(err)
	}
	h, err := p.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return NewFSM(m, h), h
}

func entry(t *testing.T, i uint64, c *Command) *raft.Log {
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: i, Type: raft.LogCommand, Data: b}
}

func startEvent(t *testing.T) []byte {
	b, err := engine.EncodeEvent(&engine.Event{Kind: engine.EvStart, Time: 1, Trans: 0, Values: eval.Values("c")})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFSMFencesPositionsAndRemembersRequests(t *testing.T) {
	f, h := newTestFSM(t)
	start := &Command{Op: OpEvent, ReqID: "a", Program: h, Case: "c", Pos: 0, Event: startEvent(t)}
	if r := f.Apply(entry(t, 1, start)).(*Result); r.Err != nil || r.Dup {
		t.Fatalf("start: %+v", r)
	}
	// The same request again: answered, not applied.
	if r := f.Apply(entry(t, 2, start)).(*Result); r.Err != nil || !r.Dup || r.Index != 1 {
		t.Fatalf("retried start: %+v", r)
	}
	if n := f.Events("c"); n != 1 {
		t.Fatalf("case c has %d events, want 1", n)
	}
	// The same event without a request id, from a deposed leader: the
	// position is taken.
	stale := &Command{Op: OpEvent, Program: h, Case: "c", Pos: 0, Event: startEvent(t)}
	if r := f.Apply(entry(t, 3, stale)).(*Result); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("stale position: %+v", r)
	}
	// An event the state refuses is not applied and does not count.
	cancel, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvRetry, Inv: 42})
	bad := &Command{Op: OpEvent, Program: h, Case: "c", Pos: 1, Event: cancel}
	if r := f.Apply(entry(t, 4, bad)).(*Result); !errors.Is(r.Err, engine.ErrNotApplicable) {
		t.Fatalf("refused event: %+v", r)
	}
	if n := f.Events("c"); n != 1 {
		t.Fatalf("case c has %d events after a refused one, want 1", n)
	}
}

func TestFSMStopsOnAnotherProgram(t *testing.T) {
	f, h := newTestFSM(t)
	other := &Command{Op: OpEvent, Program: "feedface", Case: "c", Event: startEvent(t)}
	if r := f.Apply(entry(t, 1, other)).(*Result); !errors.Is(r.Err, ErrProgram) {
		t.Fatalf("other program: %+v", r)
	}
	// Once broken, nothing more applies, even a command of its own
	// program: the replica cannot follow this log.
	mine := &Command{Op: OpEvent, Program: h, Case: "c", Event: startEvent(t)}
	if r := f.Apply(entry(t, 2, mine)).(*Result); !errors.Is(r.Err, ErrProgram) || f.Events("c") != 0 {
		t.Fatalf("after breaking: %+v, %d events", r, f.Events("c"))
	}
	if f.Broken() == nil {
		t.Fatal("Broken is nil")
	}
}

type sink struct {
	bytes.Buffer
	cancelled bool
}

func (s *sink) ID() string    { return "test" }
func (s *sink) Cancel() error { s.cancelled = true; return nil }
func (s *sink) Close() error  { return nil }

func TestFSMSnapshotRoundTripAndCorruption(t *testing.T) {
	f, h := newTestFSM(t)
	f.Apply(entry(t, 1, &Command{Op: OpEvent, ReqID: "a", Program: h, Case: "c", Event: startEvent(t)}))
	f.Apply(entry(t, 2, &Command{Op: OpMember, Program: h, Member: &Member{ID: "n1", Raft: "r1", Labels: map[string]string{"region": "eu"}}}))
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	if err := snap.Persist(&s); err != nil {
		t.Fatal(err)
	}
	g, _ := newTestFSM(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(s.Bytes()))); err != nil {
		t.Fatal(err)
	}
	a, _, _ := f.Encoded("c")
	b, _, _ := g.Encoded("c")
	if !bytes.Equal(a, b) {
		t.Fatal("the restored case differs")
	}
	if g.Started("c") != 1 || g.Started("c") != f.Started("c") {
		t.Fatalf("restored start time %d, want 1", g.Started("c"))
	}
	if r, ok := g.Request("a"); !ok || r.Index != 1 {
		t.Fatalf("restored request a: %+v %v", r, ok)
	}
	if m := g.Members()["n1"]; m.Region() != "eu" {
		t.Fatalf("restored member: %+v", m)
	}
	for name, data := range map[string][]byte{
		"truncated": s.Bytes()[:s.Len()/2],
		"flipped":   bytes.Replace(s.Bytes(), []byte(`"state":"`), []byte(`"state":"AAAA`), 1),
		"program":   bytes.Replace(s.Bytes(), []byte(h), []byte(strings.Repeat("0", len(h))), 1),
	} {
		if err := g.Restore(io.NopCloser(bytes.NewReader(data))); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s snapshot: %v, want ErrBadSnapshot", name, err)
		}
	}
	// A refused snapshot leaves the FSM as it was.
	if c, _, _ := g.Encoded("c"); !bytes.Equal(c, a) {
		t.Fatal("a refused snapshot changed the FSM")
	}
}

// FuzzDecodeCommand decodes arbitrary entries: a refusal wraps
// ErrBadCommand, a decoded command encodes to one that decodes the same,
// and applying it (twice, as a retried entry) to an FSM neither panics
// nor leaves a state that does not snapshot and restore to the same
// bytes. It is seeded with every op and every field a command carries.
func FuzzDecodeCommand(f *testing.F) {
	fresh := fuzzFSM(f)
	seeds := []*Command{
		{Op: OpEvent, Program: "p", Case: "c", Pos: 3, Event: []byte(`{"k":1}`), ReqID: "r"},
		{Op: OpMember, Program: "p", Member: &Member{ID: "n", Raft: "a", Labels: map[string]string{"region": "x"}}},
		{Op: OpEvent, Program: "p", Case: "c", Event: []byte(`{"k":1}`), Key: "order-1"},
		{Op: OpDeploy, Program: "p", Deploy: &Deploy{Name: "v2.knhk", Source: []byte("package p"), Hash: "h2", Sigs: []byte("sig")}},
		{Op: OpTenant, ReqID: "r", Program: "p", Tenancy: &TenancyChange{Base: 9, Files: map[string][]byte{"tenants.json": []byte("{}")}, Remove: []string{"a/revoked.json"}, Founders: map[string]string{"a": "n1"}}},
	}
	for _, c := range append(seeds, everyFieldCommands(f, fresh().prog)...) {
		b, _ := c.Encode()
		f.Add(b)
	}
	f.Add([]byte{2, 0, 0, 0, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzCommand(t, b, fresh)
		// The same bytes as the JSON of a well-framed entry, so that
		// the fuzzer reaches the JSON decoding past the checksum.
		framed := make([]byte, 5, 5+len(b))
		framed[0] = commandVersion
		binary.LittleEndian.PutUint32(framed[1:5], crc32.Checksum(b, castagnoli))
		fuzzCommand(t, append(framed, b...), fresh)
	})
}

// fuzzFSM returns a maker of empty FSMs of testSource that compile
// deploys through the gate.
func fuzzFSM(f *testing.F) func() *FSM {
	p := compile(f, testSource)
	m, err := engine.NewMachine(p)
	if err != nil {
		f.Fatal(err)
	}
	h, err := p.Hash()
	if err != nil {
		f.Fatal(err)
	}
	return func() *FSM {
		fsm := NewFSM(m, h)
		fsm.SetCompiler(gateCompile)
		return fsm
	}
}

func fuzzCommand(t *testing.T, b []byte, fresh func() *FSM) {
	c, err := DecodeCommand(b)
	if err != nil {
		if !errors.Is(err, ErrBadCommand) {
			t.Fatalf("error %v does not wrap ErrBadCommand", err)
		}
		return
	}
	// A decoded command encodes to one that decodes the same.
	b2, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := DecodeCommand(b2)
	if err != nil {
		t.Fatalf("re-encoded command does not decode: %v", err)
	}
	b3, _ := c2.Encode()
	if !bytes.Equal(b2, b3) {
		t.Fatalf("round trip differs: %s vs %s", b2, b3)
	}
	// Applied, and applied again as a retry: every outcome is a
	// Result, the state snapshots and restores to the same bytes, and
	// the state hash kept up entry by entry is the restored state's.
	fsm := fresh()
	mustHash(t, fsm)
	for i := uint64(1); i <= 2; i++ {
		if _, ok := fsm.Apply(&raft.Log{Index: i, Type: raft.LogCommand, Data: b}).(*Result); !ok {
			t.Fatalf("applying entry %d answered no Result", i)
		}
	}
	s1, err := fsm.Snapshot()
	if err != nil {
		t.Fatalf("snapshot after the command: %v", err)
	}
	g := fresh()
	if err := g.Restore(io.NopCloser(bytes.NewReader(s1.(fsmSnapshot)))); err != nil {
		t.Fatalf("the snapshot after the command does not restore: %v", err)
	}
	s2, _ := g.Snapshot()
	if !bytes.Equal(s1.(fsmSnapshot), s2.(fsmSnapshot)) {
		t.Fatal("snapshot round trip after the command differs")
	}
	if h1, h2 := mustHash(t, fsm), mustHash(t, g); !bytes.Equal(h1, h2) {
		t.Fatalf("incremental state hash %x, the restored state's %x", h1, h2)
	}
}

// TestFSMStopsOnDamagedEntry: an entry that does not decode was damaged
// (no leader proposes one); the replica stops instead of skipping it.
func TestFSMStopsOnDamagedEntry(t *testing.T) {
	f, h := newTestFSM(t)
	e := entry(t, 1, &Command{Op: OpEvent, Program: h, Case: "c", Event: startEvent(t)})
	e.Data[len(e.Data)/2] ^= 0xff
	if r := f.Apply(e).(*Result); r.Err == nil {
		t.Fatal("a damaged entry applied")
	}
	if !errors.Is(f.Broken(), ErrBadCommand) {
		t.Fatalf("Broken() = %v, want ErrBadCommand", f.Broken())
	}
	if r := f.Apply(entry(t, 2, &Command{Op: OpEvent, Program: h, Case: "c", Event: startEvent(t)})).(*Result); r.Err == nil || f.Events("c") != 0 {
		t.Fatal("a broken FSM applied a later entry")
	}
}
