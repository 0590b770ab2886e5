package cluster

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/audit"
)

// TestAuditChain appends records through the leader: every replica
// chains them alike, a retried request id appends once, a follower
// does not propose, and a snapshot carries the chain (a tampered one is
// refused).
func TestAuditChain(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	l := c.add("n1", nil, nil)
	c.leader()
	c.join("n2", nil)
	c.join("n3", nil)
	rec := func(action string) AuditRecord {
		return AuditRecord{Tenant: "acme", Subject: "alice", Role: "admin", Credential: audit.CredToken, Action: action,
			Targets: []string{"case_id=" + action, strings.Repeat("x", 3000)}, Remote: "10.0.0.1:5", Result: audit.ResultOK,
			Time: time.Unix(1700000000, 0).UTC().Format(time.RFC3339Nano), Seq: 99}
	}
	for i, a := range []string{"StartCase", "SignalCase", "CancelCase"} {
		if _, err := l.Audit(ctx(t), "audit-"+a, rec(a)); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if _, err := l.Audit(ctx(t), "audit-StartCase", rec("StartCase")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, err := c.node("n2").Audit(ctx(t), "x", rec("Deploy")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a follower's Audit: %v, want ErrNotLeader", err)
	}
	if _, err := l.Audit(ctx(t), "bad", AuditRecord{Action: "x"}); err == nil {
		t.Fatal("a record without a result was taken")
	}
	want, _ := l.FSM().AuditChain()
	if len(want) != 3 {
		t.Fatalf("%d records, want 3", len(want))
	}
	var prev audit.Digest
	for i, r := range want {
		if r.Seq != uint64(i) || r.Prev != prev || r.ComputeHash() != r.Hash || len(r.Targets[1]) > maxAuditField+len("…") {
			t.Fatalf("record %d does not chain or is not clipped: %+v", i, r)
		}
		prev = r.Hash
	}
	for _, id := range []string{"n2", "n3"} {
		waitFor(t, id+"'s chain", func() bool {
			got, _ := c.node(id).FSM().AuditChain()
			return reflect.DeepEqual(got, want)
		})
	}

	f, b := roundTrip(t, l.FSM())
	if got, _ := f.AuditChain(); !reflect.DeepEqual(got, want) {
		t.Fatal("the restored chain differs")
	}
	bad := bytes.Replace(b, []byte(`"subject":"alice"`), []byte(`"subject":"mallory"`), 1)
	if err := NewFSM(l.fsm.m, l.fsm.prog).Restore(io.NopCloser(bytes.NewReader(bad))); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("a tampered chain restored: %v", err)
	}
}
