// This file implements the reachable markings of a net, which the
// engine's differential test (runtime/engine, sounddiff_test.go) compares
// with the markings the engine reaches.

package sound

import "github.com/knhk/knhk/compiler/ir"

// Reachable explores n without the eager-firing reduction, so that every
// interleaving is stored, and returns every reachable marking: the token
// count of each place (at most the token bound). complete is false when
// the state cap or the token bound cut the exploration short.
func Reachable(n *ir.Net, opts *Options) (marks [][]byte, complete bool) {
	o := opts.withDefaults()
	o.NoReduce, o.AllOrders = true, false
	e, r := explore(n, o)
	for s := range e.parent {
		marks = append(marks, append([]byte(nil), e.marking(int32(s))...))
	}
	return marks, r.Complete
}
