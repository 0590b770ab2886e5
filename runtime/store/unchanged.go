// This file spares a commit the re-reading of HEAD and the mark when no
// other writer touched the directory since this Store's last commit.

package store

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// unchanged reports whether the directory is as s last left it: HEAD is
// the same file, the active segment holds at least its acknowledged size
// with nothing but preallocated zeros after it, and its newer mark slot
// holds s's mark, generation included. Every other writer's commit bumps
// the generation (and grows the segment), a rotation needs such a commit
// first and then replaces HEAD, and a dead writer's tail starts with a
// non-zero frame header at the mark (see cleanSlack), so any of them
// sends catchUp down its full path. It costs a stat and two preads
// instead of opening and reading HEAD and reading the mark with fresh
// buffers. The caller holds the directory's lock, so nothing changes
// while it looks. It also returns HEAD's stat when it took one, for
// catchUp to note instead of taking another; nil when it took none or
// that failed.
func (s *Store) unchanged() (fs.FileInfo, bool) {
	if s.alwaysCatchUp || s.headInfo == nil {
		return nil, false
	}
	hi, err := os.Stat(s.headPath)
	if err != nil {
		return nil, false
	}
	if !sameHead(hi, s.headInfo) {
		return hi, false
	}
	s.mu.Lock()
	m := s.mark
	s.mu.Unlock()
	// One read from the last acknowledged byte on, instead of an fstat:
	// getting that byte shows the segment still holds all it
	// acknowledged, and what follows it is nothing, preallocated zeros
	// or the start of a dead writer's frame. An fstat before the write
	// made each commit into preallocated space cost as much as an
	// append (measured on Linux 6.18, ext4): most likely because a
	// stat marks the timestamps as seen, so that with multigrain
	// timestamps the next write updates them, and fdatasync then
	// commits the inode too.
	p := s.slackBuf[:]
	n, err := s.active.ReadAt(p, m.size-1)
	if (err != nil && !errors.Is(err, io.EOF)) || n == 0 || !allZero(p[1:n]) {
		return hi, false
	}
	b := s.markBuf[:]
	if n, err := s.active.ReadAt(b, markSlot0); err != nil || n != len(b) {
		return hi, false
	}
	cur, valid := newerMark(b, markSlot0)
	return hi, valid > 0 && cur == m
}

// sameHead reports whether a and b describe the same HEAD file: HEAD is
// only ever replaced by rename, which gives it a new inode, and its
// modification time and size are compared too in case an inode number
// is reused.
func sameHead(a, b fs.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// noteHead records HEAD's identity as catchUp or recovery read it (stat
// taken before the read, so a change in between only costs one more full
// catch-up); nil makes the next commit read HEAD again.
func (s *Store) noteHead(fi fs.FileInfo) { s.headInfo = fi }
