package hls

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestGolden regenerates the C++ of the examples' kernels and of one
// workflow's dispatch module and compares it with the committed files in
// testdata/golden (KNHK_UPDATE=1 rewrites them), so that a change to the
// generated code is reviewed as a diff.
func TestGolden(t *testing.T) {
	files := map[string][]byte{HeaderName: []byte(Header)}
	for _, src := range []string{"examples/fraud.knhk", "examples/etl.knhk"} {
		p, ok := build(t, src)
		if !ok {
			t.Fatalf("%s does not build", src)
		}
		ks, ds := Kernels(p, Options{})
		if len(ds) > 0 {
			t.Fatal(ds)
		}
		for _, k := range ks {
			for n, b := range k.Files {
				files[n] = b
			}
		}
	}
	p, ok := build(t, "testdata/patterns/wcp04_exclusive_choice.knhk")
	if !ok {
		t.Fatal("wcp04 does not build")
	}
	mod, err := Net(p, "Choice", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range mod.Files {
		files[n] = b
	}
	dir := filepath.Join("testdata", "golden")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		path := filepath.Join(dir, n)
		if os.Getenv("KNHK_UPDATE") != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, files[n], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (KNHK_UPDATE=1 writes it)", err)
		}
		if string(want) != string(files[n]) {
			t.Errorf("%s is stale (KNHK_UPDATE=1 go test ./codegen/hls -run TestGolden rewrites it)", path)
		}
	}
}
