// This file implements the names of case variables in run-time errors.

package eval

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
)

// varName names variable index of the net that fn is scoped to, as the
// source does, for messages: a user knows `count`, not variable 3. A
// variable the program does not describe (a malformed function) is
// named by its index, marked as such.
func varName(p *ir.Program, fn *ir.Func, index int32) string {
	if p != nil && fn != nil && fn.Scope >= 0 && int(fn.Scope) < len(p.Nets) {
		if n := p.Nets[fn.Scope]; index >= 0 && int(index) < len(n.Vars) && n.Vars[index].Name != "" {
			return n.Vars[index].Name
		}
	}
	return "#" + strconv.Itoa(int(index))
}
