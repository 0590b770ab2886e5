// This file implements the golden tests: testdata/*.txtar hold an
// in.knhk section and the expected out/ir (the printer's text), out/sound
// (the verdict of every net and the diagnostics of the gate, [Gate], as
// knhk check prints them) and, for inputs the lowering rejects,
// out/errors. KNHK_UPDATE=1 rewrites the expected sections.

package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/check"
	"golang.org/x/tools/txtar"
)

func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	update := os.Getenv("KNHK_UPDATE") != ""
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := runGolden(t, ar)
			changed := false
			for _, name := range []string{"out/ir", "out/sound", "out/errors"} {
				want, have := goldenSection(ar, name)
				g, ok := got[name]
				switch {
				case update && ok:
					if !have {
						ar.Files = append(ar.Files, txtar.File{Name: name})
					}
					setSection(ar, name, g)
					changed = true
				case update && have:
					removeSection(ar, name)
					changed = true
				case ok && !have:
					t.Errorf("missing section %s; got:\n%s", name, g)
				case !ok && have:
					t.Errorf("section %s expected but nothing was produced:\n%s", name, want)
				case ok && g != want:
					t.Errorf("%s differs; got:\n%s\nwant:\n%s", name, g, want)
				}
			}
			if update && changed {
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// runGolden checks and lowers in.knhk and returns the text of each output
// section it produces.
func runGolden(t *testing.T, ar *txtar.Archive) map[string]string {
	t.Helper()
	cfg := &check.Config{ReadFile: archiveFS(ar)}
	pkg, info, diags := check.Load("in.knhk", cfg)
	if diags.HasErrors() {
		t.Fatalf("in.knhk does not check:\n%s", diagText(diags))
	}
	// The gate of knhk check and knhk run, as a user meets it.
	b, ds := Gate(pkg, info, nil)
	out := map[string]string{}
	if b.Program == nil {
		out["out/errors"] = diagText(ds)
		return out
	}
	prog := b.Program
	roundTrip(t, prog)
	for _, where := range unknownLocs(prog) {
		t.Error(where)
	}
	out["out/ir"] = prog.String()
	var sb strings.Builder
	for _, r := range b.Reports {
		verdict := "sound"
		switch {
		case r.HasErrors():
			verdict = "unsound"
		case !r.Sound:
			verdict = "unproven"
		}
		fmt.Fprintf(&sb, "%s: %s\n", r.Net, verdict)
	}
	for _, d := range ds {
		fmt.Fprintf(&sb, "%s\n", d.Error())
		for _, r := range d.Related {
			if r.File != nil {
				p := r.File.Position(r.Span.Start)
				fmt.Fprintf(&sb, "\t%d:%d: %s\n", p.Line, p.Column, r.Message)
			}
		}
	}
	out["out/sound"] = sb.String()
	return out
}

func goldenSection(ar *txtar.Archive, name string) (string, bool) {
	for _, f := range ar.Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

func setSection(ar *txtar.Archive, name, data string) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = []byte(data)
		}
	}
}

func removeSection(ar *txtar.Archive, name string) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files = append(ar.Files[:i], ar.Files[i+1:]...)
			return
		}
	}
}
