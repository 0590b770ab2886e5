package view_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

var (
	taskDecl  = regexp.MustCompile(`(?m)^task (\w+)\(`)
	onSignal  = regexp.MustCompile(`(?m)^\s*on signal (\w+)`)
	onTimer   = regexp.MustCompile(`(?m)^\s*on timer (.+?)\s*->`)
	joinWord  = regexp.MustCompile(`\bjoin (all|any|\d+)\b`)
	hookLine  = regexp.MustCompile(`(?m)^\s*hook\b`)
	lineComm  = regexp.MustCompile(`//.*`)
	importDir = regexp.MustCompile(`(?m)^import "[^"]+" as (\w+)`)
)

// TestShippedProgramsSourceNames reads the source of every shipped
// program and checks, at the line where the source writes it, that the
// view has a node for each call of a task (a hook's single-call action
// aside, which runs beside the net), each signal arm and timer arm of a
// select with the signal's name or the duration as written, and each
// join written with a rule.
func TestShippedProgramsSourceNames(t *testing.T) {
	for _, path := range shipped(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			pkg, info, diags := check.Load(path, nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			prog, ds := compiler.Lower(pkg, info)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			files := compiler.SourceFiles(pkg, prog)
			_, gs := build(t, path)
			// have holds "kind name@file:line" of every node.
			have := map[string]bool{}
			for _, g := range gs {
				for _, nd := range g.Nodes {
					if f := files[nd.Loc.File]; f != nil && nd.Loc.Known() {
						have[fmt.Sprintf("%s %s@%d:%d", nd.Kind, nd.Name, nd.Loc.File, f.Position(nd.Loc.Span.Start).Line)] = true
					}
				}
			}
			for fi, f := range files {
				if fi != 0 {
					continue // imported files are checked as programs of their own
				}
				src := string(f.Content)
				var tasks []string
				for _, m := range taskDecl.FindAllStringSubmatch(src, -1) {
					tasks = append(tasks, m[1])
				}
				for _, m := range importDir.FindAllStringSubmatch(src, -1) {
					for _, tk := range prog.Tasks {
						if strings.HasPrefix(tk.Name, m[1]+".") {
							tasks = append(tasks, tk.Name)
						}
					}
				}
				lines := strings.Split(src, "\n")
				inWorkflow := false
				for i, raw := range lines {
					ln := lineComm.ReplaceAllString(raw, "")
					if strings.HasPrefix(ln, "workflow ") {
						inWorkflow = true
					} else if strings.HasPrefix(ln, "}") {
						inWorkflow = false
					}
					if !inWorkflow || hookLine.MatchString(ln) {
						continue
					}
					at := fmt.Sprintf("@%d:%d", fi, i+1)
					for _, tk := range tasks {
						if regexp.MustCompile(`(^|[^\w.])`+regexp.QuoteMeta(tk)+`\(`).MatchString(ln) && !have["task "+tk+at] {
							t.Errorf("line %d calls task %s; no task node %q there", i+1, tk, tk)
						}
					}
					if m := onSignal.FindStringSubmatch(ln); m != nil && !have["wait "+m[1]+at] {
						t.Errorf("line %d waits for signal %s; no wait node there", i+1, m[1])
					}
					if m := onTimer.FindStringSubmatch(ln); m != nil && !have["timer "+m[1]+at] {
						t.Errorf("line %d has a timer %s; no timer node %q there", i+1, m[1], m[1])
					}
					if joinWord.MatchString(ln) && !hasJoinNear(gs, files, fi, i+1) {
						t.Errorf("line %d writes a join; no join node in the view", i+1)
					}
				}
			}
		})
	}
}

// hasJoinNear reports whether some view has a join node; a join written
// after a parallel block's closing brace belongs to the block, whose
// line the node carries, so any join node of the file at or before the
// line counts.
func hasJoinNear(gs []*view.Graph, files map[int32]*source.File, file int32, line int) bool {
	for _, g := range gs {
		for _, nd := range g.Nodes {
			isJoin := nd.Kind == view.Join || nd.Kind == view.Task && strings.Contains(nd.Detail, "join ")
			if isJoin && nd.Loc.File == file && files[file] != nil && files[file].Position(nd.Loc.Span.Start).Line <= line {
				return true
			}
		}
	}
	return false
}
