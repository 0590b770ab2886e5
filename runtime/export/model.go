// This file implements the event-log model shared by the writers and
// readers.

package export

import "time"

// Lifecycle transitions of the XES Lifecycle extension (standard model).
const (
	Start    = "start"
	Complete = "complete"
)

// Log is an event log: one trace per case.
type Log struct {
	Traces []Trace
}

// Trace is the events of one case, in the order they happened.
type Trace struct {
	// Case is the case id, written as the trace's concept:name.
	Case string
	// Attrs are further string attributes of the trace (the workflow, the
	// descriptor hash), in the order they are written.
	Attrs  []Attr
	Events []Event
}

// Attr is one string attribute.
type Attr struct {
	Key, Value string
}

// Attr returns the value of the trace attribute key, "" when absent.
func (t *Trace) Attr(key string) string {
	for _, a := range t.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// Event is one step of a case.
type Event struct {
	Activity  string    // concept:name
	Lifecycle string    // lifecycle:transition: Start or Complete ("" when absent)
	Time      time.Time // time:timestamp
	Resource  string    // org:resource, "" when none
}
