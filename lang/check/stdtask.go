// This file implements the check of std bindings against the standard
// library: `task t(...) -> R std "module.name"` must name a task that a
// std module declares with that binding, with the same parameter and
// result types, since the runtime implements exactly those signatures.

package check

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
	"github.com/knhk/knhk/stdlib"
)

// stdTask is a task a std module binds with `std "module.name"`.
type stdTask struct {
	decl *syntax.TaskDecl
	file *syntax.File
	text string // the declaration up to its binding, for messages
}

// stdTasks parses the std modules once and indexes their std-bound tasks
// by binding target. It is read-only after the first call.
var stdTasks = sync.OnceValue(func() map[string]stdTask {
	out := map[string]stdTask{}
	for _, path := range stdlib.Modules() {
		src, ok := stdlib.Source(path)
		if !ok {
			continue
		}
		f, _ := syntax.Parse(path, src)
		if f == nil {
			continue
		}
		for _, d := range f.Decls {
			td, ok := d.(*syntax.TaskDecl)
			if !ok || td.Binding == nil || td.Binding.Std == nil {
				continue
			}
			target, ok := td.Binding.Std.Unquoted()
			if !ok {
				continue
			}
			text := string(src[td.Span().Start:td.Binding.Span().Start])
			out[target] = stdTask{decl: td, file: f, text: strings.Join(strings.Fields(text), " ")}
		}
	}
	return out
})

// stdBinding checks the std binding of task d, whose checked signature is
// sig, against the standard library's declaration of its target.
func (c *checker) stdBinding(d *syntax.TaskDecl, sig *Signature, target string) {
	lit := d.Binding.Std
	want, ok := stdTasks()[target]
	if !ok {
		// Name the candidates: the module's tasks, or the modules.
		mod, _, _ := strings.Cut(target, ".")
		var names, mods []string
		for k := range stdTasks() {
			m, _, _ := strings.Cut(k, ".")
			if m == mod {
				names = append(names, k)
			} else if !slices.Contains(mods, m) {
				mods = append(mods, m)
			}
		}
		sort.Strings(names)
		sort.Strings(mods)
		var dg *source.Diagnostic
		if len(names) == 0 {
			dg = c.errorf(lit.Span(), source.BadBinding, "no standard task %q: no std module %s implements tasks (have %s)", target, mod, strings.Join(mods, ", "))
		} else {
			dg = c.errorf(lit.Span(), source.BadBinding, "no standard task %q (module %s has %s)", target, mod, strings.Join(names, ", "))
		}
		if s := suggest(target, names); s != "" {
			dg.Fixes = append(dg.Fixes, source.Fix{Message: "did you mean `\"" + s + "\"`?", Span: lit.Span(), NewText: `"` + s + `"`})
		}
		return
	}
	if sig == nil || hasInvalid(sig) {
		return // the type error is reported already
	}
	if !stdMatches(sig, want) {
		c.errorf(d.Name.Span(), source.BadBinding, "std %q is implemented as `%s`; declare %s with the same parameter and result types", target, want.text, d.Name.Value)
	}
}

// hasInvalid reports whether a parameter or the result of sig failed to
// check.
func hasInvalid(sig *Signature) bool {
	for _, p := range sig.Params {
		if isInvalid(p.Type()) {
			return true
		}
	}
	return sig.Result == TypInvalid
}

// stdMatches reports whether sig has the parameter and result types of
// the std declaration want (parameter names may differ).
func stdMatches(sig *Signature, want stdTask) bool {
	if len(sig.Params) != len(want.decl.Params) {
		return false
	}
	for i, p := range want.decl.Params {
		if p == nil || !typeMatches(sig.Params[i].Type(), p.Type, want.file, 0) {
			return false
		}
	}
	if want.decl.Result == nil {
		return sig.Result == nil || sig.Result == TypVoid
	}
	return typeMatches(sig.Result, want.decl.Result, want.file, 0)
}

// typeMatches reports whether t is the type that the type expression x of
// std module f denotes. Records are structural and type names are
// aliases, so a user's own record type with the same fields matches one
// the module declares.
func typeMatches(t Type, x *syntax.Type, f *syntax.File, depth int) bool {
	if t == nil || x == nil || depth > 32 {
		return false
	}
	t = Underlying(t)
	if x.Optional {
		o, ok := t.(*Optional)
		y := *x
		y.Optional = false
		return ok && typeMatches(o.Elem, &y, f, depth+1)
	}
	switch {
	case x.List != nil && x.List.Value != nil:
		m, ok := t.(*Map)
		return ok && typeMatches(m.Key, x.List.Elem, f, depth+1) && typeMatches(m.Elem, x.List.Value, f, depth+1)
	case x.List != nil:
		l, ok := t.(*List)
		return ok && typeMatches(l.Elem, x.List.Elem, f, depth+1)
	case x.Record != nil:
		r, ok := t.(*Record)
		if !ok || len(r.Fields) != len(x.Record.Fields) {
			return false
		}
		for _, p := range x.Record.Fields {
			if p == nil || p.Name == nil {
				return false
			}
			fd := r.Field(p.Name.Value)
			if fd == nil || !typeMatches(fd.Type, p.Type, f, depth+1) {
				return false
			}
		}
		return true
	case x.Named != nil && len(x.Named.Parts) == 1:
		name := x.Named.Parts[0].Value
		for _, d := range f.Decls {
			if td, ok := d.(*syntax.TypeDecl); ok && td.Name != nil && td.Name.Value == name {
				return typeMatches(t, td.Type, f, depth+1)
			}
		}
		b, ok := t.(*Basic)
		return ok && b.Name == name
	}
	return false
}
