package spirv_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/knhk/knhk/codegen/spirv/internal/grammar"
)

// TestTablesCurrent renders tables.go again from the installed grammars
// and fails when the committed file differs (run go generate).
func TestTablesCurrent(t *testing.T) {
	core, err := os.ReadFile(grammar.CorePath)
	if err != nil {
		if os.Getenv("KNHK_REQUIRE_E2E") != "" {
			t.Fatal(err)
		}
		t.Skipf("SPIR-V grammar not installed (Debian spirv-headers): %v", err)
	}
	glsl, err := os.ReadFile(grammar.GLSLPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := grammar.Render(core, glsl)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("tables.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("tables.go is stale: run go generate ./codegen/spirv")
	}
}

func TestRenderRejectsBadGrammar(t *testing.T) {
	for _, in := range []string{"", "{}", `{"magic_number":"0x07230203","instructions":[{"opname":"OpNop","opcode":0}]}`} {
		if _, err := grammar.Render([]byte(in), []byte(`{"instructions":[]}`)); err == nil {
			t.Errorf("Render(%q) succeeded", in)
		}
	}
}
