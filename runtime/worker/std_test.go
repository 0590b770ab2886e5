package worker

import (
	"sort"
	"testing"

	"github.com/knhk/knhk/lang/syntax"
	"github.com/knhk/knhk/stdlib"
)

// TestStdTasksImplemented checks that the std bindings the standard
// modules declare and the tasks this package implements are the same
// set: the checker accepts a std binding only when a module declares it,
// so a declared task without an implementation would check and then fail
// at run time, and an implementation without a declaration is dead.
func TestStdTasksImplemented(t *testing.T) {
	declared := map[string]bool{}
	for _, path := range stdlib.Modules() {
		src, _ := stdlib.Source(path)
		f, diags := syntax.Parse(path, src)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", path, diags.Err())
		}
		for _, d := range f.Decls {
			td, ok := d.(*syntax.TaskDecl)
			if !ok || td.Binding == nil || td.Binding.Std == nil {
				continue
			}
			name, _ := td.Binding.Std.Unquoted()
			declared[name] = true
			if stdTasks[name] == nil {
				t.Errorf("%s declares task %s bound to std %q, which the runtime does not implement", path, td.Name.Value, name)
			}
		}
	}
	var extra []string
	for name := range stdTasks {
		if !declared[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("the runtime implements std tasks no module declares: %v", extra)
	}
	if len(declared) == 0 {
		t.Fatal("no std bindings found in the standard modules")
	}
}
