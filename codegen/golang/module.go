// This file implements the go.mod of a module that builds generated
// packages against a knhk source tree, offline.

package golang

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KnhkModule is the module path of knhk, which generated code imports.
const KnhkModule = "github.com/knhk/knhk"

// Module returns the go.mod of module name that requires knhk from the
// source tree at root (through a replace directive) and every module
// knhk's own go.mod requires, at the same versions, so that the build
// needs nothing beyond the module cache that built knhk. root's go.sum
// is the sum file to use with it.
func Module(name, root string) ([]byte, error) {
	// The replace directive is read against the directory of the go.mod
	// written, not against the caller's working directory.
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	src, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("knhk source at %s: %w", root, err)
	}
	goVersion := ""
	var reqs []string
	inReq := false
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if i := strings.Index(l, "//"); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		switch {
		case inReq && l == ")":
			inReq = false
		case inReq && l != "":
			reqs = append(reqs, l)
		case l == "require (":
			inReq = true
		case strings.HasPrefix(l, "require "):
			reqs = append(reqs, strings.TrimSpace(strings.TrimPrefix(l, "require ")))
		case strings.HasPrefix(l, "go "):
			goVersion = strings.TrimSpace(strings.TrimPrefix(l, "go "))
		case strings.HasPrefix(l, "module ") && strings.TrimSpace(strings.TrimPrefix(l, "module ")) != KnhkModule:
			return nil, fmt.Errorf("%s is not the knhk module", filepath.Join(root, "go.mod"))
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\n", name)
	if goVersion != "" {
		fmt.Fprintf(&b, "go %s\n\n", goVersion)
	}
	fmt.Fprintf(&b, "require %s v0.0.0-00010101000000-000000000000\n\n", KnhkModule)
	if len(reqs) > 0 {
		b.WriteString("require (\n")
		for _, r := range reqs {
			fmt.Fprintf(&b, "\t%s // indirect\n", r)
		}
		b.WriteString(")\n\n")
	}
	fmt.Fprintf(&b, "replace %s => %s\n", KnhkModule, root)
	return b.Bytes(), nil
}
