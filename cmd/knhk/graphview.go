// This file implements the default drawing of "knhk graph": the
// user-level view of compiler/view.

package main

import (
	"strings"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/view"
)

// views returns the views of the nets with the given indices, with
// timers and branches labelled from the source.
func (c *compiled) views(nets []int) []*view.Graph {
	gs := make([]*view.Graph, 0, len(nets))
	for _, ni := range nets {
		gs = append(gs, view.Build(c.prog, ni, view.Options{Text: c.text}))
	}
	return gs
}

// viewDOT renders the views of the nets with the given indices.
func (c *compiled) viewDOT(nets []int) string {
	var sb strings.Builder
	view.DOT(&sb, c.views(nets), view.DOTOptions{Line: c.line}) // a strings.Builder does not fail
	return sb.String()
}

// text returns the source text at l, "" when unknown.
func (c *compiled) text(l ir.Loc) string {
	f := c.files[l.File]
	if f == nil || !l.Known() || l.Span.End <= l.Span.Start || int(l.Span.End) > len(f.Content) {
		return ""
	}
	return string(f.Content[l.Span.Start:l.Span.End])
}
