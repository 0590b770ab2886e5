// Package receipt keeps the tamper-evident receipt log of a data
// directory: one receipt per event a case commits, chained by hash and
// laid out as the leaves of an RFC 6962 Merkle tree
// (github.com/transparency-dev/merkle), with checkpoints (tree size and
// root) signed every N receipts or T milliseconds with the runtime's
// key, so that signing costs one signature per many transitions.
//
// A receipt names the case, the transition (event kind, frame and
// transition index), the descriptor hash of the program the case runs,
// and three digests: Input, a commitment to the case's state before the
// event; Event, the SHA-256 of the event's fields ([EventDigest], which
// an auditor recomputes from the event log's records); and
// Output = SHA-256(Input || Event), the commitment to the state after.
// A case's state is a deterministic function of its events (the engine's
// Apply needs nothing else), so the chain of Output digests commits to
// every state the case went through. Prev is the hash of the previous
// receipt of the whole log and Seq its position, so deleting, inserting
// or reordering receipts breaks the chain at the first receipt moved. A
// receipt's hash is the RFC 6962 leaf hash of its fields' binary
// encoding, so it is its Merkle leaf as it stands.
//
// The log sits above the engine: [Recorder.Wrap] decorates an
// engine.EventLog, recording a receipt after each successful Append.
// The engine knows nothing of it.
//
// On disk, under DIR/receipts: "log" holds one receipt per line (JSON),
// "checkpoints" one signed checkpoint per line, and "keys" the public
// keys that signed them. See docs/signing.md.
package receipt
