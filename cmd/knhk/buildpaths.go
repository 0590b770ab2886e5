// This file implements the checks of knhk build's output paths: each is
// made absolute against the current directory and checked before
// anything is generated or written, so that a bad path is reported by
// name (exit 1) rather than found by the Go toolchain, which runs in the
// knhk source tree and would read a relative path against that tree.

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// buildPaths is the absolute form of knhk build's path flags, checked.
type buildPaths struct {
	out  string // -o, or FILE's name in the current directory
	emit string // --emit-go, or "" without it
}

// checkBuildPaths resolves -o (default: file's base name without .knhk)
// and --emit-go against the current directory and checks that the
// binary and the generated package can be written there.
func checkBuildPaths(o *buildOptions, file string) (buildPaths, error) {
	var p buildPaths
	out := o.out
	if out == "" {
		out = strings.TrimSuffix(filepath.Base(file), ".knhk")
	}
	var err error
	if p.out, err = checkOut(out); err != nil {
		return p, err
	}
	if o.emit != "" {
		if p.emit, err = checkEmitDir(o.emit); err != nil {
			return p, err
		}
		if p.out == p.emit {
			return p, fmt.Errorf("-o %s: the binary would replace the --emit-go directory", o.out)
		}
	}
	return p, nil
}

// checkOut checks the binary's path: not a directory, in an existing
// directory this process can write to.
func checkOut(out string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("-o %s: %v", out, err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("-o %s: %s is a directory", out, abs)
	}
	parent := filepath.Dir(abs)
	fi, err := os.Stat(parent)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("-o %s: directory %s does not exist", out, parent)
	case err != nil:
		return "", fmt.Errorf("-o %s: %v", out, err)
	case !fi.IsDir():
		return "", fmt.Errorf("-o %s: %s is not a directory", out, parent)
	}
	if err := probeWritable(parent); err != nil {
		return "", fmt.Errorf("-o %s: cannot write to %s: %v", out, parent, unwrapPathError(err))
	}
	return abs, nil
}

// checkEmitDir checks --emit-go's directory: a directory this process can
// write to, or one it can create (its nearest existing ancestor is a
// writable directory). It creates nothing.
func checkEmitDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--emit-go %s: %v", dir, err)
	}
	d := abs
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return "", fmt.Errorf("--emit-go %s: %s exists and is not a directory", dir, d)
			}
			break
		}
		// ENOTDIR: a file on the way up, reported when the walk reaches it.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", fmt.Errorf("--emit-go %s: %v", dir, err)
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("--emit-go %s: no existing directory above it", dir)
		}
		d = up
	}
	if err := probeWritable(d); err != nil {
		return "", fmt.Errorf("--emit-go %s: cannot write to %s: %v", dir, d, unwrapPathError(err))
	}
	return abs, nil
}

// probeWritable creates and removes a file in dir: permission bits do not
// tell (root, ACLs, read-only mounts).
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".knhkbuild-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
