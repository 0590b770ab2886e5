package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/worker"
)

// gateCompile compiles a deployed source through the check and the
// soundness gate, as knhk serve --node does.
func gateCompile(name string, src []byte) (*ir.Program, error) {
	pkg, info, ds := check.CheckSource(name, src, &check.Config{})
	if ds.HasErrors() || pkg == nil {
		return nil, fmt.Errorf("%v", ds)
	}
	b, gds := compiler.Gate(pkg, info, nil)
	if gds.HasErrors() || b.Program == nil {
		return nil, fmt.Errorf("%v", gds)
	}
	return b.Program, nil
}

// TestReplicatedDeploy deploys a second version through the log: a case
// started before keeps its version, a case started in the new one runs
// it, every replica (one that catches up from a snapshot too) compiles
// the deploy and agrees, and a source the gate refuses is not deployed.
func TestReplicatedDeploy(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	deploys := func(cfg *Config) {
		cfg.Compile = gateCompile
		cfg.WorkerFor = func(p *ir.Program) engine.Worker { return worker.New(p, worker.Options{Registry: c.fx.registry()}) }
		cfg.Timing.SnapshotThreshold = 8
		cfg.Timing.TrailingLogs = 2
		cfg.Timing.SnapshotInterval = 10 * time.Millisecond
	}
	c.add("n1", nil, deploys)
	l := c.leader()
	if err := l.Start(ctx(t), "", "old", "W", []any{"old"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "old to wait", func() bool { return c.fx.count("old/2") == 1 })

	v2 := strings.Replace(testSource, "got = x\n", "got = x * 10\n", 1)
	h2, err := l.Deploy(ctx(t), "v2.knhk", []byte(v2))
	if err != nil {
		t.Fatal(err)
	}
	if h2 == l.ProgramHash() {
		t.Fatal("the second version has the first one's hash")
	}
	if again, err := l.Deploy(ctx(t), "v2.knhk", []byte(v2)); err != nil || again != h2 {
		t.Fatalf("deploying it again: %s %v", again, err)
	}
	if _, err := l.Deploy(ctx(t), "bad.knhk", []byte("package p\nworkflow W() -> int { return \"s\" }\n")); err == nil {
		t.Fatal("a source that does not check was deployed")
	}
	if d := l.FSM().Deployed(); len(d) != 1 || d[0].Hash != h2 || d[0].Name != "v2.knhk" {
		t.Fatalf("deployed: %+v", d)
	}
	if _, err := l.StartIn(ctx(t), h2, "", "", "new", "W", []any{"new"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "new to wait", func() bool { return c.fx.count("new/2") == 1 })
	for _, id := range []string{"old", "new"} {
		if err := l.Signal(ctx(t), "", id, "Go", []any{int64(3)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := completed(t, l, "old"); got != int64(9) {
		t.Fatalf("the case started before the deploy returned %v, want 9 (its own version)", got)
	}
	if got := completed(t, l, "new"); got != int64(36) {
		t.Fatalf("the case of the deployed version returned %v, want 36", got)
	}
	if p := l.FSM().CaseProgram("new"); p != h2 {
		t.Fatalf("new runs %s", p)
	}

	// A node added now is sent the snapshot: it compiles the deploy too.
	if err := l.r.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	n2 := c.add("n2", nil, deploys)
	if err := l.Join(ctx(t), Member{ID: "n2", Raft: "n2", API: "api-n2"}, n2.ProgramHash()); err != nil {
		t.Fatal(err)
	}
	if got := completed(t, n2, "new"); got != int64(36) {
		t.Fatalf("new on n2: %v", got)
	}
	if n2.FSM().Restores() == 0 || n2.FSM().CaseProgram("new") != h2 || len(n2.FSM().Deployed()) != 1 {
		t.Fatalf("n2: %d restores, new runs %q, deployed %+v", n2.FSM().Restores(), n2.FSM().CaseProgram("new"), n2.FSM().Deployed())
	}
	sameStates(t, c, []string{"old", "new"})
}
