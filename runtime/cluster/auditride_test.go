package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/audit"
)

// ridingRecord returns a request's record naming target.
func ridingRecord(target string) func() AuditRecord {
	return func() AuditRecord {
		return AuditRecord{Tenant: "default", Subject: "alice", Role: "admin", Credential: audit.CredToken, Action: "StartCase",
			Targets: []string{target}, Remote: "10.0.0.1:5", Result: audit.ResultOK, Time: time.Now().UTC().Format(time.RFC3339Nano)}
	}
}

func noIntent(context.Context, AuditRecord) error { return errors.New("no intent expected") }

// chainHas returns the record of n's chain naming target, nil for none.
func chainHas(n *Node, target string) *AuditRecord {
	recs, _ := n.FSM().AuditChain()
	for i := range recs {
		for _, g := range recs[i].Targets {
			if g == target {
				return &recs[i]
			}
		}
	}
	return nil
}

// TestAuditRidesWithItsWrite crashes the leader right after a write
// returns, before anything else is proposed. A record proposed after
// its write (the former design, Audit) is lost with the leader: the
// survivors hold the case and no record of it. A record riding in the
// write (WithAudit) is on every survivor, with the write's outcome;
// starts, signals, cancels and deploys take it alike, a refused
// command's record says so, and a request's record rides once.
func TestAuditRidesWithItsWrite(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	deploys := func(cfg *Config) { cfg.Compile = gateCompile }
	c.add("n1", nil, deploys)
	l := c.leader()
	for _, id := range []string{"n2", "n3"} {
		n := c.add(id, nil, deploys)
		if err := l.Join(ctx(t), Member{ID: id, Raft: id, API: "api-" + id}, n.ProgramHash()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "three voters", func() bool { return len(c.voters()) == 3 })

	ride := func(target string) (context.Context, *AuditRider) {
		r := NewAuditRider(l, ridingRecord(target), noIntent)
		return WithAudit(ctx(t), r), r
	}
	write := func(what string, r *AuditRider, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !r.Chained() {
			t.Fatalf("%s: its record did not ride", what)
		}
	}
	cx, r := ride("case_id=a")
	write("start a", r, l.Start(cx, "start-a", "a", "W", []any{"a"}))
	// A second command of the same request carries no record.
	if err := l.Start(cx, "", "a2", "W", []any{"a2"}); err != nil {
		t.Fatal(err)
	}
	cx, r = ride("signal=a")
	write("signal a", r, l.Signal(cx, "", "a", "Go", []any{int64(7)}))
	cx, r = ride("deploy=v2")
	_, err := l.Deploy(cx, "v2.knhk", []byte(strings.Replace(testSource, "got = x\n", "got = x * 10\n", 1)))
	write("deploy", r, err)
	cx, r = ride("cancel=a2")
	write("cancel a2", r, l.Cancel(cx, "", "a2"))
	// A retried start is answered from the log: nothing is proposed, and
	// its record is the front's to append.
	cx, r = ride("case_id=a retry")
	if err := l.Start(cx, "start-a", "a", "W", []any{"a"}); err != nil || r.Chained() {
		t.Fatalf("a retried start: %v, chained %v", err, r.Chained())
	}
	// A command the log refuses records the refusal.
	k1 := func(cx context.Context) context.Context {
		return WithNonce(cx, []string{"acme\x00k1"}, "", time.Now(), time.Now().Add(time.Minute))
	}
	cx, r = ride("case_id=b")
	write("start b", r, l.Start(k1(cx), "", "b", "W", []any{"b"}))
	cx, r = ride("case_id=replayed")
	cx = k1(cx)
	if err := l.Start(cx, "", "replayed", "W", []any{"c"}); !errors.Is(err, ErrReplay) || !r.Chained() {
		t.Fatalf("a replayed start: %v, chained %v", err, r.Chained())
	}
	if rec := chainHas(l, "case_id=replayed"); rec == nil || rec.Result != audit.ResultRefused || !strings.Contains(rec.Detail, "already used") {
		t.Fatalf("the replayed start's record: %+v", rec)
	}

	// The former design: the write commits, the leader crashes before
	// the record's own entry.
	if err := l.Start(ctx(t), "", "old", "W", []any{"old"}); err != nil {
		t.Fatal(err)
	}
	// The new one: the record rides in the write.
	cx, r = ride("case_id=new")
	write("start new", r, l.Start(cx, "", "new", "W", []any{"new"}))
	c.kill(l.ID())
	next := c.leader()
	for _, id := range []string{"n1", "n2", "n3"} {
		n := c.node(id)
		if n == nil {
			continue
		}
		waitFor(t, id+" to apply the writes", func() bool {
			_, _, old := n.FSM().Case("old")
			_, _, nw := n.FSM().Case("new")
			return old && nw
		})
		if chainHas(n, "case_id=old") != nil {
			t.Fatalf("%s: a record of the old design's start", id)
		}
		for _, target := range []string{"case_id=a", "signal=a", "deploy=v2", "cancel=a2", "case_id=new"} {
			if rec := chainHas(n, target); rec == nil || rec.Result != audit.ResultOK || rec.Subject != "alice" {
				t.Fatalf("%s: the record of %s after the crash: %+v", id, target, rec)
			}
		}
		if chainHas(n, "case_id=a retry") != nil {
			t.Fatalf("%s: the retried start's record rode", id)
		}
	}
	recs, _ := next.FSM().AuditChain()
	if len(recs) != 7 {
		t.Fatalf("%d records, want 7: %+v", len(recs), recs)
	}
}

// TestAuditIntent proposes writes whose record belongs to another
// group's chain: the intent is committed there first, and a write whose
// intent the chain does not take is not proposed.
func TestAuditIntent(t *testing.T) {
	home := newTestCluster(t, compile(t, testSource))
	h := home.add("h1", nil, nil)
	home.leader()
	c := newTestCluster(t, compile(t, testSource))
	l := c.add("n1", nil, func(cfg *Config) { cfg.Compile = gateCompile })
	c.leader()

	var mu sync.Mutex
	var intents []AuditRecord
	intent := func(ctx context.Context, rec AuditRecord) error {
		mu.Lock()
		intents = append(intents, rec)
		mu.Unlock()
		_, err := h.Audit(ctx, "intent-"+rec.Targets[0], rec)
		return err
	}
	r := NewAuditRider(h, ridingRecord("case_id=a"), intent)
	if err := l.Start(WithAudit(ctx(t), r), "", "a", "W", []any{"a"}); err != nil {
		t.Fatal(err)
	}
	if r.Chained() || !r.Intended() || len(intents) != 1 || intents[0].Result != audit.ResultIntent {
		t.Fatalf("chained %v, intended %v, intents %+v", r.Chained(), r.Intended(), intents)
	}
	if rec := chainHas(h, "case_id=a"); rec == nil || rec.Result != audit.ResultIntent {
		t.Fatalf("the home chain's record: %+v", rec)
	}
	if recs, _ := l.FSM().AuditChain(); len(recs) != 0 {
		t.Fatalf("the write's group chained %+v", recs)
	}

	// The chain does not take the intent: the write is refused, to be
	// retried, and nothing was proposed.
	fail := NewAuditRider(h, ridingRecord("case_id=b"), func(context.Context, AuditRecord) error { return errors.New("the chain's leader is gone") })
	err := l.Start(WithAudit(ctx(t), fail), "", "b", "W", []any{"b"})
	if !errors.Is(err, ErrMaybeCommitted) || !strings.Contains(err.Error(), "audit record could not be committed") || !strings.Contains(err.Error(), "leader is gone") {
		t.Fatalf("a start without its intent: %v", err)
	}
	if _, _, ok := l.FSM().Case("b"); ok {
		t.Fatal("a start whose intent failed took effect")
	}
	_, err = l.Deploy(WithAudit(ctx(t), NewAuditRider(h, ridingRecord("deploy=x"), func(context.Context, AuditRecord) error { return errors.New("down") })), "v2.knhk", []byte(strings.Replace(testSource, "got = x\n", "got = x * 10\n", 1)))
	if !errors.Is(err, ErrMaybeCommitted) || len(l.FSM().Deployed()) != 0 {
		t.Fatalf("a deploy without its intent: %v, deployed %v", err, l.FSM().Deployed())
	}
}

// TestAuditRideRetried: a change the log refuses (computed from a stale
// revision) records the refusal, and the request's recomputed change
// carries the record again, so the change that took effect has one.
func TestAuditRideRetried(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	l := c.add("n1", nil, nil)
	c.leader()
	r := NewAuditRider(l, ridingRecord("tenant=acme"), noIntent)
	cx := WithAudit(ctx(t), r)
	change := func(base uint64) error {
		_, err := l.ChangeTenancy(cx, "", &TenancyChange{Base: base, Files: map[string][]byte{"tenants.json": []byte(`{}`)}})
		return err
	}
	if err := change(7); !errors.Is(err, ErrConflict) || !r.Chained() {
		t.Fatalf("a stale change: %v, chained %v", err, r.Chained())
	}
	if err := change(l.FSM().Tenancy().Rev); err != nil {
		t.Fatal(err)
	}
	recs, _ := l.FSM().AuditChain()
	if len(recs) != 2 || recs[0].Result != audit.ResultRefused || !strings.Contains(recs[0].Detail, "revision") || recs[1].Result != audit.ResultOK {
		t.Fatalf("the chain: %+v", recs)
	}
}
