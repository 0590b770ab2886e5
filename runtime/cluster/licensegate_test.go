// This file tests the licence gate: the leader's decision of a
// licence's limits from its FSM.

package cluster

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/license"
)

const holdSource = `package held

workflow Hold() -> int {
  signal Go(x: int)
  select {
    on signal Go(x: int) -> { return x }
    on timer 48h -> { return 0 }
  }
}
`

// TestLicenseGateCountsTheLog checks that a gate counts the cases of
// the log, not its own admissions: a node's gate that admitted a start
// earlier (when it led) and then saw another leader start cases refuses
// a start beyond the limit once it leads again.
func TestLicenseGateCountsTheLog(t *testing.T) {
	c := newTestCluster(t, compile(t, holdSource))
	n := c.add("n1", nil, nil)
	c.leader()
	lic := &license.License{Payload: license.Payload{Tier: "two", Limits: license.Limits{ConcurrentCases: ptr(int64(2))}, Expires: time.Now().Add(time.Hour)}}
	g := NewLicenseGate(license.NewEnforcer(lic))
	g.Attach(n)
	release, err := g.AdmitStart("Hold")
	if err != nil {
		t.Fatal(err)
	}
	release()
	// Another leader (here: the node without the gate) starts two cases.
	for _, id := range []string{"c1", "c2"} {
		if err := n.Start(ctx(t), id, id, "Hold", nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err = g.AdmitStart("Hold")
	var le *license.LimitError
	if !errors.As(err, &le) || le.Limit != license.LimitConcurrentCases || le.Used != 2 {
		t.Fatalf("a third running case admitted: %v", err)
	}
	// One ends: a start fits again.
	if err := n.Signal(ctx(t), "go1", "c1", "Go", []any{int64(1)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c1 to end", func() bool { return n.FSM().Running() == 1 })
	release, err = g.AdmitStart("Hold")
	if err != nil {
		t.Fatalf("start after a case ended: %v", err)
	}
	// An admitted start counts until it is released.
	if _, err := g.AdmitStart("Hold"); !errors.As(err, &le) {
		t.Fatalf("a start beyond the limit while another is admitted: %v", err)
	}
	release()
}

// TestLicenseGateDeploys checks the programs limit on a cluster: the
// leader admits deploys of new programs up to the limit, counting those
// the log deployed, refuses the next naming the limit, and a program
// the cluster has redeploys.
func TestLicenseGateDeploys(t *testing.T) {
	lic := &license.License{Payload: license.Payload{Tier: "one", Limits: license.Limits{Programs: ptr(int64(1))}, Expires: time.Now().Add(time.Hour)}}
	g := NewLicenseGate(license.NewEnforcer(lic))
	c := newTestCluster(t, compile(t, holdSource))
	n := c.add("n1", nil, func(cfg *Config) { cfg.Compile = gateCompile; cfg.AdmitDeploy = g.AdmitDeploy })
	g.Attach(n)
	c.leader()
	v2 := strings.Replace(holdSource, "return x", "return x + 1", 1)
	h, err := n.Deploy(ctx(t), "v2.knhk", []byte(v2))
	if err != nil {
		t.Fatal(err)
	}
	if again, err := n.Deploy(ctx(t), "v2.knhk", []byte(v2)); err != nil || again != h {
		t.Fatalf("redeploy: %s %v", again, err)
	}
	v3 := strings.Replace(holdSource, "return x", "return x + 2", 1)
	_, err = n.Deploy(ctx(t), "v3.knhk", []byte(v3))
	var le *license.LimitError
	if !errors.As(err, &le) || le.Limit != license.LimitPrograms || !strings.Contains(err.Error(), "licence limit programs (1, tier one) reached") {
		t.Fatalf("a second program: %v", err)
	}
	if got := len(n.FSM().Deployed()); got != 1 {
		t.Fatalf("%d programs deployed, want 1", got)
	}
}

// TestLicenseGateTransitions checks transitions_per_month on a cluster:
// the leader counts the month's transitions from the log, and once they
// reach the limit a start is refused naming it, with the log's count.
func TestLicenseGateTransitions(t *testing.T) {
	lic := &license.License{Payload: license.Payload{Tier: "few", Limits: license.Limits{TransitionsPerMonth: ptr(int64(3))}, Expires: time.Now().Add(time.Hour)}}
	g := NewLicenseGate(license.NewEnforcer(lic))
	c := newTestCluster(t, compile(t, holdSource))
	n := c.add("n1", nil, func(cfg *Config) { cfg.AdmitStart = g.AdmitStart })
	g.Attach(n)
	c.leader()
	var le *license.LimitError
	for i := range 10 {
		id := fmt.Sprintf("c%d", i)
		err := n.Start(ctx(t), id, id, "Hold", nil)
		if errors.As(err, &le) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Signal(ctx(t), "go-"+id, id, "Go", []any{int64(i)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, id+" to end", func() bool { st, _, ok := n.FSM().Case(id); return ok && st.Done() })
	}
	if le == nil || le.Limit != license.LimitTransitionsPerMonth {
		t.Fatalf("no refusal naming transitions_per_month: %v", le)
	}
	u, err := n.FSM().Usage(UsageMonth(time.Now().UnixNano()))
	if err != nil || u.Transitions < 3 || le.Used != u.Transitions {
		t.Fatalf("refused at %d transitions, the log counts %+v (%v)", le.Used, u, err)
	}
}
