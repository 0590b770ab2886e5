// Package view turns a workflow net into what its author wrote: one node
// per task call, choice, parallel split, join, signal wait, timer, send,
// cancel and fail, named as in the source, with the bookkeeping the
// lowering adds (assignments, XOR merges, markers, the arrive/late/reset
// steps of a blocking join, the drain of a flow) collapsed into the edges
// between them.
//
// The raw net stays the truth: a [Graph] keeps, for every place and
// transition of its net, the nodes it stands for, so that a marking or a
// running invocation of the engine can be shown on the view ([Graph.Mark])
// and an event of a bookkeeping transition can be left out of a history
// ([Graph.Visible]). `knhk graph`, `knhk history` and the web console all
// draw from this one package, so the three agree on what a user sees.
package view
