// Package atomicfile replaces files so that a crash leaves either the old
// content or the new, never a mixture or a truncated file. The formatter's
// -w, the std/kv store, the case descriptors and the event store's
// headers and snapshots all write through it.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// TempSuffix ends the name of every temporary file Write creates, so that
// a directory's owner can recognise and remove leftovers of a crash.
const TempSuffix = ".tmp"

// Write replaces path with data: it writes a temporary file in the same
// directory, sets perm, fsyncs it, renames it over path and fsyncs the
// directory. On error the temporary file is removed and path is untouched.
func Write(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*"+TempSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making a rename or a new file in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
