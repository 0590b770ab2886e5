// Package store is the durable event log under the KNHK engine: one data
// directory (default ./.knhk) holding an append-only, segmented log of
// [Record]s plus state snapshots.
//
// # Why a purpose-built log and not bbolt or pebble
//
// The engine's access pattern is an event log: appends at the tail from
// many concurrent cases, a sequential replay from the latest snapshot on
// start, and nothing else. A B+tree (bbolt) pays a copy-on-write page
// rewrite and a meta-page fsync per transaction and serialises writers, so
// group commit across cases has to be rebuilt on top of it anyway; an LSM
// (pebble) brings its own WAL, memtables, compactions and background
// goroutines to store keys we never look up. Both hide the one thing the
// issue asks us to control and report: which bytes were fsync'd together,
// and exactly which file and byte offset is damaged when the directory is
// corrupt. A segmented log with a CRC per record gives that control in a
// few hundred lines with no dependency.
//
// # On-disk layout
//
//	DIR/HEAD                          the acknowledged end of the log (two checksummed slots)
//	DIR/LOCK                          flock(2)-held by a writer for each commit
//	DIR/locks/<case>.lock             flock(2)-held by the process driving a case
//	DIR/<firstSeq:020d>.log           log segments, rotated at Options.SegmentBytes
//	DIR/snap-<seq:020d>.snap          the latest snapshot
//	DIR/repair.log                    what [Repair] changed, one line per change
//
// A segment starts with a 40-byte header (magic "KNHKLOG\n", version,
// first sequence number, and the first sequence number and final size of
// the previous segment, so that a truncated, extended or missing sealed
// segment is caught without reading it) protected by a CRC32C. Records
// follow as frames: a 4-byte body length, a 4-byte CRC32C over length and
// body, and the body (sequence number, case id, kind, payload).
//
// # Durability and HEAD
//
// [Store.Append] returns only after the record is fsync'd (fdatasync on
// Linux) and HEAD says so. One committer goroutine takes every append
// waiting in its queue, writes them with one write(2), covers them with
// one fsync, then writes HEAD (the last acknowledged sequence number, the
// active segment and its acknowledged size, and where the last record's
// frame is) into one of its two slots and fsyncs that (group commit: 64
// concurrent cases share these two fsyncs). When a batch comes out
// smaller than the previous one, the committer waits for the appenders it
// just woke, at most half the last commit's duration, so batches stay
// full instead of alternating between one record and the rest.
//
// HEAD is what makes loss detectable: a log whose end was cut, deleted
// or damaged looks like a shorter intact log, and only a durable record
// kept beside it, written after the records it covers, can tell the two
// apart. Bytes after HEAD's end belong to a commit that never returned and
// are dropped by the next writer; anything HEAD covers that is missing or
// damaged is a [*CorruptError].
//
// # Many processes, one directory
//
// Any number of processes may have a directory open at once. A writer
// ([Open]) holds DIR/LOCK only while it commits: it takes the lock, reads
// HEAD to learn what other writers committed (following their segment
// rotations), drops unacknowledged bytes a dead writer left, writes and
// syncs its batch and HEAD, and releases the lock. Waiting for the lock
// costs at most other writers' commits, never a case's run time, so a
// case sleeping on a timer or blocked on a hung task does not stop other
// processes. A case's events must come from one engine at a time, so the
// process that drives a case holds its case lock ([Store.LockCase]),
// which fails at once with [ErrCaseBusy] rather than waiting behind a
// sleeping run.
//
// A reader ([OpenReadOnly]) takes no lock and writes nothing, not even
// the lock file: it reads HEAD once and sees exactly the records
// acknowledged then. It works on a read-only copy and beside running
// writers, since writers only append after HEAD's end and never change
// what HEAD covers.
//
// Replay is [Store.Scan] or the [Store.Records] iterator from the record
// after [Store.LatestSnapshot]; [Store.WriteSnapshot] writes a snapshot
// atomically (temporary file, fsync, rename, directory fsync) and
// [Store.Compact] then removes the segments it covers. [Key] builds the
// idempotency key carried by at-least-once task invocations.
//
// # Corruption
//
// Open and OpenReadOnly read no record but the last acknowledged one: they
// verify every segment header, the chain between segments, the latest
// snapshot, and HEAD against the log (the active segment exists, holds at
// least the acknowledged bytes, and the last acknowledged record is whole
// where HEAD says). So deleting the last segment, cutting it anywhere in
// acknowledged data, or flipping a bit in its last record is refused with
// the file and byte offset, before anything is modified. Damage deeper in
// the log is reported, with its file and offset, by the first scan that
// reads it, and by [Check], which reads everything and modifies nothing
// (knhk fsck). [Repair] (knhk repair) is the only code that drops
// acknowledged records: it cuts the log back to its intact prefix, for an
// operator who accepts the loss, and logs every change to DIR/repair.log.
package store
