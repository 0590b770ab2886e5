// This file implements imports: std modules embedded in the binary and
// relative .knhk files read through Config.ReadFile, with cycle detection.

package check

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
	"github.com/knhk/knhk/stdlib"
)

// collectImports loads, checks and declares every import of f.
func (c *checker) collectImports(f *syntax.File) {
	for _, imp := range f.Imports {
		if imp == nil || imp.Path == nil {
			continue
		}
		c.importDecl(imp)
	}
}

func (c *checker) importDecl(imp *syntax.ImportDecl) {
	sp := imp.Path.Span()
	path, ok := imp.Path.Unquoted()
	if !ok {
		c.errorf(sp, source.BadLiteral, "malformed import path %s", imp.Path.Value)
		return
	}
	var key string
	var load func() ([]byte, error)
	switch {
	case strings.HasPrefix(path, stdlib.Prefix):
		src, ok := stdlib.Source(path)
		if !ok {
			d := c.errorf(sp, source.ImportNotFound, "no standard module %q (have %s)", path, strings.Join(stdlib.Modules(), ", "))
			if s := suggest(path, stdlib.Modules()); s != "" {
				d.Fixes = append(d.Fixes, source.Fix{Message: "did you mean `" + s + "`?", Span: sp, NewText: `"` + s + `"`})
			}
			return
		}
		key = path
		load = func() ([]byte, error) { return src, nil }
	case strings.HasPrefix(path, "./") || strings.HasPrefix(path, "../"):
		if !strings.HasSuffix(path, ".knhk") {
			c.errorf(sp, source.BadImport, "import path %q must name a .knhk file", path)
			return
		}
		key = filepath.Join(filepath.Dir(c.file.Name), filepath.FromSlash(path))
		load = func() ([]byte, error) { return c.ld.read(key) }
	default:
		c.errorf(sp, source.BadImport, "import path %q must be std/NAME or a relative path starting with ./ or ../", path)
		return
	}

	pkg, ok := c.loadPackage(key, sp, load)
	if !ok {
		// Declare the alias anyway, so that uses of it are not reported as
		// undefined: the import error is the only one.
		c.declareImport(imp, path, nil)
		return
	}
	c.pkg.Imports = append(c.pkg.Imports, pkg)
	c.declareImport(imp, path, pkg)
}

// loadPackage returns the checked package for key, checking it first if
// this load has not seen it yet.
func (c *checker) loadPackage(key string, sp source.Span, load func() ([]byte, error)) (*Package, bool) {
	ld := c.ld
	for i, k := range ld.stack {
		if k == key {
			cycle := append(append([]string(nil), ld.stack[i:]...), key)
			c.errorf(sp, source.ImportCycle, "import cycle not allowed: %s", strings.Join(cycle, " -> "))
			return nil, false
		}
	}
	if pkg := ld.pkgs[key]; pkg != nil {
		return pkg, true
	}
	src, err := load()
	if err != nil {
		msg := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			msg = "no such file"
		}
		c.errorf(sp, source.ImportNotFound, "cannot import %s: %s", key, msg)
		return nil, false
	}
	f, diags := syntax.Parse(key, src)
	for _, d := range diags {
		ld.report(d)
	}
	return ld.checkFile(f, key), true
}

// declareImport declares the import's name: its alias, or else the
// imported package's own name (for std modules, the last path element).
func (c *checker) declareImport(imp *syntax.ImportDecl, path string, pkg *Package) {
	name := ""
	switch {
	case imp.Alias != nil:
		name = imp.Alias.Value
	case pkg != nil && pkg.Name != "":
		name = pkg.Name
	case strings.HasPrefix(path, stdlib.Prefix):
		name = path[len(stdlib.Prefix):]
	case pkg == nil:
		// The file could not be loaded: guess the name from the file name,
		// so that uses of it are not reported as undefined as well.
		name = strings.TrimSuffix(filepath.Base(path), ".knhk")
	default:
		c.errorf(imp.Path.Span(), source.BadImport, "imported file has no package clause; name it with `as NAME`")
		return
	}
	o := &PkgName{object: object{name: name, kind: ObjPackage, file: c.file, span: imp.Path.Span(), decl: imp}, Pkg: pkg}
	if imp.Alias != nil {
		o.span = imp.Alias.Span()
	}
	if pkg == nil {
		o.used = true // the import error already says it all
	}
	c.imports = append(c.imports, o)
	c.declare(o, imp.Alias)
}

// unusedImports warns about imports that no expression or type refers to.
func (c *checker) unusedImports() {
	for _, o := range c.imports {
		if !o.used {
			imp := o.decl.(*syntax.ImportDecl)
			c.warnf(imp.Path.Span(), source.UnusedImport, "%s imported and not used", imp.Path.Value)
		}
	}
}
