// This file implements the recovery index (DIR/server/index.jsonl) and
// Open's rebuilding of the cases from it and the log's tail; see doc.go.

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// indexHeader is the index's first line.
type indexHeader struct {
	Version int       `json:"version"`
	UpTo    store.Seq `json:"upto"` // every record up to here is reflected below
	// MetaGen is the first generation of the meta log whose starts the
	// index may not hold.
	MetaGen uint64 `json:"metagen"`
	// Programs are the hashes the case lines name by position.
	Programs []string `json:"programs"`
}

// indexVersion is the version of the index's format (indexcodec.go).
const indexVersion = 5

// indexLine is one case of the index.
type indexLine struct {
	Summary
	Pos casePos `json:"pos"`
	// Pending: the start was not acknowledged yet when the index was
	// written; Open keeps the case only if the log's tail has it.
	Pending bool `json:"pending,omitempty"`
	// Parked: the case was parked (park.go), with its next timer due
	// at Due (Unix nanoseconds, 0 for none); Open parks it again unless
	// the log's tail has records of it.
	Parked bool  `json:"parked,omitempty"`
	Due    int64 `json:"due,omitempty"`
}

func (s *Service) indexPath() string { return filepath.Join(s.dir, "server", "index.jsonl") }

// writeIndex writes the index atomically.
func (s *Service) writeIndex() error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	// Starts recorded before the rotation are of cases in s.list now.
	gen, err := s.metas.rotate()
	if err != nil {
		return fmt.Errorf("writing the index: %w", err)
	}
	// The sequence number is read before the summaries, so every record
	// after it is scanned again by the next Open.
	upto := s.st.LastSeq()
	s.mu.Lock()
	list := append([]*caseEntry(nil), s.list...)
	s.mu.Unlock()
	tmp := s.indexPath() + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	h := indexHeader{Version: indexVersion, UpTo: upto, MetaGen: gen}
	progs := map[string]int{}
	lines := make([]indexLine, 0, len(list))
	for _, e := range list {
		pending := false
		select {
		case <-e.startedC():
			if e.startError() != nil {
				continue
			}
		default:
			pending = true
		}
		l := indexLine{Pos: s.log.position(e.id), Pending: pending}
		e.mu.Lock()
		l.Summary = e.sum // Waiting is replaced, never changed in place: shared
		if pk := e.parked; pk != nil {
			l.Parked, l.Due = true, pk.due
		}
		e.mu.Unlock()
		s.sealSummary(&l.Summary) // erase.go
		if _, ok := progs[l.Program]; !ok {
			progs[l.Program] = len(h.Programs)
			h.Programs = append(h.Programs, l.Program)
		}
		lines = append(lines, l)
	}
	hb, err := json.Marshal(h)
	if err == nil {
		_, err = w.Write(append(hb, '\n'))
	}
	var buf []byte
	for i := range lines {
		if err != nil {
			break
		}
		buf = appendLine(buf[:0], &lines[i], progs[lines[i].Program])
		_, err = w.Write(buf)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.indexPath())
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the index: %w", err)
	}
	return nil
}

// indexLoop writes the index every period while the log grows: an idle
// server (say a million ended cases and nothing running) rewrites
// nothing.
func (s *Service) indexLoop(every time.Duration) {
	defer close(s.indexDone)
	t := time.NewTicker(every)
	defer t.Stop()
	written := s.st.LastSeq()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if last := s.st.LastSeq(); last != written {
				if err := s.writeIndex(); err != nil {
					fmt.Fprintf(s.opts.Log, "knhk serve: %v\n", err)
					continue
				}
				written = last
			}
		}
	}
}

// readIndex reads the index; ok is false when there is none or it does
// not parse (Open then scans the whole log).
func (s *Service) readIndex() (indexHeader, []indexLine, bool) {
	h, lines, ok := readIndexFile(s.indexPath(), s.opts.Log)
	if !ok || h.UpTo > s.st.LastSeq() {
		return indexHeader{}, nil, false
	}
	return h, lines, true
}

// readIndexFile reads the index at path, reporting a damaged one to
// log; ok is false when there is none or it does not parse.
func readIndexFile(path string, log io.Writer) (indexHeader, []indexLine, bool) {
	f, err := os.Open(path)
	if err != nil {
		return indexHeader{}, nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<16))
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	var h indexHeader
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &h) != nil || h.Version != indexVersion {
		return indexHeader{}, nil, false
	}
	d := &lineDecoder{progs: h.Programs, shared: map[string]string{}}
	var lines []indexLine
	if fi, err := f.Stat(); err == nil {
		lines = make([]indexLine, 0, fi.Size()/96) // a short case line's length
	}
	for sc.Scan() {
		l, err := d.decode(sc.Bytes())
		if err != nil {
			fmt.Fprintf(log, "knhk serve: %s: line %d: %v; scanning the whole log\n", path, len(lines)+2, err)
			return indexHeader{}, nil, false
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(log, "knhk serve: %s: %v; scanning the whole log\n", path, err)
		return indexHeader{}, nil, false
	}
	return h, lines, true
}

// recover rebuilds the cases: from the index and the log's tail after it
// (or the whole log), then runs on every case that has not ended. One
// scan reads the log from the earliest record a running case needs (or
// the tail, when that comes first): it finds the cases the tail touches
// and gathers the records each running case needs on the way.
func (s *Service) recover(ctx context.Context) error {
	h, lines, ok := s.readIndex()
	s.openIndexLines(lines) // erase.go
	s.openStats.FromIndex, s.openStats.UpTo = ok, h.UpTo
	s.grow(len(lines))
	from := h.UpTo + 1
	for _, l := range lines {
		s.log.setPosition(l.ID, l.Pos)
		if l.Done() || l.Parked || l.Pending {
			continue // gathered only if the tail touches it
		}
		at := l.Pos.First
		if l.Pos.Snap != 0 {
			at = l.Pos.Snap
		}
		if at == 0 {
			continue
		}
		from = min(from, at)
		s.log.pre[l.ID] = &preload{}
	}
	// The tail: cases it touches are rebuilt whatever the index says.
	touched := map[string]bool{}
	var order []string
	err := s.st.ScanViews(ctx, store.Position{Seq: from}, func(r store.RecordView, _ store.Position) error {
		id := string(r.CaseID)
		tail := r.Seq > h.UpTo
		if tail {
			s.openStats.Scanned++
			s.log.note(id, r.Seq, string(r.Kind) == engine.SnapshotKind)
			if !touched[id] {
				touched[id] = true
				order = append(order, id)
				if s.log.pre[id] == nil {
					s.log.pre[id] = &preload{}
				}
			}
		}
		pre := s.log.pre[id]
		if pre == nil {
			return nil
		}
		s.openStats.Replayed++
		if string(r.Kind) == engine.SnapshotKind {
			pre.snap = append([]byte(nil), r.Payload...)
			pre.events = pre.events[:0]
			return nil
		}
		if !tail {
			s.log.countEvent(id)
		}
		pre.events = append(pre.events, append([]byte(nil), r.Payload...))
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the log: %w", err)
	}
	for _, l := range lines {
		if !touched[l.ID] || !(l.Done() || l.Parked || l.Pending) {
			continue
		}
		// A case the index had ended or parked, which the tail touches:
		// what was gathered misses its records before the tail, so its
		// recovery reads them from its own position.
		if l.Pos.First != 0 || l.Pos.Snap != 0 {
			delete(s.log.pre, l.ID)
		}
	}
	for _, l := range lines {
		switch {
		case l.Done() && !touched[l.ID]:
			s.addLocked(endedEntry(l.Summary))
		case l.Parked && !touched[l.ID]:
			e := parkedEntry(l.Summary, l.Due)
			s.addLocked(e)
			s.openStats.Parked++
			if l.Due != 0 {
				s.timers.add(e, e.parked)
			}
		case !l.Pending || touched[l.ID]:
			// A pending start is a case only if the tail has its records.
			e := newEntry(l.Summary)
			e.markStarted(nil)
			s.addLocked(e)
		}
	}
	var metas map[string]caseMeta
	for _, id := range order {
		if s.cases[id] != nil {
			continue
		}
		if metas == nil {
			if metas, err = readMetas(filepath.Join(s.dir, "server"), h.MetaGen); err != nil {
				return fmt.Errorf("reading the starts: %w", err)
			}
		}
		e, err := s.entryFromMeta(id, metas)
		if err != nil {
			fmt.Fprintf(s.opts.Log, "knhk serve: case %s is not served: %v\n", id, err)
			continue
		}
		s.addLocked(e)
	}
	// The cases to run on; what was gathered for others is dropped.
	var live, mocked []*caseEntry
	keep := map[string]bool{}
	for _, e := range s.list {
		if e.sum.Done() && !touched[e.id] || e.parked != nil {
			continue
		}
		if e.sum.Status == StatusMocked {
			mocked = append(mocked, e)
			continue
		}
		live = append(live, e)
		keep[e.id] = true
	}
	for id := range s.log.pre {
		if !keep[id] {
			delete(s.log.pre, id)
		}
	}
	s.openStats.Cases = len(s.list)
	s.openStats.Recovered = len(live)
	for _, e := range mocked {
		s.holdMocked(ctx, e)
	}
	for _, e := range live {
		p, err := s.program(e.sum.Program)
		if err != nil {
			fmt.Fprintf(s.opts.Log, "knhk serve: case %s is not served: %v\n", e.id, err)
			close(e.ready)
			continue
		}
		// The case lock proves that no knhk started before this server
		// still drives the case. It is not kept: the server's own lock
		// keeps later CLI writers out, and one open file per running case
		// ran a server with 20,000 of them out of file descriptors.
		release, err := s.st.LockCase(e.id)
		if err != nil {
			fmt.Fprintf(s.opts.Log, "knhk serve: case %s is not served: %v\n", e.id, err)
			close(e.ready)
			continue
		}
		release()
		id := e.id
		s.drivers.Add(1)
		go s.drive(e, p, func(ctx context.Context) error { return p.eng.Recover(ctx, id) })
	}
	return nil
}

// entryFromMeta builds the entry of a case the index does not know from
// the meta log or, for a case knhk run started, from DIR/cases/ID.json.
func (s *Service) entryFromMeta(id string, metas map[string]caseMeta) (*caseEntry, error) {
	if m, ok := metas[id]; ok {
		e := newEntry(Summary{ID: id, Workflow: m.Workflow, Program: m.Descriptor, Key: m.Key, Request: m.Request, Start: m.Start, Status: "running"})
		e.markStarted(nil)
		return e, nil
	}
	if !validCaseID.MatchString(id) {
		return nil, fmt.Errorf("no metadata")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "cases", id+".json"))
	if err != nil {
		return nil, err
	}
	var m caseMeta
	if err := json.Unmarshal(b, &m); err != nil || m.Case != id {
		return nil, fmt.Errorf("bad metadata in %s", filepath.Join(s.dir, "cases", id+".json"))
	}
	status := "running"
	if isMocked(m.Mock) {
		status = StatusMocked
	}
	e := newEntry(Summary{ID: id, Workflow: m.Workflow, Program: m.Descriptor, Key: m.Key, Request: m.Request, Start: m.Start, Status: status})
	e.markStarted(nil)
	return e, nil
}
