// This file implements reading the receipt and checkpoint logs and
// checking the chain of receipts, which Open, Verify and Prove share.

package receipt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Problem is the first thing wrong with a receipt log. Seq is the first
// receipt that cannot be trusted; Checkpoint the 1-based checkpoint at
// fault, 0 when the receipts themselves are.
type Problem struct {
	Seq        uint64
	Checkpoint int
	Reason     string
	NoSeq      bool // the problem is in a checkpoint alone
}

func (p *Problem) Error() string {
	if p.NoSeq {
		return fmt.Sprintf("checkpoint %d: %s", p.Checkpoint, p.Reason)
	}
	if p.Checkpoint > 0 {
		return fmt.Sprintf("checkpoint %d: %s (first bad receipt: %d)", p.Checkpoint, p.Reason, p.Seq)
	}
	return fmt.Sprintf("receipt %d: %s", p.Seq, p.Reason)
}

// chain checks receipts in log order and keeps what the next one must
// match.
type chain struct {
	n        uint64
	prev     Digest
	cases    map[string]*caseChain
	leaves   [][]byte
	receipts []*Receipt // kept when keep is set (for proofs)
	keep     bool
}

func newChain(keep bool) *chain {
	return &chain{cases: map[string]*caseChain{}, keep: keep}
}

func (c *chain) add(r *Receipt) error {
	bad := func(format string, args ...any) error {
		return &Problem{Seq: c.n, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Seq != c.n:
		return bad("the entry there has sequence number %d: receipts were deleted, inserted or reordered", r.Seq)
	case r.ComputeHash() != r.Hash:
		return bad("its hash does not match its contents: the receipt was changed")
	case r.Prev != c.prev:
		return bad("its previous-receipt hash is not the hash of receipt %d: receipts were deleted, inserted or reordered", int64(c.n)-1)
	case r.Input != c.cases[r.Case].output():
		return bad("its input digest does not follow the previous receipt of case %s", r.Case)
	case r.Output != OutputOf(r.Input, r.Event):
		return bad("its output digest is not SHA-256(input || event)")
	}
	cc := c.cases[r.Case]
	if cc == nil {
		cc = &caseChain{}
		c.cases[r.Case] = cc
	}
	cc.out, cc.n = r.Output, cc.n+1
	c.prev = r.Hash
	c.leaves = append(c.leaves, leafHash(r.Hash))
	if c.keep {
		c.receipts = append(c.receipts, r)
	}
	c.n++
	return nil
}

// caseChain is where a case's receipts stand: the Output of its latest
// receipt and how many it has.
type caseChain struct {
	out Digest
	n   int
}

// output is the Input the case's next receipt must have: zeros before
// its first.
func (c *caseChain) output() Digest {
	if c == nil {
		return Digest{}
	}
	return c.out
}

// readLines calls fn with each complete line of path. A last line
// without its newline (a write cut by a crash) is not passed on: its
// byte offset is returned, -1 when there is none. A missing file has no
// lines.
func readLines(path string, fn func(line []byte) error) (cut int64, err error) {
	return readLinesFrom(path, 0, fn)
}

// readLinesFrom is readLines from byte offset from, which starts a line.
func readLinesFrom(path string, from int64, fn func(line []byte) error) (cut int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return -1, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	off := from
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// Longer than any valid line: read the rest and let fn
			// refuse it by its length.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				if len(long) < 1<<20 {
					long = append(long, line...)
				}
			}
			line = long
		}
		if err == io.EOF {
			if len(line) > 0 {
				return off, nil
			}
			return -1, nil
		}
		if err != nil {
			return -1, err
		}
		off += int64(len(line))
		if ferr := fn(bytes.TrimSuffix(line, []byte("\n"))); ferr != nil {
			return -1, ferr
		}
	}
}

// loadLog reads and checks the receipt log at path. With repair a cut
// last entry is truncated away (Open does that; the receipt it held was
// never covered by a checkpoint, because a checkpoint syncs the log
// first). The chain c, when not nil, is where the log stands at byte
// from (a tail state); the log is read from there.
func loadLog(path string, repair bool, c *chain, from int64) (*chain, int64, error) {
	if c == nil {
		c = newChain(false)
	}
	end := from
	cut, err := readReceipts(path, from, c.n, func(r *Receipt, off int64) error {
		end = off
		return c.add(r)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("receipt log %s is damaged: %w (knhk receipts verify reports it)", path, err)
	}
	if cut >= 0 && repair {
		if err := os.Truncate(path, cut); err != nil {
			return nil, 0, err
		}
		end = cut
	}
	return c, end, nil
}

// loadCheckpoints reads the checkpoint log at path, truncating a cut
// last line when repair is set.
func loadCheckpoints(path string, repair bool) ([]*Checkpoint, error) {
	return loadCheckpointsFrom(path, repair, 0, 0)
}

// loadCheckpointsFrom reads the checkpoints of path from byte offset
// from, the first of them checkpoint number before+1.
func loadCheckpointsFrom(path string, repair bool, from int64, before int) ([]*Checkpoint, error) {
	var cps []*Checkpoint
	cut, err := readLinesFrom(path, from, func(line []byte) error {
		cp, err := decodeCheckpoint(line)
		if err != nil {
			return &Problem{Checkpoint: before + len(cps) + 1, Reason: err.Error(), NoSeq: true}
		}
		cps = append(cps, cp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint log %s is damaged: %w", path, err)
	}
	if cut >= 0 && repair {
		if err := os.Truncate(path, cut); err != nil {
			return nil, err
		}
	}
	return cps, nil
}
