// This file implements the mode of a binary made by knhk build: the
// program it carries, its compiled evaluator and the commands it offers.
// In knhk itself app is nil and nothing here changes behaviour.

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
)

// builtinApp is the program compiled into a binary by knhk build.
type builtinApp struct {
	name   string // the binary's name, for messages
	source string // the .knhk file it was built from
	prog   *ir.Program
	hash   string
	files  map[int32]*source.File
	eval   *host.Compiled
}

// app is set once, before main runs, by the init of the file knhk build
// adds to this package (see appMain in build.go); it is never changed
// afterwards.
var app *builtinApp

// appCommands are the commands a built binary offers.
var appCommands = map[string]bool{"run": true, "signal": true, "resume": true, "query": true, "cases": true, "history": true, "export": true, "receipts": true, "version": true}

// registerApp installs the compiled program: called from an init
// function, so a broken embedded program is a panic at start-up, a bug
// in knhk build.
func registerApp(src string, desc []byte, srcs map[int32][2]string, evaluator func(*ir.Program) (*host.Compiled, error)) {
	p, err := ir.Decode(desc)
	if err != nil {
		panic(fmt.Sprintf("knhk build: embedded program: %v", err))
	}
	ev, err := evaluator(p)
	if err != nil {
		panic(fmt.Sprintf("knhk build: compiled evaluator: %v", err))
	}
	ev.Kernels = kernelRunner() // KNHK_DEVICE, as knhk run
	hash, err := p.Hash()
	if err != nil {
		panic(fmt.Sprintf("knhk build: embedded program: %v", err))
	}
	files := map[int32]*source.File{}
	for i, s := range srcs {
		files[i] = source.NewFile(s[0], []byte(s[1]))
	}
	name := filepath.Base(os.Args[0])
	app = &builtinApp{name: name, source: src, prog: p, hash: hash, files: files, eval: ev}
	var keep []*command
	for _, c := range commands {
		if !appCommands[c.name] {
			continue
		}
		u := strings.Replace(c.usageLine, "knhk ", name+" ", 1)
		if c.name == "run" {
			u = strings.TrimSuffix(u, " FILE")
		}
		cc := *c
		cc.usageLine = u
		keep = append(keep, &cc)
	}
	commands = keep
}

// compiled is the binary's program in the form compileFile returns.
func (a *builtinApp) compiled() *compiled {
	return &compiled{path: a.source, prog: a.prog, files: a.files}
}

// appRunArgs gives run of a built binary its program: it takes no FILE.
func appRunArgs(e *env, args []string) ([]string, int) {
	if app == nil {
		return args, exitOK
	}
	if len(args) != 0 {
		return nil, usageError(e, "%s runs its own program %s; it takes no FILE", app.name, filepath.Base(app.source))
	}
	return []string{app.source}, exitOK
}

// evaluatorOf is the evaluator for cases of p: the interpreter in knhk,
// the compiled functions in a built binary (appProgram has checked that
// p is its program).
func evaluatorOf(p *ir.Program) engine.Evaluator {
	if app != nil {
		return app.eval
	}
	return &host.Evaluator{Kernels: kernelRunner()}
}

// appProgram reports a case that a built binary cannot run: one started
// from another program (or another version of it), whose expressions it
// has not compiled. knhk runs every case.
func appProgram(p *ir.Program) error {
	if app == nil || app.eval.Same(p) {
		return nil
	}
	h, _ := p.Hash()
	return fmt.Errorf("the case runs program %s (descriptor %s), not the one %s was built from (%s); use knhk, or the binary built from that program", p.Package, h, app.name, app.hash)
}
