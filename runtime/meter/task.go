// This file implements task time: when each call attempt started and
// ended, read from the events alone, without the program.

package meter

import "github.com/knhk/knhk/runtime/engine"

// task follows the invocations of case id through ev and adds the time
// of an attempt that ev ends to the month's task time.
//
// The engine numbers a case's invocations in the order they are made,
// and the events that make them are the fire of a task, kernel or route
// call and a hook whose action starts (both carry Attempts); an attempt
// starts there or at the retry event that readies it. A compensation's
// invocation is made by no event of its own: the engine starts it when
// the case's previous event settles, so that event's time is its start.
func (c *counter) task(id string, ev *engine.Event) {
	invs := c.started[id]
	if invs == nil {
		invs = map[int32]int64{}
		c.started[id] = invs
	}
	last := invs[lastKey]
	invs[lastKey] = ev.Time
	switch ev.Kind {
	case engine.EvFire:
		if ev.Attempts > 0 {
			invs[c.calls[id]] = ev.Time
			c.calls[id]++
		}
	case engine.EvHook:
		if ev.Choice == 1 && ev.Attempts > 0 {
			invs[c.calls[id]] = ev.Time
			c.calls[id]++
		}
	case engine.EvRetry:
		invs[ev.Inv] = ev.Time
	case engine.EvDone, engine.EvFailed:
		start, ok := invs[ev.Inv]
		if !ok {
			start = last // a compensation (see above)
			if ev.Inv >= c.calls[id] {
				c.calls[id] = ev.Inv + 1
			}
		}
		if Month(ev.Time) == c.u.Month && ev.Time > start && start != 0 {
			c.u.TaskTimeNS += ev.Time - start
		}
		if ev.Kind == engine.EvDone {
			delete(invs, ev.Inv)
		} else {
			invs[ev.Inv] = ev.Time // until a retry readies the next attempt
		}
	}
}

// lastKey holds, among a case's invocation starts, the time of its
// previous event: invocation ids are never negative.
const lastKey = -1
