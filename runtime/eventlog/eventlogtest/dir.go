// Package eventlogtest finds the shared real event logs for the tests of
// the mining packages.
package eventlogtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/knhk/knhk/runtime/eventlog"
	"github.com/knhk/knhk/runtime/export"
)

// Dir returns the folder of the shared event logs: $KNHK_EVENTLOGS, or
// ../shared/data/eventlogs beside the repository. A test needing it is
// skipped when neither exists, saying where it looked.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("KNHK_EVENTLOGS"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	d := filepath.Join(root, "..", "shared", "data", "eventlogs")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("no shared event logs at %s (set KNHK_EVENTLOGS)", d)
	}
	return d
}

// Read reads the shared log name, failing the test on error.
func Read(t testing.TB, name string) *export.Log {
	t.Helper()
	l, err := eventlog.ReadFile(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return l
}
