package eval

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

// TestVarNameInErrors checks that a read of a case variable without a
// value names the variable as the source does, not by its index.
func TestVarNameInErrors(t *testing.T) {
	p, f := build(ir.Int, nil, func(p *ir.Program, b *ir.FuncBuilder) {
		b.Return(b.Var(1, ir.Int))
	})
	p.Nets = append(p.Nets, &ir.Net{Name: "W", Vars: []ir.Var{{Name: "total", Type: ir.Int}, {Name: "count", Type: ir.Int}}})
	p.Funcs[f].Scope = int32(len(p.Nets) - 1)
	_, err := Call(p, f, newVars(Int(0)))
	if err == nil || !strings.Contains(err.Error(), "case variable count has no value") {
		t.Errorf("unset var: %v, want it named count", err)
	}
	_, err = Call(p, f, nil)
	if err == nil || !strings.Contains(err.Error(), "case variable count read without a case") {
		t.Errorf("no case: %v, want it named count", err)
	}
}
