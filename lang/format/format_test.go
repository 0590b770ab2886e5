// This file implements the golden tests (testdata/*.input against
// *.golden; KNHK_UPDATE=1 rewrites them) and the entry-point tests.

package format

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/syntax"
)

// update rewrites the .golden files: KNHK_UPDATE=1 go test ./lang/format.
var update = os.Getenv("KNHK_UPDATE") != ""

// checkRoundTrip formats src and reports, as test errors, every broken
// promise: the output must parse, be a fixed point, keep the AST and keep
// every comment. It returns the formatted text.
func checkRoundTrip(t testing.TB, name string, src []byte) []byte {
	t.Helper()
	f, diags := syntax.Parse(name, src)
	if diags.HasErrors() {
		t.Fatalf("%s: parse: %v", name, diags)
	}
	return checkParsed(t, name, f)
}

// checkParsed is checkRoundTrip for a file already parsed without errors.
func checkParsed(t testing.TB, name string, f *syntax.File) []byte {
	t.Helper()
	out := Source(f)
	g, diags := syntax.Parse(name, out)
	if diags.HasErrors() {
		t.Fatalf("%s: formatted output does not parse: %v\n%s", name, diags, out)
	}
	if d := diffAST(f, g); d != "" {
		t.Errorf("%s: formatting changed the syntax tree: %s\n%s", name, d, out)
	}
	if d := diffComments(f, g); d != "" {
		t.Errorf("%s: %s\n%s", name, d, out)
	}
	if again := Source(g); !bytes.Equal(again, out) {
		t.Errorf("%s: formatting is not idempotent:\n--- once\n%s\n--- twice\n%s", name, out, again)
	}
	return out
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.input"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*.input files")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out := checkRoundTrip(t, in, src)
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run KNHK_UPDATE=1 go test ./lang/format to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs from %s (KNHK_UPDATE=1 rewrites it):\n--- got\n%s\n--- want\n%s", golden, out, want)
			}
			// A golden file is itself canonical.
			checkRoundTrip(t, golden, want)
		})
	}
}

// TestExamples formats the repository's example workflows: they must
// survive the round trip, whatever their current layout.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.knhk"))
	if len(files) == 0 {
		t.Skip("no examples")
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, diags := syntax.Parse(name, src); diags.HasErrors() {
			continue // an example being edited by someone else
		}
		checkRoundTrip(t, name, src)
	}
}

func TestBytesRefusesBrokenCode(t *testing.T) {
	for _, src := range []string{
		"package p\nworkflow W() { let = }\n",
		"package p\ntype T = {\n",
		"",
		"workflow W() {}\n",
	} {
		out, diags := Bytes("x.knhk", []byte(src))
		if out != nil {
			t.Errorf("%q: got output %q, want nil", src, out)
		}
		if !diags.HasErrors() {
			t.Errorf("%q: no error diagnostics", src)
		}
	}
}

func TestBytes(t *testing.T) {
	out, diags := Bytes("x.knhk", []byte("package  p\nworkflow W(a:int)->int{return a+1}"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := "package p\nworkflow W(a: int) -> int {\n  return a + 1\n}\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestNilFile: Source of nothing is nothing, not a panic.
func TestNilFile(t *testing.T) {
	if out := Source(nil); out != nil {
		t.Errorf("Source(nil) = %q", out)
	}
}
