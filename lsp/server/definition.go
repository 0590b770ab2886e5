// This file implements go-to-definition and find-references, across the
// files of the workspace and their imports.

package server

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
	"github.com/knhk/knhk/lsp/mapper"
)

// Definition jumps to the declaring name of the object under the cursor,
// or to the file an import path names.
func (srv *Server) Definition(ctx context.Context, params *protocol.DefinitionParams) (protocol.DefinitionResult, error) {
	s := srv.viewFor(ctx)
	a, off, ok := s.at(params.TextDocument.URI, params.Position)
	if !ok {
		return nil, nil
	}
	if loc, ok := s.importTarget(a, off); ok {
		return &loc, nil
	}
	n, ok := a.nameAt(off)
	if !ok {
		return nil, nil
	}
	o := a.objectOf(n)
	if o == nil {
		return nil, nil
	}
	loc, ok := s.objectLocation(o)
	if !ok {
		return nil, nil
	}
	return &loc, nil
}

// objectLocation is the location of an object's declaring name.
func (s *view) objectLocation(o check.Object) (protocol.Location, bool) {
	f := o.File()
	if f == nil {
		return protocol.Location{}, false // builtin
	}
	sp := o.Span()
	if sp.Start < 0 || int(sp.End) > len(f.Content) {
		return protocol.Location{}, false
	}
	r, err := mapper.ForFile(f, s.encoding()).Range(int(sp.Start), int(sp.End))
	if err != nil {
		return protocol.Location{}, false
	}
	return protocol.Location{URI: s.uriFor(f.Name), Range: r}, true
}

// importTarget returns the start of the file an import path at off names.
func (s *view) importTarget(a *analysis, off int) (protocol.Location, bool) {
	for _, imp := range a.file.Imports {
		if imp.Path == nil || !imp.Path.Span().Contains(source.Pos(off)) {
			continue
		}
		p, ok := imp.Path.Unquoted()
		if !ok || strings.HasPrefix(p, "std/") {
			return protocol.Location{}, false
		}
		target := filepath.Clean(filepath.Join(filepath.Dir(a.path), p))
		if _, err := s.readFile(target); err != nil {
			return protocol.Location{}, false
		}
		return protocol.Location{URI: s.uriFor(target)}, true
	}
	return protocol.Location{}, false
}

// References lists every occurrence of the object under the cursor in the
// open documents and the .knhk files of the workspace.
func (srv *Server) References(ctx context.Context, params *protocol.ReferenceParams) ([]protocol.Location, error) {
	s := srv.viewFor(ctx)
	a, off, ok := s.at(params.TextDocument.URI, params.Position)
	if !ok {
		return nil, nil
	}
	n, ok := a.nameAt(off)
	if !ok {
		return nil, nil
	}
	o := a.objectOf(n)
	if o == nil || o.File() == nil {
		return nil, nil
	}
	var out []protocol.Location
	for _, occ := range s.occurrences(ctx, a, o) {
		if occ.decl && !params.Context.IncludeDeclaration {
			continue
		}
		out = append(out, occ.loc)
	}
	return out, nil
}

// occurrence is one place an object is named.
type occurrence struct {
	path string
	span source.Span
	loc  protocol.Location
	decl bool
}

// occurrences finds every occurrence of o, sorted by file and offset.
func (s *view) occurrences(ctx context.Context, from *analysis, o check.Object) []occurrence {
	key := keyOf(o)
	return s.occurrencesOf(s.referrers(ctx, from, key.file), map[objKey]bool{key: true})
}

// referrers returns the analyses of the workspace files that can refer to
// what the file home declares: home itself and the files that import it.
func (s *view) referrers(ctx context.Context, from *analysis, home string) []*analysis {
	var out []*analysis
	for _, path := range s.workspaceFiles(from.path, home) {
		if ctx.Err() != nil {
			break
		}
		a := from
		if path != from.path {
			var err error
			if a, err = s.analyzeFile(path); err != nil {
				continue
			}
		}
		if a.path == home || a.imports(home) {
			out = append(out, a)
		}
	}
	return out
}

// occurrencesOf finds every occurrence of the objects in keys in the
// analyses, sorted by file and offset.
func (s *view) occurrencesOf(analyses []*analysis, keys map[objKey]bool) []occurrence {
	var out []occurrence
	for _, a := range analyses {
		uri := s.uriFor(a.path)
		for _, nn := range a.names() {
			other := a.objectOf(nn)
			if other == nil {
				continue
			}
			key := keyOf(other)
			if !keys[key] {
				continue
			}
			r, err := a.m.Range(int(nn.span.Start), int(nn.span.End))
			if err != nil {
				continue
			}
			_, isName := nn.node.(*syntax.Name)
			decl := isName && a.path == key.file && nn.span.Start == key.start
			out = append(out, occurrence{path: a.path, span: nn.span, loc: protocol.Location{URI: uri, Range: r}, decl: decl})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].span.Start < out[j].span.Start
	})
	return out
}

// imports reports whether a's file imports the file at path.
func (a *analysis) imports(path string) bool {
	_, ok := a.importOf(path)
	return ok
}

// maxWorkspaceFiles bounds the files a workspace-wide request reads.
const maxWorkspaceFiles = 2000

// maxWorkspaceEntries bounds the directory entries visited to find them,
// so that a workspace opened at a home directory stays responsive.
const maxWorkspaceEntries = 50000

// workspaceFiles lists the files a reference search visits: the given
// ones, every open document, and the .knhk files under the workspace
// folders and the directories of those files; each once, although an open
// document is usually under a workspace folder too.
func (s *view) workspaceFiles(paths ...string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		p = filepath.Clean(p)
		if p != "" && !seen[p] && len(out) < maxWorkspaceFiles {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		if p != "" {
			add(p)
		}
	}
	roots := append([]string(nil), s.roots...)
	for _, d := range s.docs {
		add(d.path)
	}
	for _, p := range paths {
		if filepath.IsAbs(p) {
			roots = append(roots, filepath.Dir(p))
		}
	}
	visited := 0
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if visited++; visited > maxWorkspaceEntries || len(out) >= maxWorkspaceFiles {
				return filepath.SkipAll
			}
			if err != nil {
				return filepath.SkipDir
			}
			if d.IsDir() {
				name := d.Name()
				if p != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(p, ".knhk") {
				if info, err := os.Stat(p); err == nil && info.Size() <= syntax.MaxFileSize {
					add(p)
				}
			}
			return nil
		})
	}
	return out
}
