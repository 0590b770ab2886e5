// This file implements the spare goroutines of a live run: a call's
// goroutine, once its outcome is handed over, waits for the run's next
// call instead of exiting, so that a case of calls in a row runs them
// on one goroutine. A new goroutine for each attempt grew its stack
// anew on the way down to the task (the attempt, the worker, encoding
// its arguments): with the goroutine's start, about a tenth of the CPU
// of bench/serve's queue benchmark.

package engine

// maxSpare bounds the goroutines a run keeps waiting for a call; more
// calls at once than that each start one, as before.
const maxSpare = 4

// goCall runs f on a spare goroutine of the run, or on a new one. It is
// called on the case's goroutine while the run lasts (never after
// r.stop is closed), which is what lets a spare goroutine leave at
// r.stop without losing a call.
func (r *liveRun) goCall(f func()) {
	select {
	case ch := <-r.spare:
		ch <- f // buffered: its goroutine takes it, at the latest when it leaves
	default:
		r.wg.Go(func() { r.serveCalls(f) })
	}
}

// serveCalls runs f, then the calls handed to it while it is spare,
// until the run stops or enough goroutines are spare.
func (r *liveRun) serveCalls(f func()) {
	ch := make(chan func(), 1)
	for {
		f()
		select {
		case r.spare <- ch:
		default:
			return
		}
		select {
		case f = <-ch:
		case <-r.stop:
			// A call handed over just before the run stopped runs (its
			// context is cancelled by now), as on a goroutine of its own.
			select {
			case f = <-ch:
				f()
			default:
			}
			return
		}
	}
}
