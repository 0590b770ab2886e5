// This file names the XES attribute keys that the writers here and the
// reader in runtime/eventlog share, so that the two agree on one
// vocabulary.

package export

// Keys of the standard XES extensions that the [Log] model carries.
const (
	KeyName      = "concept:name"         // Concept: trace case id, event activity
	KeyLifecycle = "lifecycle:transition" // Lifecycle: Start or Complete
	KeyTimestamp = "time:timestamp"       // Time: the event's instant
	KeyResource  = "org:resource"         // Organizational: who or what did it
	XESNamespace = "http://www.xes-standard.org/"
	XESRootElem  = "log"
	XESTraceElem = "trace"
	XESEventElem = "event"
)
