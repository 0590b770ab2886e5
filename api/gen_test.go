package api

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGenerated regenerates the code of knhk/v1 into a temporary
// directory and compares it with the committed files, so that a schema
// edited without go generate ./api fails here.
func TestGenerated(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc is not installed (Debian package protobuf-compiler); the committed code of api/knhk/v1 is not checked against the schema")
	}
	if testing.Short() {
		t.Skip("builds the protoc plugins")
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "gen.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v\n%s", err, b)
	}
	for _, f := range []string{"knhk/v1/knhk.pb.go", "knhk/v1/knhkv1connect/knhk.connect.go"} {
		want, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what go generate ./api writes; run it and commit the result", f)
		}
	}
}
