// This file implements the rule that return does not appear in the body
// of a parallel for.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// returnInParallelFor reports a return inside the body of a parallel
// for. Each instance of the body runs as a net of its own, whose return
// would end only that instance: the case would go on after the loop and
// return something else, so the program would not do what it says.
// fail and cancel case do end the case from an instance; a result is
// collected in a variable (or with join any / join N) and returned after
// the loop.
func (c *checker) returnInParallelFor(s *syntax.ReturnStmt) {
	b := c.body
	if b == nil || b.kind != ObjWorkflow {
		return
	}
	for i := len(b.loops) - 1; i >= 0; i-- {
		if b.loops[i].parallel {
			c.errorf(s.Span(), source.MisplacedStatement, "return is not allowed in a parallel for: it would end one instance, not the workflow; assign the result to a var and return after the loop (fail and cancel case do end the case)")
			return
		}
	}
}
