// This file implements ReadStarts: what a server recorded about the
// start of each case, for the CLI's commands on a data directory a
// server wrote. knhk run records a case in DIR/cases/ID.json; the server
// does not (a file created per start was most of its system calls), and
// its record of a start is the meta log until an index holds the case.

package server

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
)

// StartRecord is the start of one case as a server recorded it: what
// knhk run's DIR/cases/ID.json says of a case it started.
type StartRecord struct {
	Case       string
	Workflow   string
	Descriptor string // the program's hash
	Source     string // the deployed source's file name, if any
	Request    string
	Key        string
	Start      int64 // Unix nanoseconds
}

// ReadStarts returns the start of every case a server recorded in the
// data directory dir (none when no server ran there), keyed by case id.
// It may run beside the server. It reads the recovery index and the
// meta log generations after it.
func ReadStarts(dir string) (map[string]StartRecord, error) {
	sdir := filepath.Join(dir, "server")
	out := map[string]StartRecord{}
	h, lines, ok := readIndexFile(filepath.Join(sdir, "index.jsonl"), io.Discard)
	if ok {
		names := programNames(sdir)
		for _, l := range lines {
			out[l.ID] = StartRecord{Case: l.ID, Workflow: l.Workflow, Descriptor: l.Program, Source: names[l.Program],
				Request: l.Request, Key: l.Key, Start: l.Start}
		}
	}
	// The generations the index does not cover (all of them without
	// one); none is ever removed, so a newer index written meanwhile
	// changes nothing here.
	metas, err := readMetas(sdir, h.MetaGen)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil // no server ran here
	}
	if err != nil {
		return nil, err
	}
	for id, m := range metas {
		out[id] = StartRecord{Case: id, Workflow: m.Workflow, Descriptor: m.Descriptor, Source: m.Source,
			Request: m.Request, Key: m.Key, Start: m.Start}
	}
	return out, nil
}

// programNames maps the hashes of the programs deployed in the server
// directory sdir to their source names; empty when unreadable.
func programNames(sdir string) map[string]string {
	names := map[string]string{}
	b, err := os.ReadFile(filepath.Join(sdir, "programs.json"))
	if err != nil {
		return names
	}
	var list []Program
	if json.Unmarshal(b, &list) == nil {
		for _, p := range list {
			names[p.Hash] = p.Name
		}
	}
	return names
}

// runningCount is a Service's count of its running cases: those started
// (their first record durable), still listed and whose status is
// "running", as CaseCounts counts them. Each case entry adds itself when
// it becomes one and takes itself off when it stops being one (it ends,
// fails, is mocked or forgotten), so a tenant's max_running quota reads
// it in O(1) at every start it asks for rather than passing every case
// the tenant ever ran. Recovery lists every case again, so it is exact
// across a restart too.
type runningCount struct{ n atomic.Int64 }

// Running returns the number of cases running now: what CaseCounts
// reports as "running", in O(1).
func (s *Service) Running() int { return int(s.running.n.Load()) }

// track makes e count in run (nil: in none, when forgotten).
func (e *caseEntry) track(run *runningCount) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.counted {
		e.run.n.Add(-1)
		e.counted = false
	}
	e.run = run
	e.recountLocked()
}

// recountLocked brings e's part of its count up to date after a change
// of its status or start; the caller holds e.mu.
func (e *caseEntry) recountLocked() {
	want := false
	if e.run != nil && e.sum.Status == "running" {
		select {
		case <-e.started:
			want = e.startErr == nil
		default:
		}
	}
	switch {
	case want && !e.counted:
		e.run.n.Add(1)
	case !want && e.counted:
		e.run.n.Add(-1)
	}
	e.counted = want
}
