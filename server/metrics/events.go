// This file implements the hook for committed events.

package metrics

import "github.com/knhk/knhk/runtime/engine"

// Event counts ev, an event the server's event log has just made
// durable. Events that recovery replays are not passed again, so the
// counters say what this process committed.
func (m *Metrics) Event(ev *engine.Event) {
	if k := int(ev.Kind); k > 0 && k < len(m.eventByKind) {
		m.eventByKind[k].Inc()
	} else {
		m.events.WithLabelValues(ev.Kind.String()).Inc()
	}
	if ev.Kind == engine.EvFire || ev.Kind == engine.EvTimer {
		m.transitions.Inc()
	}
}
