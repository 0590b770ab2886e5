// This file implements the durable record of case starts: the metadata
// of every case (workflow, program, request id, business key) appended
// to DIR/server/meta-GEN.log with one fsync per group of concurrent
// starts, instead of one file and two fsyncs per case. The server
// writes no DIR/cases/ID.json (knhk run's record of a case): creating a
// file per start was most of the server's system calls, and the CLI's
// read commands find a served case's start through ReadStarts.
//
// Each recovery index names the first generation it does not cover
// (indexHeader.MetaGen); writing an index starts a new generation unless
// the current one is still empty. Older generations are kept: they are
// the record of the starts an index holds when that index is lost or
// damaged and Open scans the whole log, as DIR/cases/ID.json was before
// (about 200 bytes a case, appended, against one file a case).

package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/knhk/knhk/internal/atomicfile"
)

// metaLog appends case metadata with group commit.
type metaLog struct {
	dir string // DIR/server

	// commitMu is held while a batch is written and synced, and by
	// rotate: l.f changes only under both it and mu.
	commitMu sync.Mutex
	mu       sync.Mutex
	gen      uint64
	f        *os.File
	pending  []*metaReq
	size     int64 // bytes written to generation gen
	// The generation's file holds zeros from size up to prepared, and
	// has had commits commits (metaprealloc.go).
	prepared int64
	commits  int
	busy     bool // a commit is running
	err      error
}

type metaReq struct {
	line []byte
	done chan error
}

func metaName(gen uint64) string { return fmt.Sprintf("meta-%020d.log", gen) }

// metaGens lists the generations in dir, in order.
func metaGens(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var gens []uint64
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), "meta-")
		if n, ok2 := strings.CutSuffix(n, ".log"); ok && ok2 {
			if g, err := strconv.ParseUint(n, 10, 64); err == nil {
				gens = append(gens, g)
			}
		}
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i] < gens[j] })
	return gens, nil
}

// readMetas reads the metadata of every generation from gen on; a
// generation removed since the listing is skipped. A torn
// last line (a crash during its write, never acknowledged) is ignored.
func readMetas(dir string, from uint64) (map[string]caseMeta, error) {
	gens, err := metaGens(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]caseMeta{}
	for _, g := range gens {
		if g < from {
			continue
		}
		f, err := os.Open(filepath.Join(dir, metaName(g)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing: an index holds its cases (ReadStarts)
		}
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m caseMeta
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Case != "" {
				out[m.Case] = m
			}
		}
		f.Close()
	}
	return out, nil
}

// openMetaLog starts a new generation after the existing ones.
func openMetaLog(dir string) (*metaLog, error) {
	gens, err := metaGens(dir)
	if err != nil {
		return nil, err
	}
	l := &metaLog{dir: dir}
	if len(gens) > 0 {
		l.gen = gens[len(gens)-1]
	}
	if err := l.startGen(); err != nil {
		return nil, err
	}
	return l, nil
}

// startGen opens generation gen+1. l.mu is held (or l is not shared yet).
func (l *metaLog) startGen() error {
	// Written at l.size (metaprealloc.go), not appended: the file may
	// hold zeros after its records. The generation is new (the Service
	// holds the directory's lock), so it starts empty.
	f, err := os.OpenFile(filepath.Join(l.dir, metaName(l.gen+1)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := atomicfile.SyncDir(l.dir); err != nil {
		f.Close()
		return err
	}
	if l.f != nil {
		l.cutZeros()
		l.f.Close()
	}
	l.f, l.gen, l.size, l.prepared, l.commits = f, l.gen+1, 0, 0, 0
	return nil
}

// append writes b, a caseMeta's JSON, and returns once it is synced,
// sharing the sync with every append that came in meanwhile.
func (l *metaLog) append(b []byte) error {
	r := &metaReq{line: append(b, '\n'), done: make(chan error, 1)}
	l.mu.Lock()
	l.pending = append(l.pending, r)
	if l.busy {
		l.mu.Unlock()
		return <-r.done
	}
	l.busy = true
	for len(l.pending) > 0 {
		batch := l.pending
		l.pending = nil
		l.mu.Unlock()
		var buf []byte
		for _, x := range batch {
			buf = append(buf, x.line...)
		}
		l.commitMu.Lock()
		err := l.write(buf)
		l.commitMu.Unlock()
		for _, x := range batch {
			x.done <- err
		}
		l.mu.Lock()
	}
	l.busy = false
	l.mu.Unlock()
	return <-r.done
}

// rotate starts a new generation, unless the current one is empty, and
// returns it: every append that returned before is in an older one.
func (l *metaLog) rotate() (uint64, error) {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size == 0 {
		return l.gen, nil // nothing to set apart: an idle server makes no files
	}
	if err := l.startGen(); err != nil {
		return 0, err
	}
	return l.gen, nil
}

func (l *metaLog) close() error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	l.cutZeros()
	err := l.f.Close()
	l.f = nil
	return err
}
