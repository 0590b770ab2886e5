package cluster

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// TestRestartWithAnotherProgram reopens a node's directory with another
// program: a snapshot of the old one is refused when raft loads it, and
// log entries of the old one stop the FSM, which the status reports.
func TestRestartWithAnotherProgram(t *testing.T) {
	prog := compile(t, testSource)
	other := compile(t, strings.Replace(testSource, "got = 100", "got = 200", 1))
	fx := &effects{calls: map[string]int{}}
	open := func(dir string, snapshot bool) (*Node, error) {
		p := prog
		if snapshot {
			p = other
		}
		return NewNode(Config{ID: "n1", Raft: "127.0.0.1:0", Dir: dir, Bootstrap: true, Program: p, Eval: &host.Evaluator{},
			Worker: worker.New(p, worker.Options{Registry: fx.registry()}), Timing: fastTiming})
	}
	for _, snap := range []bool{false, true} {
		dir := t.TempDir()
		n, err := open(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "n1 to lead", n.IsLeader)
		if err := n.Start(ctx(t), "", "a", "W", []any{"a"}); err != nil {
			t.Fatal(err)
		}
		if snap {
			if err := n.r.Snapshot().Error(); err != nil {
				t.Fatal(err)
			}
		}
		n.Close()
		if !snap {
			// Same program, other code: the log replays into an FSM
			// that refuses it.
			n2, err := NewNode(Config{ID: "n1", Raft: "127.0.0.1:0", Dir: dir, Program: other, Eval: &host.Evaluator{},
				Worker: worker.New(other, worker.Options{Registry: fx.registry()}), Timing: fastTiming})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the FSM to refuse the old log", func() bool { return n2.FSM().Broken() != nil })
			st, err := n2.Status()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(st.Broken, "program version mismatch") {
				t.Fatalf("status broken %q", st.Broken)
			}
			n2.Close()
			continue
		}
		_, err = open(dir, true)
		if err == nil || !strings.Contains(err.Error(), "program version mismatch") {
			t.Fatalf("reopening a snapshot of another program: %v", err)
		}
	}
}
