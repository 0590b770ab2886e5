// This file implements helpers shared by the tests: loading and lowering
// KNHK sources, and calling their fns with JSON arguments.

package eval

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"golang.org/x/tools/txtar"
)

var (
	progMu    sync.Mutex
	progCache = map[string]*ir.Program{}
)

// lowerFile checks and lowers the file at path; for a txtar archive it
// lowers the archive's in.knhk.
func lowerFile(t testing.TB, path string) *ir.Program {
	t.Helper()
	progMu.Lock()
	defer progMu.Unlock()
	if p, ok := progCache[path]; ok {
		return p
	}
	var cfg *check.Config
	root := path
	if filepath.Ext(path) == ".txtar" {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg = &check.Config{ReadFile: func(name string) ([]byte, error) {
			for _, f := range ar.Files {
				if f.Name == filepath.Base(name) || f.Name == name {
					return f.Data, nil
				}
			}
			return nil, os.ErrNotExist
		}}
		root = "in.knhk"
	}
	pkg, info, diags := check.Load(root, cfg)
	if diags.HasErrors() {
		t.Fatalf("%s does not check:\n%s", path, diags.Format())
	}
	// The gate of knhk run: lower, verify, prove sound.
	prog, ld := compiler.Build(pkg, info)
	if ld.HasErrors() {
		t.Fatalf("%s does not pass the gate:\n%s", path, ld.Format())
	}
	progCache[path] = prog
	return prog
}

func funcID(t testing.TB, p *ir.Program, name string) ir.FuncID {
	t.Helper()
	for i, f := range p.Funcs {
		if f.Name == name {
			return ir.FuncID(i)
		}
	}
	t.Fatalf("no fn %s", name)
	return ir.NoFunc
}

// callJSON calls fn name with arguments decoded from JSON by the fn's
// parameter types.
func callJSON(t testing.TB, p *ir.Program, name string, env Env, args ...string) (Value, error) {
	t.Helper()
	id := funcID(t, p, name)
	f := p.Funcs[id]
	if len(args) != len(f.Params) {
		t.Fatalf("%s takes %d args", name, len(f.Params))
	}
	vals := make([]Value, len(args))
	for i, a := range args {
		v, err := FromJSONNamed(p, f.Params[i].Type, f.Params[i].Name, []byte(a))
		if err != nil {
			t.Fatalf("argument %d of %s: %v", i, name, err)
		}
		vals[i] = v
	}
	return Call(p, id, env, vals...)
}

func mustCall(t testing.TB, p *ir.Program, name string, args ...string) Value {
	t.Helper()
	v, err := callJSON(t, p, name, nil, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// evalErr returns err as an *Error or fails.
func evalErr(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	return e
}

// vars is an Env over a slice of variables and a set of milestones.
type vars struct {
	vals       []Value
	set        []bool
	milestones map[string]bool
}

func (v *vars) Var(i int) (Value, bool) {
	if i < 0 || i >= len(v.vals) || !v.set[i] {
		return Value{}, false
	}
	return v.vals[i], true
}

func (v *vars) Milestone(name string) bool { return v.milestones[name] }

func newVars(vals ...Value) *vars {
	set := make([]bool, len(vals))
	for i := range set {
		set[i] = true
	}
	return &vars{vals: vals, set: set}
}
