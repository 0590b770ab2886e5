// This file implements the golden test: the generated Go of one example
// and of the benchmark program is committed under gentest/ and must
// match what the generator writes now. KNHK_UPDATE=1 rewrites it.
// Being ordinary packages of the module, the golden files are also
// built, vetted and benchmarked (gentest/bench_test.go).

package golang_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/knhk/knhk/codegen/golang"
)

// goldens maps each gentest package to the program it is generated
// from, relative to the repository root.
var goldens = map[string]string{
	"shop":  "examples/shop.knhk",
	"bench": "codegen/golang/testdata/gen/bench.knhk",
}

func TestGolden(t *testing.T) {
	root := repoRoot(t)
	for pkg, rel := range goldens {
		t.Run(pkg, func(t *testing.T) {
			p, files := build(t, filepath.Join(root, rel))
			srcs := map[int32][]byte{}
			for i, f := range files {
				srcs[i] = f.Content
			}
			out, diags := golang.Generate(p, golang.Options{Package: pkg, Pos: golang.LinePos(p, files), Source: rel, Sources: srcs})
			if len(diags) > 0 {
				t.Fatal(diags)
			}
			dir := filepath.Join("gentest", pkg)
			if os.Getenv("KNHK_UPDATE") != "" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, b := range out {
					if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var names []string
			for name := range out {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatalf("%v (run with KNHK_UPDATE=1 to write it)", err)
				}
				if !bytes.Equal(got, out[name]) {
					t.Errorf("%s/%s differs from the generator's output; review it and run with KNHK_UPDATE=1", dir, name)
				}
			}
			have, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, h := range have {
				if _, ok := out[filepath.Base(h)]; !ok && filepath.Ext(h) != "" && !strings.HasSuffix(h, "_test.go") {
					t.Errorf("%s is not generated any more", h)
				}
			}
		})
	}
}
