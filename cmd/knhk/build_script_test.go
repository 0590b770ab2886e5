// This file runs the scripts of testdata/build: knhk build end to end as
// a user runs it, with the Go toolchain, against this checkout. They sit
// apart from testdata/script because they need the path of this checkout
// ($KNHK_ROOT, and a link to it at $WORK/knhk-src for a relative
// --knhk-src) and take seconds each.

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestBuildScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "build"),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			e.Setenv("KNHK_ROOT", root)
			// The build runs go, which needs its caches; testscript's
			// HOME is /no-home.
			for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
				if v, err := exec.Command("go", "env", k).Output(); err == nil {
					e.Setenv(k, strings.TrimSpace(string(v)))
				}
			}
			if runtime.GOOS == "windows" {
				return nil
			}
			return os.Symlink(root, filepath.Join(e.WorkDir, "knhk-src"))
		},
	})
}
