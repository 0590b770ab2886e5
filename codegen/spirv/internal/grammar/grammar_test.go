package grammar

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

const (
	smallCore = `{"magic_number":"0x07230203","major_version":1,"minor_version":6,"revision":1,
"instructions":[{"opname":"OpNop","opcode":0},{"opname":"OpTypeVoid","opcode":19,"operands":[{"kind":"IdResult"}]}],
"operand_kinds":[{"kind":"Scope","category":"ValueEnum","enumerants":[{"enumerant":"Device","value":1}]},
{"kind":"LoopControl","category":"BitEnum","enumerants":[{"enumerant":"Unroll","value":"0x0001"}]}]}`
	smallGLSL = `{"version":100,"revision":2,"instructions":[{"opname":"Exp","opcode":27}]}`
)

// FuzzRender: any grammar renders to Go that parses, or is an error;
// never a panic.
func FuzzRender(f *testing.F) {
	f.Add([]byte(smallCore), []byte(smallGLSL))
	f.Add([]byte(`{}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, core, glsl []byte) {
		src, err := Render(core, glsl)
		if err != nil {
			return
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "tables.go", src, 0); err != nil {
			t.Fatalf("rendered Go does not parse: %v", err)
		}
	})
}

func TestRenderSmall(t *testing.T) {
	src, err := Render([]byte(smallCore), []byte(smallGLSL))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"OpTypeVoid Opcode = 19", "ScopeDevice", "LoopControlUnroll LoopControl = 0x1", "GLSLExp GLSLInst = 27", "19: {\"OpTypeVoid\", false, true}"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("rendered tables lack %q", want)
		}
	}
}
