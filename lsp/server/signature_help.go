// This file implements signature help: the parameters of the call the
// cursor is in, with the current argument highlighted.

package server

import (
	"context"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// SignatureHelp scans back from the cursor to the unclosed "(" of the
// call, so it works while the call is still being typed and does not
// parse; the callee is resolved through the checker's scopes or the file's
// declarations.
func (srv *Server) SignatureHelp(ctx context.Context, params *protocol.SignatureHelpParams) (*protocol.SignatureHelp, error) {
	s := srv.viewFor(ctx)
	a, off, ok := s.at(params.TextDocument.URI, params.Position)
	if !ok {
		return nil, nil
	}
	lparen, arg, ok := openCall(a.content, off)
	if !ok {
		return nil, nil
	}
	end := lparen
	for end > 0 && (a.content[end-1] == ' ' || a.content[end-1] == '\t') {
		end--
	}
	start := end
	for start > 0 && isWordByte(a.content[start-1]) {
		start--
	}
	name := string(a.content[start:end])
	if name == "" {
		return nil, nil
	}
	qual := ""
	if start > 1 && a.content[start-1] == '.' {
		q := start - 1
		for q > 0 && isWordByte(a.content[q-1]) {
			q--
		}
		qual = string(a.content[q : start-1])
	}
	label, params2, ok := a.signature(source.Pos(start), qual, name)
	if !ok {
		return nil, nil
	}
	active := uint32(arg)
	if len(params2) > 0 && int(active) >= len(params2) {
		active = uint32(len(params2) - 1)
	}
	var zero uint32
	info := protocol.SignatureInformation{Label: label}
	for _, p := range params2 {
		info.Parameters = append(info.Parameters, protocol.ParameterInformation{Label: protocol.String(p)})
	}
	return &protocol.SignatureHelp{
		Signatures:      []protocol.SignatureInformation{info},
		ActiveSignature: &zero,
		ActiveParameter: protocol.NewNullable(active),
	}, nil
}

// openCall finds the "(" of the innermost call still open at off and the
// index of the argument the cursor is in.
func openCall(src []byte, off int) (lparen, arg int, ok bool) {
	depth := 0
	for i := off - 1; i >= 0; i-- {
		switch src[i] {
		case ')', ']', '}':
			depth++
		case '(', '[', '{':
			if depth == 0 {
				if src[i] != '(' {
					return 0, 0, false
				}
				return i, arg, true
			}
			depth--
		case ',':
			if depth == 0 {
				arg++
			}
		case '"':
			// Skip back over a string literal on this line.
			for i--; i >= 0 && src[i] != '"' && src[i] != '\n'; i-- {
			}
		case '\n':
			if depth == 0 && i > 0 && strings.HasSuffix(strings.TrimSpace(string(lineBefore(src, i))), "{") {
				return 0, 0, false
			}
		}
	}
	return 0, 0, false
}

func lineBefore(src []byte, nl int) []byte {
	start := nl
	for start > 0 && src[start-1] != '\n' {
		start--
	}
	return src[start:nl]
}

// signature returns the label and parameter labels of the callable name
// (qualified by an import alias when qual is set) visible at off.
func (a *analysis) signature(off source.Pos, qual, name string) (string, []string, bool) {
	var o check.Object
	if a.pkg != nil && a.pkg.Scope != nil {
		if qual == "" {
			o = a.pkg.Scope.Innermost(off).LookupParent(name)
		} else if pn, ok := a.pkg.Scope.Innermost(off).LookupParent(qual).(*check.PkgName); ok && pn.Pkg != nil && pn.Pkg.Scope != nil {
			o = pn.Pkg.Scope.Lookup(name)
		}
	}
	if qual != "" && o == nil {
		return "", nil, false // a field or an unknown package: no guessing
	}
	if c, ok := o.(*check.Callable); ok {
		if sig := c.Signature(); sig != nil {
			var ps []string
			for _, p := range sig.Params {
				ps = append(ps, p.Name()+": "+a.typeString(p.Type()))
			}
			return name + a.typeString(sig), ps, true
		}
	}
	// From the declaration's source.
	for _, d := range a.file.Decls {
		dn := d.DeclName()
		if dn == nil || dn.Value != name {
			continue
		}
		var params []*syntax.Param
		switch d := d.(type) {
		case *syntax.FnDecl:
			params = d.Params
		case *syntax.TaskDecl:
			params = d.Params
		case *syntax.KernelDecl:
			params = d.Params
		case *syntax.WorkflowDecl:
			params = d.Params
		default:
			return "", nil, false
		}
		var ps []string
		for _, p := range params {
			ps = append(ps, strings.Join(strings.Fields(text(a.content, p.Span())), " "))
		}
		h := header(a.file.Source, d)
		if i := strings.Index(h, " "); i >= 0 {
			h = h[i+1:] // drop the keyword: "reserve(items: [Item]) -> string"
		}
		return h, ps, true
	}
	return "", nil, false
}
