// This file implements reading source files with the limits and messages
// that the CLI promises for bad input.

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/knhk/knhk/lang/syntax"
)

// maxReadSize bounds how much of one file knhk reads at all. Files up to it
// reach the parser, which reports anything over [syntax.MaxFileSize] with a
// positioned diagnostic; larger files, and endless devices, stop here
// before they fill memory.
const maxReadSize = 4 * syntax.MaxFileSize

// stdinName names standard input in diagnostics, listings and diffs.
const stdinName = "<standard input>"

// errIsDir is the reason given when a directory is named where a source
// file is expected.
var errIsDir = errors.New("is a directory, not a .knhk file")

// readSource reads the source file at path. Its errors are *fs.PathError
// values whose text names the path, such as
// "open x.knhk: no such file or directory".
func readSource(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errIsDir}
	}
	if fi.Mode().IsRegular() && fi.Size() > maxReadSize {
		return nil, &fs.PathError{Op: "read", Path: path, Err: tooLarge(fmt.Sprint(fi.Size()))}
	}
	return readLimited(f, path)
}

// readLimited reads r to its end, refusing more than maxReadSize bytes.
func readLimited(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxReadSize+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: unwrapPathError(err)}
	}
	if len(b) > maxReadSize {
		return nil, &fs.PathError{Op: "read", Path: name, Err: tooLarge(fmt.Sprintf("more than %d", maxReadSize))}
	}
	return b, nil
}

func tooLarge(size string) error {
	return fmt.Errorf("file is %s bytes; the limit is %d bytes (8 MiB)", size, syntax.MaxFileSize)
}

// unwrapPathError strips an *fs.PathError so that the path is not named
// twice when the error is wrapped again.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
