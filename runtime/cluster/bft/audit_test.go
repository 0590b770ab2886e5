package bft

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
)

// auditRec is a record of action by subject, at t0.
func (c *chain) auditRec(action, subject string) *cluster.AuditRecord {
	return &cluster.AuditRecord{Time: c.t0.UTC().Format(time.RFC3339Nano), Tenant: "default", Subject: subject, Role: "admin", Credential: "static", Action: action, Remote: "127.0.0.1:1", Result: audit.ResultOK}
}

// actions lists a's audit chain as "action result" lines, checking
// that it links.
func actions(t *testing.T, a *App) string {
	t.Helper()
	recs, _ := a.FSM().AuditChain()
	var prev audit.Digest
	var out []string
	for i, r := range recs {
		if r.Seq != uint64(i) || r.Prev != prev || r.ComputeHash() != r.Hash {
			t.Fatalf("audit record %d does not chain", i)
		}
		prev = r.Hash
		out = append(out, r.Action+" "+r.Result)
	}
	return strings.Join(out, "\n")
}

// TestAuditChainInBlocks: a tenancy change carries its call's audit
// record in its own transaction, and every validator chains it when it
// applies the change, with the change's outcome (ok, or refused with
// why); an audit transaction appends a record of its own; a tenant's
// event carries its record in its transaction too, which goes into the
// cluster's own space's chain, not the tenant's space. The chain is the same on every validator and
// the application hash covers it: the same block with one field of one
// record changed, or without the record, hashes otherwise.
func TestAuditChainInBlocks(t *testing.T) {
	run := func(edit func(*cluster.Command)) (*chain, []byte) {
		c := newChain(t, 3, 3)
		k := c.keys[0]
		c.block(0, nil, c.lease(k, 1))
		create := c.found(0, "acme")
		create.Audit = c.auditRec("knhk tenant create", "ops")
		edit(create)
		stale := c.found(0, "beta") // computed from the tenancy before acme's
		stale.Audit = c.auditRec("knhk tenant create", "ops2")
		stale.ReqID = "stale"
		rec := c.auditRec("GET /cluster/v1/cases", "ops")
		rec.Result = "permission_denied"
		bad := c.start("c1", 0)
		bad.Audit = c.auditRec("StartCase", "eve")
		res := c.block(100*time.Millisecond, nil,
			c.event(k, 1, create),
			c.event(k, 1, stale),
			c.event(k, 1, &cluster.Command{Op: cluster.OpAudit, Program: c.prog, ReqID: "r1", Audit: rec}),
		)
		wantCodes(t, res, codeOK, codeRefused, codeOK)
		again := c.start("c1", 0)
		again.Audit = c.auditRec("StartCase", "eve2")
		res = c.block(200*time.Millisecond, nil, c.tenantEvent(k, 1, "acme", bad), c.tenantEvent(k, 1, "acme", again))
		wantCodes(t, res, codeOK, codeRefused)
		return c, res.AppHash
	}
	c, h := run(func(*cluster.Command) {})
	want := "knhk tenant create ok\nknhk tenant create refused\nGET /cluster/v1/cases permission_denied\nStartCase ok\nStartCase refused"
	for i, a := range c.apps {
		if got := actions(t, a); got != want {
			t.Fatalf("validator %d's chain:\n%s\nwant:\n%s", i, got, want)
		}
		if a.Space("acme").Events("c1") != 1 {
			t.Fatal("acme's start with its record did not apply to acme's space")
		}
		if recs, _ := a.Space("acme").AuditChain(); len(recs) != 0 {
			t.Fatalf("acme's space holds audit records: %+v", recs)
		}
	}
	recs, _ := c.apps[0].FSM().AuditChain()
	if !strings.Contains(recs[1].Detail, "the log refused it") || recs[0].Subject != "ops" || !slices.Contains(recs[3].Targets, "case_id=c1") || !strings.Contains(recs[4].Detail, "the log refused it") {
		t.Fatalf("the records: %+v", recs)
	}
	for name, edit := range map[string]func(*cluster.Command){
		"a changed subject": func(c *cluster.Command) { c.Audit.Subject = "mallory" },
		"no record":         func(c *cluster.Command) { c.Audit = nil },
	} {
		if _, h2 := run(edit); bytes.Equal(h, h2) {
			t.Fatalf("%s: the same application hash", name)
		}
	}
}

// TestAuditRides: through the drivers, a call's record rides in its
// first transaction, whatever its space (a tenancy change, a start of
// the cluster's own case, a start of a tenant's); the rider
// says so, so that the front adds no record of its own. An audit
// transaction appends through the cluster's driver only.
func TestAuditRides(t *testing.T) {
	c, ctx, cancel, own, acme := tenantDrivers(t) // driverspace_test.go
	defer cancel()
	a := c.apps[0]
	ride := func(action string) (context.Context, *cluster.AuditRider) {
		r := cluster.NewAuditRiderOn(a.FSM(), func() cluster.AuditRecord { return *c.auditRec(action, "ops") },
			func(ctx context.Context, rec cluster.AuditRecord) error {
				_, err := own.Audit(ctx, "", rec)
				return err
			})
		return cluster.WithAudit(ctx, r), r
	}
	rctx, r := ride("knhk tenant create")
	if _, err := own.Commit(rctx, c.found(0, "acme")); err != nil {
		t.Fatal(err)
	}
	if !r.Chained() || r.Intended() {
		t.Fatalf("the tenancy change's record: chained %v, intended %v", r.Chained(), r.Intended())
	}
	rctx, r = ride("POST /cluster/v1/cases")
	if err := own.Start(rctx, "c0", "W", []any{"c0"}); err != nil {
		t.Fatal(err)
	}
	if !r.Chained() {
		t.Fatal("the own space's start did not carry its record")
	}
	rctx, r = ride("StartCase")
	if err := acme.Start(rctx, "c1", "W", []any{"c1"}); err != nil {
		t.Fatal(err)
	}
	if !r.Chained() || r.Intended() {
		t.Fatalf("the tenant's start's record: chained %v, intended %v", r.Chained(), r.Intended())
	}
	if _, err := acme.Audit(ctx, "", *c.auditRec("x", "y")); err == nil {
		t.Fatal("a tenant's driver committed an audit record")
	}
	want := "knhk tenant create ok\nPOST /cluster/v1/cases ok\nStartCase ok"
	if got := actions(t, a); got != want {
		t.Fatalf("the chain:\n%s\nwant:\n%s", got, want)
	}
	recs, _ := a.FSM().AuditChain()
	if !strings.Contains(strings.Join(recs[1].Targets, " "), "case_id=c0") {
		t.Fatalf("the start's record names no case: %+v", recs[1])
	}
	cancel()
	own.Wait()
	acme.Wait()
}
