// This file implements the meta log's preallocation: once a generation
// has had metaPreallocAfter commits, its file is kept written with zeros
// ahead of its records, so that a commit overwrites blocks the file
// system has already allocated and sized, and syncs them with
// fdatasync(2), which then commits no file system journal.
//
// Why: every start appends its metadata here, and an append to a
// growing file makes each sync a journal commit; the file system
// commits its journal one transaction at a time for every file on the
// disk, so one tenant's starts delayed the others' syncs (of their meta
// logs and audit records) on a server with tenants, and each start paid
// for the journal itself (runtime/store does the same for the event
// log: prealloc.go there).
//
// What a reader sees does not change: readMetas reads lines and skips
// any that is not a case's metadata, and a run of zeros after the last
// record (without a newline) is such a line, whether the server is
// running or died with its zeros in place. A record is written at the
// end of the records, so zeros are only ever after them. Rotating and
// closing cut the zeros off, so a generation at rest ends with its last
// record as before.

package server

import "github.com/knhk/knhk/internal/atomicfile"

// metaPreallocAfter is how many commits a generation has before it is
// prepared: a short-lived server (a test, a knhk serve stopped at once)
// writes no zeros.
const metaPreallocAfter = 32

// metaPreallocChunk is how far ahead the zeros are written: about a
// thousand starts of a couple of hundred bytes between two extensions,
// each a write of zeros and one fsync in the commit that runs past them.
const metaPreallocChunk = 256 << 10

// metaZeros is what an extension writes; it is never modified.
var metaZeros = make([]byte, metaPreallocChunk)

// write writes buf after the generation's records and syncs it: into the
// prepared zeros with fdatasync when they hold it, else growing the file
// (and, from metaPreallocAfter commits on, writing the next zeros after
// buf) with fsync. The caller holds l.commitMu.
//
// A failed write leaves l.size where it was, so the next batch is
// written over what it left, rather than after it and joined to a
// line it cut short.
func (l *metaLog) write(buf []byte) error {
	end := l.size + int64(len(buf))
	if _, err := l.f.WriteAt(buf, l.size); err != nil {
		return err
	}
	l.size = end
	l.commits++
	if end <= l.prepared {
		return atomicfile.SyncData(l.f)
	}
	if l.commits >= metaPreallocAfter && l.prepared >= 0 {
		if _, err := l.f.WriteAt(metaZeros, end); err == nil {
			l.prepared = end + metaPreallocChunk
		} else {
			// A full disk, say: whatever zeros it wrote are after the
			// records, and harmless; this generation grows its file
			// from now on, as before.
			l.prepared = -1
		}
	}
	return l.f.Sync()
}

// cutZeros cuts the prepared zeros off the generation's file, so that a
// generation at rest ends with its last record. A failure leaves them,
// which readers skip. The caller holds l.commitMu and l.mu.
func (l *metaLog) cutZeros() {
	if l.f != nil && l.prepared > l.size {
		_ = l.f.Truncate(l.size)
		l.prepared = l.size
	}
}
