// This file implements reading source files with the limits and messages
// that the CLI promises for bad input.

package main

import (
	"bytes"
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

// maxInputSize bounds a JSON input: a file given with --input (read no
// further than this, so an endless device or a huge file is refused
// before it fills memory), the text of --input-json, and a signal's
// payload. The case's start record must hold the input, so the limit is
// below the event log's record limit.
const maxInputSize = 8 << 20

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readInputFile reads the JSON input file at path, refusing more than
// maxInputSize bytes while it reads.
func readInputFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is a directory, not a JSON file")}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxInputSize+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: unwrapPathError(err)}
	}
	return inputText(path, b)
}

// inputText checks the size of a JSON input named name and strips a
// UTF-8 byte order mark from its start; JSON has no use for one, and
// editors on some systems write it.
func inputText(name string, b []byte) ([]byte, error) {
	if len(b) > maxInputSize {
		return nil, fmt.Errorf("%s: the input is more than %d bytes; the limit is %d bytes (8 MiB)", name, maxInputSize, maxInputSize)
	}
	return bytes.TrimPrefix(b, utf8BOM), nil
}
