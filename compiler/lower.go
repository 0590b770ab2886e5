// This file implements the entry point of the lowering: Lower, the
// lowerer's state, and the declarations of a package and its imports.

package compiler

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// Lower translates a checked package, and every package it imports, into
// one [ir.Program]. pkg and info must come from a check without errors.
//
// A construct the lowering does not handle yet is reported as a
// "lowering of X is not implemented yet" error at its span
// ([source.NotImplemented]); it is never dropped silently. When the
// diagnostics hold an error the program is incomplete and must not be
// run, verified or encoded.
func Lower(pkg *check.Package, info *check.Info) (*ir.Program, source.Diagnostics) {
	if pkg == nil || info == nil || pkg.File == nil || pkg.File.Source == nil {
		return ir.NewProgram(""), source.Diagnostics{{Severity: source.Error, Code: source.NotImplemented, Message: "nothing to lower: the package did not check"}}
	}
	l := &lowerer{
		prog:      ir.NewProgram(pkg.Name),
		info:      info,
		files:     map[*source.File]int32{},
		named:     map[*check.Named]ir.TypeID{},
		enums:     map[*check.Enum]ir.TypeID{},
		composite: map[check.Type]ir.TypeID{},
		funcs:     map[check.Object]ir.FuncID{},
		tasks:     map[check.Object]int32{},
		kernels:   map[check.Object]int32{},
		nets:      map[check.Object]int32{},
		seen:      map[*check.Package]bool{},
	}
	var order []*check.Package
	l.collect(pkg, &order)
	l.root = filepath.Dir(pkg.File.Source.Name)
	for _, p := range order {
		l.declare(p, p == pkg)
	}
	for _, body := range l.bodies {
		body()
	}
	return l.prog, l.diags
}

// lowerer holds the state of one Lower call. Declarations are numbered
// first (declare), so that calls can name any task, kernel, fn or
// workflow by index; their bodies are lowered afterwards.
type lowerer struct {
	prog  *ir.Program
	info  *check.Info
	diags source.Diagnostics
	files map[*source.File]int32

	named     map[*check.Named]ir.TypeID
	enums     map[*check.Enum]ir.TypeID
	composite map[check.Type]ir.TypeID

	funcs   map[check.Object]ir.FuncID
	tasks   map[check.Object]int32
	kernels map[check.Object]int32
	nets    map[check.Object]int32

	seen   map[*check.Package]bool
	bodies []func()
	root   string // the directory of the root file
}

// collect orders packages so that imports come before their importers.
func (l *lowerer) collect(p *check.Package, order *[]*check.Package) {
	if p == nil || l.seen[p] || p.File == nil {
		return
	}
	l.seen[p] = true
	for _, imp := range p.Imports {
		l.collect(imp, order)
	}
	*order = append(*order, p)
}

// fileIndex returns the index of p's file in Program.Files, adding it.
func (l *lowerer) fileIndex(p *check.Package) int32 {
	f := p.File.Source
	if i, ok := l.files[f]; ok {
		return i
	}
	i := int32(len(l.prog.Files))
	l.prog.Files = append(l.prog.Files, ir.File{Name: fileName(p, l.root), Size: int64(len(f.Content))})
	l.files[f] = i
	return i
}

// fileName is the name the program records for p's file: relative to the
// root file's directory, with forward slashes, so that the descriptor
// hash does not depend on the directory the compiler ran in or on how the
// file was named on the command line. A standard module keeps its
// "std/NAME" path.
func fileName(p *check.Package, root string) string {
	name := p.File.Source.Name
	if strings.HasPrefix(p.Path, "std/") {
		return name
	}
	if rel, err := filepath.Rel(root, name); err == nil {
		name = rel
	}
	return filepath.ToSlash(name)
}

// SourceFiles maps the file indices of prog, lowered from pkg, to the
// checked source files, for positions and source text.
func SourceFiles(pkg *check.Package, prog *ir.Program) map[int32]*source.File {
	out := map[int32]*source.File{}
	if pkg == nil || pkg.File == nil || pkg.File.Source == nil {
		return out
	}
	root := filepath.Dir(pkg.File.Source.Name)
	byName := map[string]*source.File{}
	seen := map[*check.Package]bool{}
	var walk func(p *check.Package)
	walk = func(p *check.Package) {
		if p == nil || seen[p] || p.File == nil || p.File.Source == nil {
			return
		}
		seen[p] = true
		byName[fileName(p, root)] = p.File.Source
		for _, imp := range p.Imports {
			walk(imp)
		}
	}
	walk(pkg)
	for i, f := range prog.Files {
		if sf := byName[f.Name]; sf != nil {
			out[int32(i)] = sf
		}
	}
	return out
}

// declare numbers the declarations of p and queues their bodies. Names
// from imported packages are qualified with the package name, the way the
// importer writes them.
func (l *lowerer) declare(p *check.Package, root bool) {
	file := p.File.Source
	fi := l.fileIndex(p)
	prefix := ""
	if !root {
		prefix = p.Name + "."
	}
	at := func(sp source.Span) ir.Loc { return ir.Loc{File: fi, Span: sp} }
	for _, d := range p.File.Decls {
		if d == nil || d.DeclName() == nil {
			continue
		}
		obj := l.info.Defs[d.DeclName()]
		if obj == nil {
			continue
		}
		name := prefix + d.DeclName().Value
		switch d := d.(type) {
		case *syntax.TypeDecl:
			// Types are lowered where they are used.
		case *syntax.FnDecl:
			id := ir.FuncID(len(l.prog.Funcs))
			l.prog.Funcs = append(l.prog.Funcs, nil)
			l.funcs[obj] = id
			l.bodies = append(l.bodies, func() { l.fnDecl(id, name, d, obj, file, fi) })
		case *syntax.TaskDecl:
			l.tasks[obj] = int32(len(l.prog.Tasks))
			t := &ir.Task{Name: name, Loc: at(d.Name.Span()), Retry: 0, Backoff: ir.NoFunc, Timeout: ir.NoFunc}
			l.prog.Tasks = append(l.prog.Tasks, t)
			l.bodies = append(l.bodies, func() { l.taskDecl(t, d, obj, file, fi) })
		case *syntax.KernelDecl:
			l.kernels[obj] = int32(len(l.prog.Kernels))
			k := &ir.Kernel{Name: name, Loc: at(d.Name.Span()), Body: ir.NoFunc}
			l.prog.Kernels = append(l.prog.Kernels, k)
			l.bodies = append(l.bodies, func() { l.kernelDecl(k, d, obj, file, fi) })
		case *syntax.WorkflowDecl:
			sig := signatureOf(obj)
			if sig == nil {
				continue
			}
			nb := l.prog.NewNet(name, l.typeOf(sig.Result), l.params(sig.Params)...)
			nb.N.Loc = at(d.Name.Span())
			for i, pa := range d.Params {
				if i < len(nb.N.Vars) && pa != nil && pa.Name != nil {
					nb.N.Vars[i].Loc = at(pa.Name.Span())
				}
			}
			l.nets[obj] = nb.Index
			l.bodies = append(l.bodies, func() { l.workflowDecl(nb, d, obj, file, fi) })
		default:
			l.errorf(file, d.Span(), "lowering of %T is not implemented yet", d)
		}
	}
}

// signatureOf returns the signature of a callable object, or nil.
func signatureOf(o check.Object) *check.Signature {
	if o == nil {
		return nil
	}
	s, _ := o.Type().(*check.Signature)
	return s
}

// params converts checked parameters.
func (l *lowerer) params(vs []*check.Var) []ir.Param {
	ps := make([]ir.Param, len(vs))
	for i, v := range vs {
		ps[i] = ir.Param{Name: v.Name(), Type: l.typeOf(v.Type())}
	}
	return ps
}

// errorf reports an error at sp in file.
func (l *lowerer) errorf(file *source.File, sp source.Span, format string, args ...any) {
	l.diags = append(l.diags, &source.Diagnostic{Severity: source.Error, Code: source.NotImplemented, File: file, Span: sp, Message: fmt.Sprintf(format, args...)})
}

// notImplemented reports a construct that the lowering does not handle.
func (l *lowerer) notImplemented(file *source.File, sp source.Span, what string) {
	l.errorf(file, sp, "lowering of %s is not implemented yet", what)
}
