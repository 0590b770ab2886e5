// This file implements task declarations: bindings and the clauses (retry,
// backoff, timeout, undo) allowed on task declarations and task calls.

package check

import (
	"net/url"
	"strings"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func (c *checker) taskDecl(d *syntax.TaskDecl, cl *Callable) {
	if target, ok := c.binding(d.Binding); ok {
		c.stdBinding(d, cl.Signature(), target)
	}
	if len(d.Clauses) == 0 {
		return
	}
	c.enter(d, cl)
	defer c.leave()
	// undo may refer to the task's parameters and to its result.
	if res := cl.Signature().Result; res != TypVoid {
		c.scope.Insert(&Var{object: object{name: "result", kind: ObjVar, typ: res, file: c.file, span: cl.span, decl: d}})
	}
	c.body.kind = ObjTask
	c.clauses(d.Clauses, callTask)
}

// binding checks exec, http, std, queue and extern bindings. For a well-formed
// std binding it returns the target ("module.task"), whose signature
// stdBinding checks.
func (c *checker) binding(b *syntax.Binding) (std string, ok bool) {
	if b == nil {
		return "", false
	}
	switch b.Kind() {
	case "exec":
		for i, a := range b.Exec {
			v, ok := a.Unquoted()
			if !ok {
				c.errorf(a.Span(), source.BadLiteral, "malformed string literal %s", a.Value)
			} else if i == 0 && strings.TrimSpace(v) == "" {
				c.errorf(a.Span(), source.BadBinding, "exec needs a program to run")
			}
		}
	case "http":
		m := b.Method.Value
		ok := false
		for _, h := range httpMethods {
			ok = ok || h == m
		}
		if !ok {
			d := c.errorf(b.Method.Span(), source.BadBinding, "unknown HTTP method %s (use GET, POST, PUT, PATCH or DELETE)", m)
			up := strings.ToUpper(m)
			for _, h := range httpMethods {
				if h == up {
					d.Fixes = append(d.Fixes, source.Fix{Message: "did you mean `" + up + "`?", Span: b.Method.Span(), NewText: up})
				}
			}
		}
		if b.URL == nil {
			return "", false
		}
		v, ok := b.URL.Unquoted()
		if !ok {
			c.errorf(b.URL.Span(), source.BadLiteral, "malformed string literal %s", b.URL.Value)
			return "", false
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.errorf(b.URL.Span(), source.BadBinding, "http binding needs an absolute http:// or https:// URL, found %s", b.URL.Value)
		}
	case "std":
		v, ok := b.Std.Unquoted()
		if !ok {
			c.errorf(b.Std.Span(), source.BadLiteral, "malformed string literal %s", b.Std.Value)
			return "", false
		}
		mod, name, found := strings.Cut(v, ".")
		if !found || mod == "" || name == "" {
			c.errorf(b.Std.Span(), source.BadBinding, "std binding must name a module task, such as \"time.sleep\", found %s", b.Std.Value)
			return "", false
		}
		return v, true
	case "queue":
		c.queueBinding(b.Queue)
	case "extern":
		if b.Symbol != nil {
			if v, ok := b.Symbol.Unquoted(); !ok || v == "" {
				c.errorf(b.Symbol.Span(), source.BadBinding, "extern symbol must be a non-empty string")
			}
		}
	}
	return "", false
}

// clauses checks retry, backoff, timeout and undo. kind is what the
// statement called: clauses need a task (or workflow) call.
func (c *checker) clauses(cls []*syntax.Clause, kind callKind) {
	if len(cls) == 0 {
		return
	}
	if !kind.effect() {
		for _, cl := range cls {
			if cl != nil {
				c.errorf(cl.Span(), source.BadClause, "%s applies only to a task or workflow call", cl.Kind)
				break
			}
		}
	}
	var seen [4]*syntax.Clause
	for _, cl := range cls {
		if cl == nil {
			continue
		}
		slot := 0
		switch cl.Kind {
		case "retry":
			slot = 0
		case "backoff":
			slot = 1
		case "timeout":
			slot = 2
		case "undo":
			slot = 3
		}
		if prev := seen[slot]; prev != nil {
			c.errorf(cl.Span(), source.BadClause, "duplicate %s clause", cl.Kind)
		}
		seen[slot] = cl
		if cl.Value == nil {
			continue
		}
		switch cl.Kind {
		case "retry":
			t := c.value(cl.Value, TypInt)
			if isInvalid(t) {
				continue
			}
			if !isInteger(t) {
				c.errorf(cl.Value.Span(), source.BadClause, "retry needs an int count, found %s (type %s)", c.exprString(cl.Value), t)
			} else if n, ok := ConstInt(cl.Value); ok && n < 0 {
				c.errorf(cl.Value.Span(), source.BadClause, "retry count must be >= 0, found %d", n)
			}
		case "backoff", "timeout":
			t := c.value(cl.Value, TypDuration)
			if !isInvalid(t) && !isDuration(t) {
				c.errorf(cl.Value.Span(), source.BadClause, "%s needs a duration such as 5s, found %s (type %s)", cl.Kind, c.exprString(cl.Value), t)
			}
		case "undo":
			_, k := c.effectCall(cl.Value, nil)
			if k != callTask {
				if _, isCall := cl.Value.(*syntax.CallExpr); !isCall || k != callNone {
					c.errorf(cl.Value.Span(), source.BadClause, "undo must be a task call, such as undo refund(p)")
				}
			}
		}
	}
}

// maxQueueName bounds a queue name: it travels in every poll and in
// metric labels.
const maxQueueName = 128

// queueBinding checks the name of a queue binding: 1 to 128 letters,
// digits, '.', '_', '-' or '/', starting with a letter or digit, so that
// it is safe in a URL path, a metric label and a log line as it is.
func (c *checker) queueBinding(s *syntax.StringLit) {
	v, ok := s.Unquoted()
	if !ok {
		c.errorf(s.Span(), source.BadLiteral, "malformed string literal %s", s.Value)
		return
	}
	switch {
	case v == "":
		c.errorf(s.Span(), source.BadBinding, "queue binding needs a queue name, such as \"billing\"")
	case len(v) > maxQueueName:
		c.errorf(s.Span(), source.BadBinding, "queue name is %d bytes long; the limit is %d", len(v), maxQueueName)
	default:
		for i, r := range v {
			word := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
			if !word && (i == 0 || !strings.ContainsRune("._-/", r)) {
				c.errorf(s.Span(), source.BadBinding, "queue name %s may hold only letters, digits, '.', '_', '-' and '/', and must start with a letter or digit; found %q", s.Value, r)
				return
			}
		}
	}
}
