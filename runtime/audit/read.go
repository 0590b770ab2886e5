// This file implements reading the audit log: its lines, and the chain
// check that both the appending Log and Verify apply.

package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Problem is the first thing wrong in an audit log: the record at Seq
// (the first one that cannot be trusted) and why.
type Problem struct {
	Seq    uint64
	Reason string
}

func (p *Problem) Error() string { return fmt.Sprintf("record %d: %s", p.Seq, p.Reason) }

// chain checks records in order: sequence numbers from next, each one's
// Prev the hash of the one before, each one's Hash its own.
type chain struct {
	next uint64
	prev Digest
}

func (c *chain) add(r *Record) error {
	switch {
	case r.Seq != c.next:
		return &Problem{Seq: c.next, Reason: fmt.Sprintf("sequence number %d where %d was expected: a record was removed, inserted or moved", r.Seq, c.next)}
	case r.Prev != c.prev:
		return &Problem{Seq: c.next, Reason: "its previous hash is not the hash of the record before it: a record before it was removed, inserted or rewritten"}
	case r.ComputeHash() != r.Hash:
		return &Problem{Seq: c.next, Reason: "its hash does not match its contents: it was changed"}
	}
	c.next, c.prev = r.Seq+1, r.Hash
	return nil
}

// scan calls fn with each record of r, whose first byte is at offset
// base of the file, and the offset after its line. It returns the offset
// after the last whole line and whether the text ends in a line cut
// short (no newline: a crash during an append). A line that does not
// decode is a Problem at the sequence number it should have had.
func scan(r io.Reader, base int64, fn func(rec *Record, end int64) error) (end int64, cut bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	end = base
	var seq uint64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: read the rest of it.
			full := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(full) <= maxLine {
				line, err = br.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
			if len(line) > maxLine {
				return end, false, &Problem{Seq: seq, Reason: fmt.Sprintf("its line is longer than %d bytes", maxLine)}
			}
		}
		if err == io.EOF {
			if len(line) > 0 {
				return end, true, nil
			}
			return end, false, nil
		}
		if err != nil {
			return end, false, err
		}
		rec, derr := decodeLine(bytes.TrimSuffix(line, []byte("\n")))
		if derr != nil {
			return end, false, &Problem{Seq: seq, Reason: derr.Error()}
		}
		end += int64(len(line))
		if err := fn(rec, end); err != nil {
			return end, false, err
		}
		seq = rec.Seq + 1
	}
}

// ReadAll returns the records of the audit log of data in order, after
// checking the chain; a damaged log returns the records before the
// damage and a *Problem. A line cut short at the end (a crash during an
// append, never acknowledged) is left out.
func ReadAll(data string) ([]*Record, error) {
	path := filepath.Join(data, Dir, LogFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("no audit log in %s: %w", data, unwrapPath(err))
	}
	defer f.Close()
	if err := checkHeader(f); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	if _, err := f.Seek(int64(len(header)), io.SeekStart); err != nil {
		return nil, err
	}
	var recs []*Record
	var c chain
	_, _, err = scan(f, int64(len(header)), func(r *Record, _ int64) error {
		if err := c.add(r); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
