// This file implements the store behind std/kv: one JSON file in the data
// directory, replaced atomically on every write.

package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/knhk/knhk/internal/atomicfile"
)

// kvFile is the name of the kv store in the data directory.
const kvFile = "kv.json"

func (w *Worker) kvPath() string { return filepath.Join(w.o.DataDir, kvFile) }

// kvLoad reads the whole store; a missing file is an empty store.
func (w *Worker) kvLoad() (map[string]string, error) {
	w.kvMu.Lock()
	defer w.kvMu.Unlock()
	return w.kvRead()
}

func (w *Worker) kvRead() (map[string]string, error) {
	m := map[string]string{}
	b, err := os.ReadFile(w.kvPath())
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kv: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("kv: %s is corrupt: %w", w.kvPath(), err)
	}
	return m, nil
}

// kvUpdate applies f to the store and writes it back durably: to a
// temporary file that is synced and then renamed over the old one.
func (w *Worker) kvUpdate(f func(map[string]string)) error {
	w.kvMu.Lock()
	defer w.kvMu.Unlock()
	m, err := w.kvRead()
	if err != nil {
		return err
	}
	f(m)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	dir := w.o.DataDir
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	if err := atomicfile.Write(w.kvPath(), b, 0o644); err != nil {
		return fmt.Errorf("kv: %w", err)
	}
	return nil
}
