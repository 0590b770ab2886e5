// Package export writes the event logs of KNHK cases in the formats that
// process-mining tools read: XES (IEEE 1849-2016) and CSV.
//
// A [Log] holds one [Trace] per case and, in each, one [Event] per step
// that a process-mining tool would call an activity: a task starting and
// completing, a signal arriving, a timer firing. The model is small on
// purpose: concept:name, lifecycle:transition, time:timestamp and
// org:resource per event, and string attributes per trace. That is what
// the standard extensions (Concept, Lifecycle, Time, Organizational)
// declare and what tools such as ProM, PM4Py and Disco key on.
//
// [ReadXES] and [ReadCSV] read the same model back. ReadXES accepts any
// XES log, not just ours: unknown attributes are kept on the trace or
// ignored on events, nested attributes are skipped, so it also reads the
// logs other tools write.
package export
