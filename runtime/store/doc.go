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
//	DIR/HEAD                          names the active segment (rewritten atomically when one starts)
//	DIR/LOCK                          flock(2)-held by a writer for each commit
//	DIR/locks/<case>.lock             flock(2)-held by the process driving a case
//	DIR/<firstSeq:020d>.log           log segments, rotated at Options.SegmentBytes
//	DIR/snap-<seq:020d>.snap          the latest snapshot
//	DIR/repair.log                    what [Repair] changed, one line per change
//
// A segment starts with a 40-byte header (magic "KNHKLOG\n", version,
// first sequence number, and the first sequence number and final size of
// the previous segment, so that a truncated, extended or missing sealed
// segment is caught without reading it) protected by a CRC32C. Two
// 64-byte slots at offsets 512 and 1024 hold the segment's mark: the last
// acknowledged sequence number, the acknowledged size, and the offset of
// the last acknowledged record's frame, each slot with its generation and
// a CRC32C. Records follow from offset 1536 as frames: a 4-byte body
// length, a 4-byte CRC32C over length and body, and the body (sequence
// number, case id, kind, payload).
//
// # Durability: what was acknowledged
//
// [Store.Append] returns only after the record is fsync'd (fdatasync on
// Linux). One committer goroutine takes every append waiting in its
// queue, writes them with one write after the acknowledged end, writes
// the new mark into the slot its generation selects, and covers both
// with one fsync (group commit: 64 concurrent cases share it). When a
// batch comes out smaller than the previous one, the committer waits for
// the appenders it just woke, at most half the last commit's duration, so
// batches stay full instead of alternating between one record and the
// rest.
//
// The mark and HEAD are what make loss detectable: a log whose end was
// cut, deleted or damaged looks like a shorter intact log, and only a
// durable record of what was acknowledged tells the two apart. Bytes after
// the mark belong to a commit that never returned and are dropped by the
// next writer; anything the mark covers that is missing or damaged is a
// [*CorruptError]. A torn mark write leaves the other slot, one commit
// older. The mark and the frames it covers share one fsync, so after a
// power loss (not a process crash) during a commit the mark may have
// reached the disk before the frames: Open then reports the
// unacknowledged batch as lost and refuses to start. That false alarm is
// the safe side, and [Repair] clears it; the other order (frames without
// mark) is an unacknowledged tail and is dropped. HEAD changes only when
// a segment starts (the new segment is written first, then HEAD is
// replaced by rename), so the second fsync is paid once per segment, not
// per commit.
//
// The mark, not the file size, is where the active segment's records
// end, so the segment may be longer: once a Store has made 32 commits,
// a background goroutine keeps it written with zeros and synced up to
// [Options.PreallocBytes] past the mark (prealloc.go), so that a commit overwrites allocated blocks and
// its fdatasync flushes two pages of data instead of also committing the
// file system's journal for the grown file. A frame never starts with a
// zero length, so zeros after the mark are told from a dead writer's
// frames, which start at the mark; the next commit drops those as
// before, and Open and [Check] read all of the zeros (after a power
// loss a commit's later page may survive its first). Read-only opens
// never look past the mark. Sealing a segment, and closing the store,
// cut the zeros off, so a directory at rest looks as it would without
// them.
//
// # Many processes, one directory
//
// Any number of processes may have a directory open at once. A writer
// ([Open]) holds DIR/LOCK only while it commits: it takes the lock, reads
// HEAD and the active segment's mark to learn what other writers
// committed (following their segment rotations), drops unacknowledged
// bytes a dead writer left, writes and syncs its batch and mark, and
// releases the lock. (While HEAD is the same file and the segment and
// its mark are as the writer's own last commit left them, which a stat,
// an fstat and one read of the mark slots show, it skips re-reading
// them.) Waiting for the lock
// costs at most other writers' commits, never a case's run time, so a
// case sleeping on a timer or blocked on a hung task does not stop other
// processes. A case's events must come from one engine at a time, so the
// process that drives a case holds its case lock ([Store.LockCase]),
// which fails at once with [ErrCaseBusy] rather than waiting behind a
// sleeping run.
//
// A reader ([OpenReadOnly]) takes no lock and writes nothing, not even
// the lock file: it reads HEAD and the mark once and sees exactly the
// records acknowledged then. It works on a read-only copy and beside
// running writers, since writers only write after the acknowledged end
// and never change what a mark covers.
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
// snapshot, and the mark against the log (the segment HEAD names exists,
// holds at least the acknowledged bytes, and the last acknowledged record
// is whole where the mark says; no later segment holds records). So deleting the last segment, cutting it anywhere in
// acknowledged data, or flipping a bit in its last record is refused with
// the file and byte offset, before anything is modified. Damage deeper in
// the log is reported, with its file and offset, by the first scan that
// reads it, and by [Check], which reads everything and modifies nothing
// (knhk fsck). [Repair] (knhk repair) is the only code that drops
// acknowledged records: it cuts the log back to its intact prefix, for an
// operator who accepts the loss, and logs every change to DIR/repair.log.
package store
