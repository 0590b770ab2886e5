// Package dircopy copies a directory tree: tests take what a crash
// leaves of a data directory by copying it while its writer is stopped
// mid-way, and open the copy.
package dircopy

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Copy copies the directories and regular files under src to dst
// (created as needed); other entries (links, sockets) are skipped.
func Copy(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}
