// This file implements "knhk fmt".

package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/lang/format"
)

var fmtCmd = &command{
	name:      "fmt",
	usageLine: "knhk fmt [-l] [-d] [-w] [--check] [FILE|DIR]...",
	short:     "format .knhk files",
	long: `Fmt formats KNHK source in the one standard layout, like gofmt. With no
FILE or DIR it formats standard input to standard output. A DIR is walked
for *.knhk files, skipping directories whose names start with ".". A FILE
of "-" is standard input.

Without -l, -d, -w or --check, the formatted source of every file is
printed on standard output. A file that does not parse is reported and left
alone, and fmt exits with status 1.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o fmtOptions
		fs.BoolVar(&o.list, "l", false, "list files whose formatting differs from knhk fmt's")
		fs.BoolVar(&o.diff, "d", false, "print a unified diff of the changes instead of the formatted source")
		fs.BoolVar(&o.write, "w", false, "write the formatted source back to each file (atomically, keeping its mode)")
		fs.BoolVar(&o.check, "check", false, "list files that are not formatted and exit with status 1 if there are any")
		return func(e *env, args []string) int { return runFmt(e, &o, args) }
	},
}

type fmtOptions struct {
	list, diff, write, check bool
}

// fmtRun is the state of one "knhk fmt".
type fmtRun struct {
	e           *env
	o           *fmtOptions
	failed      bool // some input could not be read, parsed or written
	unformatted int  // inputs whose formatting differs
}

func runFmt(e *env, o *fmtOptions, args []string) int {
	r := &fmtRun{e: e, o: o}
	if len(args) == 0 {
		args = []string{"-"}
	}
	for _, a := range args {
		if a == "-" && o.write {
			return usageError(e, "cannot use -w with standard input")
		}
	}
	for _, a := range args {
		if a == "-" {
			src, err := readLimited(e.stdin, stdinName)
			if err != nil {
				r.errorf("%v", err)
				continue
			}
			r.file(stdinName, src, 0)
			continue
		}
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			r.walk(a)
		} else {
			r.path(a) // reports a missing file as "open a: ..."
		}
	}
	if o.check && r.unformatted > 0 {
		fmt.Fprintf(e.stderr, "knhk fmt: %d %s not formatted; run knhk fmt -w to format\n", r.unformatted, plural(r.unformatted, "file is", "files are"))
		r.failed = true
	}
	if r.failed {
		return exitUser
	}
	return exitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (r *fmtRun) errorf(format string, args ...any) {
	fmt.Fprintf(r.e.stderr, "knhk: "+format+"\n", args...)
	r.failed = true
}

// walk formats every *.knhk file under dir. Symbolic links inside dir
// are not followed; dir itself may be one.
func (r *fmtRun) walk(dir string) {
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		dir += string(filepath.Separator) // makes WalkDir enter the link's target
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			r.errorf("%v", err)
			return nil // keep going; an unreadable directory is skipped
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".knhk") {
			r.path(p)
		}
		return nil
	})
	if err != nil {
		r.errorf("%v", err)
	}
}

// path formats the file at p.
func (r *fmtRun) path(p string) {
	src, err := readSource(p)
	if err != nil {
		r.errorf("%v", err)
		return
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(p); err == nil {
		mode = fi.Mode()
	}
	r.file(p, src, mode)
}

// file formats src, read from name, and acts on the result as the flags
// ask. mode is the file's mode, zero for standard input.
func (r *fmtRun) file(name string, src []byte, mode fs.FileMode) {
	out, diags := format.Bytes(name, src)
	if diags.HasErrors() {
		printDiagnostics(r.e, diags)
		r.failed = true
		return
	}
	o := r.o
	changed := !bytes.Equal(src, out)
	if changed {
		r.unformatted++
		if o.list || o.check {
			fmt.Fprintln(r.e.stdout, name)
		}
		if o.write {
			if err := writeAtomic(name, out, mode); err != nil {
				r.errorf("%v", err)
				return
			}
		}
		if o.diff {
			fmt.Fprintf(r.e.stdout, "diff %s.orig %s\n", name, name)
			r.e.stdout.Write([]byte(unifiedDiff(name+".orig", name, src, out)))
		}
	}
	if !o.list && !o.diff && !o.write && !o.check {
		r.e.stdout.Write(out)
	}
}

// writeAtomic replaces the file at path with data: it writes a temporary
// file in the same directory and renames it over the original, so that a
// crash leaves either the old or the new content, never a mixture. The
// file keeps its permission bits. A symbolic link is followed, and its
// target rewritten, so that the link survives.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(target, data, mode.Perm())
}
