// Package server is the KNHK server core: one [Service] owns a data
// directory and runs every live case at once on the durable engine
// (runtime/engine over runtime/store). A case's events wait in memory
// until it next waits and go to the store as one batch, and the batches
// of all cases share the store's group commit; nothing leaves the
// server before the events behind it are durable (flush.go, gate.go).
// Cases that wait only for signals and timers are parked as data
// (park.go). knhk serve puts the
// Connect API of api/knhk/v1 in front of it ([NewHandler]); the handlers
// only translate, the Service decides (as gopls keeps its LSP handlers
// thin over its cache).
//
// # Data directory
//
// The Service writes the layout knhk run writes, so the CLI's read
// commands (cases, history, query, export) work on a server's directory:
// the event log, DIR/descriptors/HASH.ir and DIR/cases/ID.json (which
// here also records the start's request id and business key). It adds
// DIR/server/programs.json, the deployed programs, and
// DIR/server/index.jsonl, what recovery needs: for every case its
// workflow, program, keys, status and, once ended, its outcome, and for
// live cases where their records start and their latest snapshot is.
//
// # Start-up without a full replay
//
// The index says up to which sequence number of the log it is true.
// [Open] reads it and scans only the records after that point (their
// case ids and kinds, without decoding), so that ended cases cost one
// line of the index each and nothing of the log, and parked cases the
// same plus their next timer. Live cases, and cases the tail touches,
// are rebuilt from their latest snapshot, gathered by the same scan,
// started from the earliest position any of them needs, and run on. Without
// an index (a directory knhk run wrote, or a crash before the first one
// was written) Open scans the whole log once. The index is written on
// [Service.Close] and every Options.IndexEvery while serving.
//
// # Drain
//
// [Service.Close] stops accepting calls (they fail with CodeUnavailable),
// waits for the appends and task calls in flight, writes the index and
// closes the store. Cases waiting on timers or signals are simply picked
// up by the next Open, timers included.
package server
