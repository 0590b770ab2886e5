// This file implements cancel task: the running invocations of a task
// are withdrawn and their branches go on without them.

package engine

import "github.com/knhk/knhk/compiler/ir"

// skipTask withdraws every running invocation of task, in every frame of
// the case (a cancel task also reaches the instances of a parallel for,
// WCP 26), and lets each one's branch continue as if the call had
// completed without a result: the variable it would have set keeps its
// value. Without that, a join all after the cancelled call would wait
// forever for a branch that can no longer complete. A call whose outputs
// are guarded (a flow step whose arcs test its result) cannot be
// continued without the result, so its branch ends there.
func (m *Machine) skipTask(s *State, task int32) {
	var touched []*Frame
	out := s.Invs[:0]
	for _, v := range s.Invs {
		if v.Comp || v.Hook || v.Call == nil || v.Call.Kind != ir.CallTask || v.Call.Target != task {
			out = append(out, v)
			continue
		}
		f := s.frame(v.Frame)
		if f == nil || v.Trans < 0 || int(v.Trans) >= len(m.nets[f.Net].trans) {
			continue
		}
		if tr := &m.nets[f.Net].trans[v.Trans]; !tr.chooses {
			produce(f, tr, nil)
			touched = append(touched, f)
		}
	}
	clear(s.Invs[len(out):])
	s.Invs = out
	for _, f := range touched {
		if s.frame(f.ID) == f {
			m.settle(s, f)
		}
	}
}
