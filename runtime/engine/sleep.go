// This file implements std "time.sleep" as a durable timer: the engine
// does not hand the call to a worker that would block for its duration,
// and start over after a crash, but records when it started (its EvFire)
// and completes it at that time plus the duration, like a select's timer.

package engine

import "github.com/knhk/knhk/compiler/ir"

// sleepTarget is the std binding whose calls the engine runs itself.
const sleepTarget = "time.sleep"

// isSleep reports whether c calls a task bound to std "time.sleep".
func (m *Machine) isSleep(c *ir.Call) bool {
	t := m.task(c)
	return t != nil && t.Binding.Kind == ir.BindStd && t.Binding.Target == sleepTarget
}

// startSleep makes v, when it is a call of time.sleep started at now,
// wait until now plus its duration (none for a negative one) instead of
// being invoked. Since now is the time of the event that started the
// call, replaying the log after a crash gives the same due time: the
// sleep ends when it would have, not a whole duration after recovery.
func (m *Machine) startSleep(v *Inv, now int64) {
	if v == nil || !m.isSleep(v.Call) {
		return
	}
	d := int64(0)
	if len(v.Args) > 0 {
		if n, ok := duration(v.Args[0]); ok && n > 0 {
			d = n
		}
	}
	v.Waiting, v.Due = true, now+d
}

// sleeping reports whether v is a call of time.sleep waiting for its due
// time; when that comes it completes (EvDone) rather than retrying.
func (m *Machine) sleeping(v *Inv) bool {
	return v != nil && v.Waiting && !v.Comp && !v.Hook && m.isSleep(v.Call)
}
