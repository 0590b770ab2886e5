// This file implements the checker driver: the per-load state shared by a
// file and everything it imports, the per-file checker, and error
// reporting.

package check

import (
	"fmt"
	"os"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// Check checks an already-parsed file and its imports. Imported files are
// read through cfg.ReadFile, parsed and checked too; their diagnostics are
// included, and their nodes are recorded in the same [Info].
func Check(f *syntax.File, cfg *Config) (*Package, *Info, source.Diagnostics) {
	if cfg == nil {
		cfg = &Config{}
	}
	ld := newLoader(cfg)
	if f == nil {
		return &Package{}, ld.info, nil
	}
	if f.Source == nil {
		f.Source = source.NewFile("", nil)
	}
	ld.sizeInfo(len(f.Source.Content))
	pkg := ld.checkFile(f, f.Source.Name)
	ld.diags.Sort()
	return pkg, ld.info, ld.diags
}

// loader is the state of one Check call: the side tables, the diagnostics,
// the packages checked so far and the import stack for cycle detection.
type loader struct {
	cfg     *Config
	read    func(string) ([]byte, error)
	info    *Info
	diags   source.Diagnostics
	nerrors int
	full    bool // MaxErrors reached
	pkgs    map[string]*Package
	stack   []string
}

func newLoader(cfg *Config) *loader {
	read := cfg.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	return &loader{cfg: cfg, read: read, info: NewInfo(), pkgs: make(map[string]*Package)}
}

// sizeInfo presizes the side tables from the size of the main file, so
// that a large program does not rehash them again and again.
func (ld *loader) sizeInfo(n int) {
	if n < 64<<10 {
		return
	}
	ld.info.Types = make(map[syntax.Expr]Type, n/12)
	ld.info.Uses = make(map[*syntax.Ident]Object, n/24)
	ld.info.Defs = make(map[*syntax.Name]Object, n/64)
	ld.info.Scopes = make(map[source.Spanned]*Scope, n/128)
}

func (ld *loader) report(d *source.Diagnostic) {
	if ld.full {
		return
	}
	if d.Severity == source.Error {
		ld.nerrors++
		if ld.cfg.MaxErrors > 0 && ld.nerrors > ld.cfg.MaxErrors {
			ld.full = true
			return
		}
	}
	ld.diags = append(ld.diags, d)
}

// checker checks one file. Imported files get their own checker that
// shares the loader.
type checker struct {
	ld        *loader
	info      *Info
	file      *source.File
	pkg       *Package
	fileScope *Scope
	scope     *Scope // the current scope
	imports   []*PkgName
	body      *bodyCtx // the declaration whose body is being checked
	edges     map[*Callable][]callEdge
	order     []*Callable // fns, kernels and workflows in source order, for recursion

	// typeOperand asks selector to accept pkg.Type (for pkg.Type.member)
	// and to leave the type name in typeName.
	typeOperand bool
	typeName    *TypeName
}

// checkFile checks f, registered under key (its cleaned path or std path).
func (ld *loader) checkFile(f *syntax.File, key string) *Package {
	pkg := &Package{File: f, Path: key}
	if f.Package != nil && f.Package.Name != nil {
		pkg.Name = f.Package.Name.Value
	}
	ld.pkgs[key] = pkg
	ld.stack = append(ld.stack, key)
	defer func() { ld.stack = ld.stack[:len(ld.stack)-1] }()

	c := &checker{ld: ld, info: ld.info, file: f.Source, pkg: pkg}
	c.fileScope = &Scope{Parent: universe(), Span: f.Span()}
	c.scope = c.fileScope
	pkg.Scope = c.fileScope
	c.info.Scopes[f] = c.fileScope

	c.collectImports(f)
	c.collectDecls(f)
	c.resolveTypeDecls(f)
	c.resolveSignatures(f)
	c.checkBodies(f)
	c.checkRecursion()
	c.unusedImports()
	return pkg
}

// errorf reports an error at sp.
func (c *checker) errorf(sp source.Span, code source.Code, format string, args ...any) *source.Diagnostic {
	d := &source.Diagnostic{Severity: source.Error, Code: code, File: c.file, Span: sp, Message: sprintf(format, c.qualify(args))}
	c.ld.report(d)
	return d
}

// warnf reports a warning at sp.
func (c *checker) warnf(sp source.Span, code source.Code, format string, args ...any) *source.Diagnostic {
	d := &source.Diagnostic{Severity: source.Warning, Code: code, File: c.file, Span: sp, Message: sprintf(format, c.qualify(args))}
	c.ld.report(d)
	return d
}

// qualify replaces the types among args by their names as this file
// writes them (lib.Point for a type of an import), so that a message
// never reads "cannot use p (type Point) as Point".
func (c *checker) qualify(args []any) []any {
	var q Qualifier
	for i, a := range args {
		if t, ok := a.(Type); ok {
			if q == nil {
				q = RelativeTo(c.pkg)
			}
			args[i] = TypeString(t, q)
		}
	}
	return args
}

func sprintf(format string, args []any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// related adds a secondary location to d.
func (c *checker) related(d *source.Diagnostic, o Object, msg string) {
	if o == nil || o.File() == nil {
		return
	}
	d.Related = append(d.Related, source.Related{File: o.File(), Span: o.Span(), Message: msg})
}

// openScope opens a scope for node n under the current one.
func (c *checker) openScope(n source.Spanned) *Scope {
	s := NewScope(c.scope, n.Span())
	c.info.Scopes[n] = s
	c.scope = s
	return s
}

// declare inserts o into the current scope and records the definition;
// a name already declared in the same scope is reported with a pointer to
// the first declaration.
func (c *checker) declare(o Object, n *syntax.Name) bool {
	if n != nil {
		c.info.Defs[n] = o
	}
	if o.Name() == "_" || o.Name() == "" {
		return true
	}
	if prev := c.scope.Insert(o); prev != nil {
		if v, ok := o.(*Var); ok {
			v.used = true // one error is enough
		}
		d := c.errorf(o.Span(), source.DuplicateDecl, "%s redeclared in this scope", o.Name())
		c.related(d, prev, "other declaration of "+o.Name())
		return false
	}
	return true
}

// nameSpan is the span of a possibly missing name.
func nameSpan(n *syntax.Name, fallback source.Spanned) source.Span {
	if n != nil {
		return n.Span()
	}
	if fallback != nil {
		return fallback.Span()
	}
	return source.Span{}
}

// nameOf is the text of a possibly missing name.
func nameOf(n *syntax.Name) string {
	if n == nil {
		return ""
	}
	return n.Value
}
