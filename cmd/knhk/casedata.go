// This file implements what the case commands (signal, resume, query,
// cases, history, export) share: the record of which descriptor a case
// runs, opening a data directory for reading or for running a case, and
// rebuilding a case's state from its log without running it.
//
// Reading streams the log: nothing holds a case's events, only the state
// they fold into, so memory is bounded by the states of the cases being
// rebuilt, not by the length of the log. A case is rebuilt from its
// latest snapshot record (the engine writes one every few hundred events)
// and the events after it.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/server"
)

// caseMeta is what the data directory keeps about a case beside its
// events: the start event names the workflow by net index only, and a
// case must be resumed with the program it started with even when its
// source changed since. It is written to DIR/cases/ID.json before the
// case's first event (knhk run prints the case id only once that event
// is durable, so a meta file without events names no case anyone was
// told about; knhk fsck lists such files and knhk repair removes them);
// the program itself is DIR/descriptors/HASH.ir, the IR encoding, stored
// once per hash.
type caseMeta struct {
	Case       string `json:"case"`
	Workflow   string `json:"workflow"`
	Descriptor string `json:"descriptor"` // ir.Program.Hash of the program
	Source     string `json:"source"`     // the file run was given, absolute
	// Mock is the mock knhk run --mock bound the case to (see mock.go),
	// nil for none: signal and resume answer its calls from it too.
	Mock *caseMock `json:"mock,omitempty"`
}

// validCaseID limits case ids to what can name a file.
var validCaseID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// recordCase stores prog's descriptor (unless already there) and the
// metadata of case id in data, each written atomically.
func recordCase(data, id string, prog *ir.Program, workflow, source string, mock *caseMock) (*caseMeta, error) {
	hash, err := prog.Hash()
	if err != nil {
		return nil, err
	}
	ddir := filepath.Join(data, "descriptors")
	if _, err := os.Stat(filepath.Join(ddir, hash+".ir")); err != nil {
		b, err := prog.Encode()
		if err != nil {
			return nil, err
		}
		if err := writeIn(ddir, hash+".ir", b); err != nil {
			return nil, err
		}
	}
	if abs, err := filepath.Abs(source); err == nil {
		source = abs
	}
	m := &caseMeta{Case: id, Workflow: workflow, Descriptor: hash, Source: source, Mock: mock}
	return m, writeMeta(data, m)
}

// writeMeta replaces the metadata of case m.Case atomically.
func writeMeta(data string, m *caseMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeIn(filepath.Join(data, "cases"), m.Case+".json", b)
}

// announceLog is knhk run's event log: it prints the case id once the
// case's first event is durable, so that an id the user saw always names
// a case the data directory knows, whenever the process dies.
type announceLog struct {
	engine.StoreLog
	once     sync.Once
	announce func()
}

func (l *announceLog) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	err := l.StoreLog.Append(ctx, caseID, ev)
	if err == nil {
		l.once.Do(l.announce)
	}
	return err
}

// caseLog is one case of a data directory: its metadata and program.
type caseLog struct {
	id   string
	meta *caseMeta   // nil when the case was started without one
	prog *ir.Program // nil when meta is nil or the descriptor is missing
	mach *engine.Machine
	err  error // why prog is nil
}

// dataDir is an open data directory.
type dataDir struct {
	path    string
	st      *store.Store
	progs   map[string]*ir.Program // loaded descriptors, by hash
	release func() error           // the case lock, when a case is run
	sign    *runSigning            // what the signing flags set up (runsign.go), nil for none
}

// openData opens the data directory at path, which must exist: read-only
// (no lock taken, nothing written, works beside running cases and on a
// read-only copy) unless write is set.
func openData(path string, write bool) (*dataDir, error) {
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("no data directory %s (run a case with knhk run first)", path)
	}
	open := store.OpenReadOnly
	if write {
		open = store.Open
	}
	st, err := open(path, localStoreOptions(path))
	if err != nil {
		var ce *store.CorruptError
		if errors.As(err, &ce) {
			err = fmt.Errorf("%w\n(knhk fsck --data %s reports the damage; knhk repair --data %s drops what follows it)", err, path, path)
		}
		return nil, err
	}
	return &dataDir{path: path, st: st, progs: map[string]*ir.Program{}}, nil
}

func (d *dataDir) close() error {
	err := d.st.Close()
	if d.release != nil {
		if rerr := d.release(); err == nil {
			err = rerr
		}
	}
	return err
}

// caseInfo is what one pass over the log's record headers tells about a
// case, without decoding its events.
type caseInfo struct {
	id    string
	first store.Position // its first record
	snap  store.Position // its latest snapshot record; Seq 0 when none
	last  store.Seq      // its last record
	start int64          // time of its first event, 0 when unreadable
}

// index reads the whole log once, keeping per case where it starts, where
// its latest snapshot is and where it ends; only each case's first event
// is decoded. Cases come in the order they started.
func (d *dataDir) index(ctx context.Context) ([]*caseInfo, map[string]*caseInfo, error) {
	var list []*caseInfo
	byID := map[string]*caseInfo{}
	err := d.st.ScanViews(ctx, store.Position{}, func(r store.RecordView, p store.Position) error {
		x := byID[string(r.CaseID)]
		snapshot := string(r.Kind) == engine.SnapshotKind
		if x == nil {
			x = &caseInfo{id: string(r.CaseID), first: p}
			if ev, err := engine.DecodeEvent(r.Payload); err == nil && !snapshot {
				x.start = ev.Time
			}
			byID[x.id] = x
			list = append(list, x)
		}
		if snapshot {
			x.snap = p
		}
		x.last = r.Seq
		return nil
	})
	return list, byID, err
}

// caseOf returns case id with its metadata and program loaded.
func (d *dataDir) caseOf(id string) *caseLog {
	c := &caseLog{id: id}
	d.loadMeta(c)
	return c
}

// loadMeta reads c's metadata and program, sharing programs by hash.
func (d *dataDir) loadMeta(c *caseLog) {
	if !validCaseID.MatchString(c.id) {
		c.err = fmt.Errorf("case %s has no descriptor", c.id)
		return
	}
	m, err := readMeta(d.path, c.id)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.err = fmt.Errorf("case %s has no descriptor (it was started by an older knhk)", c.id)
		return
	case errors.Is(err, errBadMeta):
		c.err = fmt.Errorf("case %s: bad metadata in %s", c.id, metaPath(d.path, c.id))
		return
	case err != nil:
		c.err = err
		return
	}
	c.meta = m
	p, ok := d.progs[m.Descriptor]
	if !ok {
		p, err = loadDescriptor(d.path, m.Descriptor)
		if err != nil {
			c.err = err
			return
		}
		d.progs[m.Descriptor] = p
	}
	c.prog = p
	c.mach, c.err = engine.NewMachine(p)
	if c.err != nil {
		c.prog = nil
	}
}

// metaPath is where data keeps the metadata of case id.
func metaPath(data, id string) string { return filepath.Join(data, "cases", id+".json") }

// errBadMeta is readMeta's error for a metadata file that does not decode
// or names another case.
var errBadMeta = errors.New("bad metadata")

// readMeta reads the metadata of case id, which must be a valid case id,
// from data: DIR/cases/ID.json, or for a case a knhk serve started, the
// server's record of its start (serverMeta). A case neither knows has
// an error that wraps [fs.ErrNotExist].
func readMeta(data, id string) (*caseMeta, error) {
	b, err := os.ReadFile(metaPath(data, id))
	if errors.Is(err, fs.ErrNotExist) {
		if m, serr := serverMeta(data, id); serr != nil || m != nil {
			return m, serr
		}
	}
	if err != nil {
		return nil, err
	}
	var m caseMeta
	if err := json.Unmarshal(b, &m); err != nil || m.Case != id {
		return nil, errBadMeta
	}
	return &m, nil
}

// serverStarts caches, per data directory, the starts a knhk serve
// recorded there: a command that reads many cases reads them once. A
// start never changes, so a case missing from the cache only makes it
// read them again (a server may have started the case since).
var serverStarts struct {
	sync.Mutex
	byDir map[string]map[string]server.StartRecord
}

// serverMeta returns the metadata of case id from the starts a knhk
// serve recorded in data, nil when it recorded none for id.
func serverMeta(data, id string) (*caseMeta, error) {
	serverStarts.Lock()
	defer serverStarts.Unlock()
	r, ok := serverStarts.byDir[data][id]
	if !ok {
		starts, err := server.ReadStarts(data)
		if err != nil {
			return nil, fmt.Errorf("the starts a knhk serve recorded in %s: %w", data, err)
		}
		if serverStarts.byDir == nil {
			serverStarts.byDir = map[string]map[string]server.StartRecord{}
		}
		serverStarts.byDir[data] = starts
		if r, ok = starts[id]; !ok {
			return nil, nil
		}
	}
	return &caseMeta{Case: r.Case, Workflow: r.Workflow, Descriptor: r.Descriptor, Source: r.Source}, nil
}

// descriptorHash matches the name of a descriptor.
var descriptorHash = regexp.MustCompile(`^[0-9a-zA-Z]+$`)

// loadDescriptor reads and checks descriptor hash.
func loadDescriptor(data, hash string) (*ir.Program, error) {
	if !descriptorHash.MatchString(hash) {
		return nil, fmt.Errorf("bad descriptor hash %q", hash)
	}
	path := filepath.Join(data, "descriptors", hash+".ir")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("descriptor %s: %w", hash, err)
	}
	p, err := ir.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("descriptor %s: %w", path, err)
	}
	if h, err := p.Hash(); err != nil || h != hash {
		return nil, fmt.Errorf("descriptor %s is damaged: its hash does not match", path)
	}
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("descriptor %s does not verify: %v", path, err)
	}
	return p, nil
}

// errStop ends a scan early without an error.
var errStop = errors.New("stop")

// caseEvents calls fn with each event of case x in log order, reading the
// log from the case's first record to its last.
func (d *dataDir) caseEvents(ctx context.Context, x *caseInfo, fn func(seq store.Seq, ev *engine.Event) error) error {
	err := d.st.ScanViews(ctx, x.first, func(r store.RecordView, _ store.Position) error {
		if r.Seq > x.last {
			return errStop
		}
		if string(r.CaseID) != x.id || string(r.Kind) == engine.SnapshotKind {
			return nil
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d of case %s: %w", r.Seq, x.id, err)
		}
		return fn(r.Seq, ev)
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return err
}

// state rebuilds the state of case x from its latest snapshot and the
// events after it; nothing runs.
func (d *dataDir) state(ctx context.Context, c *caseLog, x *caseInfo) (*engine.State, error) {
	if c.prog == nil {
		return nil, c.err
	}
	var s *engine.State
	from := x.first
	if x.snap.Seq != 0 {
		from = x.snap
	} else {
		s = &engine.State{ID: c.id}
	}
	n := 0
	err := d.st.ScanViews(ctx, from, func(r store.RecordView, _ store.Position) error {
		if r.Seq > x.last {
			return errStop
		}
		if string(r.CaseID) != x.id {
			return nil
		}
		if string(r.Kind) == engine.SnapshotKind {
			if s != nil {
				return nil // an older snapshot than the index's: the events fold to the same state
			}
			st, _, err := c.mach.DecodeState(r.Payload)
			if err != nil {
				return fmt.Errorf("case %s: snapshot record %d: %w", c.id, r.Seq, err)
			}
			st.ID = c.id
			s = st
			return nil
		}
		if s == nil {
			return fmt.Errorf("case %s: record %d: want the case snapshot, found %s", c.id, r.Seq, string(r.Kind))
		}
		n++
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("case %s: record %d: %w", c.id, r.Seq, err)
		}
		if err := c.mach.Apply(s, ev); err != nil {
			return fmt.Errorf("case %s: record %d: %v", c.id, r.Seq, err)
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// openCaseData opens the data directory (for writing when write is set, and
// then takes the case's lock) and rebuilds case id. On failure it reports
// and returns a nil dataDir with the exit code.
func openCaseData(ctx context.Context, e *env, data, id string, write bool) (*dataDir, *caseLog, *engine.State, int) {
	if write && serverOwns(e, data) {
		return nil, nil, nil, exitUser
	}
	d, err := openData(data, write)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, nil, nil, exitUser
	}
	c, s, err := d.openOne(ctx, id, write)
	if err != nil {
		d.close()
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return nil, nil, nil, exitUser
	}
	return d, c, s, exitOK
}

func (d *dataDir) openOne(ctx context.Context, id string, lock bool) (*caseLog, *engine.State, error) {
	if lock {
		release, err := d.st.LockCase(id)
		if err != nil {
			if errors.Is(err, store.ErrCaseBusy) {
				err = fmt.Errorf("%w; try again once that process ends or the case waits for a signal", err)
			}
			return nil, nil, err
		}
		d.release = release
	}
	_, byID, err := d.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	x := byID[id]
	if x == nil {
		return nil, nil, fmt.Errorf("unknown case %s in %s", id, d.path)
	}
	if err := localErased(d.path, id); err != nil { // erase.go
		return nil, nil, err
	}
	c := d.caseOf(id)
	s, err := d.state(ctx, c, x)
	if err != nil {
		return nil, nil, err
	}
	return c, s, nil
}

// writeIn creates dir if needed and replaces dir/name with b atomically.
func writeIn(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, name), b, 0o644)
}
