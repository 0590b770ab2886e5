// Package discover finds a process model in an event log: the inductive
// miner (Leemans et al.), with the infrequent-behaviour filter of IMf,
// turns a log into a process tree; the tree prints as a .knhk workflow
// that passes knhk check and runs; token replay on the tree's Petri net
// scores the model against a log (fitness and ETC precision).
//
// With noise 0 the plain inductive miner runs step for step as pm4py
// 2.2.0's does (classic.go), the version that wrote the golden trees
// the package is checked against; it finds their trees, and pm4py
// 2.2.0's on every shared log. With noise above 0, IMf runs as below,
// after today's pm4py.
//
// The miner works on the directly-follows graph (DFG) of the log. At each
// step it looks for a cut of the activities (exclusive choice, sequence,
// parallel, loop), splits the log along it and recurses; where no cut
// exists it falls through (empty traces, an activity once per trace, an
// activity concurrent with the rest, tau loops, the flower model), so the
// tree always replays every trace (fitness 1 without noise filtering).
// With a noise threshold above 0, edges of the DFG rarer than that
// fraction of their source's most frequent outgoing edge are ignored when
// no cut is found on the whole graph, as IMf does.
//
// Trees compare up to the order of the children of the commutative
// operators ([Node.Canonical]), which is how a discovered tree is checked
// against the golden trees that pm4py writes as PTML ([ReadPTML]).
package discover
