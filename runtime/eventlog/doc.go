// Package eventlog reads event logs that other tools wrote, for the
// mining commands (discover, predict, anomaly detection): XES (IEEE
// 1849-2016, plain or gzip-compressed) and CSV with the column names
// process-mining tools use (case id, activity, timestamp, and optionally
// lifecycle and resource).
//
// It reads into the model of runtime/export ([export.Log]) and keys XES
// attributes on the same names ([export.KeyName] and its siblings), so
// a log that `knhk export` writes reads back unchanged and the mining
// code sees one shape whatever the source.
//
// XES is streamed: [XESReader] decodes one trace at a time and never
// holds the document, so a log of any size passes through in memory
// proportional to its largest trace. CSV rows of one case may be
// anywhere in the file, so [ReadCSV] holds the traces, but reads rows
// one at a time.
//
// Every error names where it happened: the line and column of the
// malformed XML element or the CSV line and column, in an [*Error].
// A log with no events is an error ([ErrEmpty]), since nothing
// downstream can learn from it.
package eventlog
