// This file tests the lowering of queue bindings: tasks that external
// workers execute.

package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

func TestLowerQueueBinding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billing.knhk")
	src := `package billing

task charge(amount: float) -> string queue "billing" retry 2 timeout 5s

workflow Pay(amount: float) -> string {
  let r = charge(amount)
  return r
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := lowerFile(t, path, nil)
	if len(prog.Tasks) != 1 {
		t.Fatalf("tasks = %d", len(prog.Tasks))
	}
	b := prog.Tasks[0].Binding
	if b.Kind != ir.BindQueue || b.Target != "billing" || b.Method != "" || len(b.Args) != 0 {
		t.Fatalf("binding = %+v, want queue \"billing\"", b)
	}
	if prog.Tasks[0].Retry != 2 {
		t.Errorf("retry = %d", prog.Tasks[0].Retry)
	}
	if !strings.Contains(prog.String(), `-> string queue "billing" retry 2`) {
		t.Errorf("printed IR does not show the queue binding:\n%s", prog)
	}
	roundTrip(t, prog)

	// The verifier refuses a queue binding without a name.
	prog.Tasks[0].Binding.Target = ""
	if err := prog.Verify(); err == nil || !strings.Contains(err.Error(), "queue binding without a queue name") {
		t.Fatalf("verify = %v", err)
	}
}
