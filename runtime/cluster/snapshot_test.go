package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// everyFieldCommands are commands of program h (and v2, deployed by
// them) whose application sets every field of a snapshot: a case with
// a request id, a business key, a nonce and accelerator time, a member,
// a deploy and a case of it, a tenancy change, an audit record, a
// meter command and a case cancelled and erased.
func everyFieldCommands(tb testing.TB, h string) []*Command {
	start, err := engine.EncodeEvent(&engine.Event{Kind: engine.EvStart, Time: 1, Trans: 0, Values: eval.Values("c")})
	if err != nil {
		tb.Fatal(err)
	}
	cancel, err := engine.EncodeEvent(&engine.Event{Kind: engine.EvCancel, Time: 2})
	if err != nil {
		tb.Fatal(err)
	}
	v2 := strings.Replace(testSource, "got = x\n", "got = x * 10\n", 1)
	v2p, err := gateCompile("v2.knhk", []byte(v2))
	if err != nil {
		tb.Fatal(err)
	}
	h2, _ := v2p.Hash()
	at := time.Unix(1700000000, 0)
	return []*Command{
		{Op: OpEvent, ReqID: "a", Program: h, Case: "c", Event: start, Key: "k",
			Nonce: &Nonce{Keys: []string{"acme\x00n1"}, At: at.UnixNano(), Until: at.Add(time.Minute).UnixNano()},
			Accel: []AccelUse{{Month: "2026-12", NS: 7, Calls: 1}}},
		{Op: OpMember, Program: h, Member: &Member{ID: "n1", Raft: "r1", Labels: map[string]string{"region": "eu"}}},
		{Op: OpDeploy, Program: h, Deploy: &Deploy{Name: "v2.knhk", Source: []byte(v2), Hash: h2},
			Audit: &AuditRecord{Tenant: "acme", Subject: "bob", Action: "Deploy", Result: audit.ResultOK, Time: at.UTC().Format(time.RFC3339Nano)}}, // riding (auditride.go)
		{Op: OpEvent, Program: h2, Case: "d", Event: start},
		{Op: OpTenant, ReqID: "t", Program: h, Nonce: &Nonce{Keys: []string{"acme\x00n2"}, Bind: "b1", At: at.UnixNano(), Until: at.Add(time.Minute).UnixNano()}, Tenancy: &TenancyChange{Files: map[string][]byte{"tenants.json": []byte("{}")}, Founders: map[string]string{"acme": "n1"}}},
		{Op: OpAudit, ReqID: "au", Program: h, Audit: &AuditRecord{Tenant: "acme", Subject: "alice", Action: "StartCase", Result: audit.ResultOK,
			Time: at.UTC().Format(time.RFC3339Nano), Targets: []string{"case_id=c"}}},
		{Op: OpMeter, Program: h, Accel: []AccelUse{{Month: "2026-12", NS: 5, Calls: 2}, {Month: "2027-01", NS: 1, Calls: 1}}},
		{Op: OpEvent, Program: h, Case: "e", Event: start},
		{Op: OpEvent, Program: h, Case: "e", Pos: 1, Event: cancel},
		{Op: OpErase, ReqID: "er", Program: h, Case: "e"},
	}
}

// TestSnapshotEveryField restores a snapshot in which every field is
// set: the restored FSM answers alike and snapshots to the same bytes,
// and a later entry applies alike on both. A field added to the
// snapshot and not set here fails the test.
// roundTrip snapshots f and restores the snapshot into a new FSM of
// f's machine and program (statehash_test.go's restored uses the hash
// test's own); it returns that FSM and the snapshot.
func roundTrip(t *testing.T, f *FSM) (*FSM, []byte) {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(snap.(fsmSnapshot))
	g := NewFSM(f.m, f.prog)
	if err := g.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	return g, b
}

func TestSnapshotEveryField(t *testing.T) {
	newFSM := func() (*FSM, string) {
		f, h := newTestFSM(t)
		f.SetCompiler(gateCompile)
		return f, h
	}
	f, h := newFSM()
	for i, c := range everyFieldCommands(t, h) {
		if r := f.Apply(entry(t, uint64(i+1), c)).(*Result); r.Err != nil {
			t.Fatalf("command %d (%s): %v", i, c.Op, r.Err)
		}
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(snap.(fsmSnapshot))
	var w wireSnapshot
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(w)
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Errorf("the snapshot's field %s is not set: set it in everyFieldCommands", v.Type().Field(i).Name)
		}
	}
	g, _ := newFSM()
	if err := g.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	again, err := g.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, []byte(again.(fsmSnapshot))) {
		t.Fatalf("the restored FSM snapshots otherwise:\n%s\n%s", b, again.(fsmSnapshot))
	}
	if !reflect.DeepEqual(f.Tenancy(), g.Tenancy()) || g.Founder("acme") != "n1" {
		t.Fatalf("tenancy: %+v, restored %+v", f.Tenancy(), g.Tenancy())
	}
	fa, _ := f.AuditChain()
	ga, _ := g.AuditChain()
	if len(ga) != 2 || !reflect.DeepEqual(fa, ga) { // a riding record and an OpAudit
		t.Fatalf("audit chain: %+v, restored %+v", fa, ga)
	}
	for _, m := range []string{"2026-12", "2027-01"} {
		if f.AccelMonth(m) != g.AccelMonth(m) || g.AccelMonth(m).Calls == 0 {
			t.Fatalf("accelerator time of %s: %+v, restored %+v", m, f.AccelMonth(m), g.AccelMonth(m))
		}
	}
	if r, ok := g.Request("t"); !ok || r.Index != 5 {
		t.Fatalf("restored request t: %+v %v", r, ok)
	}
	// The same entries after the snapshot: each refused or answered
	// alike, the nonce's replay included.
	for i, c := range everyFieldCommands(t, h) {
		e := entry(t, uint64(100+i), c)
		rf, rg := f.Apply(e).(*Result), g.Apply(e).(*Result)
		if rf.Dup != rg.Dup || rf.Index != rg.Index || (rf.Err == nil) != (rg.Err == nil) {
			t.Fatalf("command %d again: %+v, restored %+v", i, rf, rg)
		}
		if i == 0 && !errors.Is(rg.Err, ErrReplay) {
			t.Fatalf("the nonce again: %v, want ErrReplay", rg.Err)
		}
	}
	sf, _ := f.Snapshot()
	sg, _ := g.Snapshot()
	if !bytes.Equal(sf.(fsmSnapshot), sg.(fsmSnapshot)) {
		t.Fatal("the restored FSM drifts from the original")
	}
}

// TestSnapshotBeforeTheNewFields restores a snapshot written before the
// tenancy, nonces, audit chain and accelerator time existed: each is
// empty, and the FSM takes them from later entries.
func TestSnapshotBeforeTheNewFields(t *testing.T) {
	f, h := newTestFSM(t)
	f.SetCompiler(gateCompile)
	old := `{"v":2,"prog":"` + h + `","applied":3,"cases":[]}`
	if err := f.Restore(io.NopCloser(strings.NewReader(old))); err != nil {
		t.Fatal(err)
	}
	if ten := f.Tenancy(); ten.Rev != 0 || len(ten.Files) != 0 {
		t.Fatalf("tenancy of an old snapshot: %+v", ten)
	}
	if recs, _ := f.AuditChain(); len(recs) != 0 {
		t.Fatalf("audit chain of an old snapshot: %+v", recs)
	}
	for i, c := range everyFieldCommands(t, h) {
		if r := f.Apply(&raft.Log{Index: uint64(4 + i), Type: raft.LogCommand, Data: entry(t, 0, c).Data}).(*Result); r.Err != nil {
			t.Fatalf("command %d (%s) after an old snapshot: %v", i, c.Op, r.Err)
		}
	}
}
