// This file implements what the case commands (signal, query, cases,
// history, export) share: the record of which descriptor a case runs,
// reading every case of a data directory, and rebuilding a case's state
// from its log without running it.

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
	"slices"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// caseMeta is what the data directory keeps about a case beside its
// events: the start event names the workflow by net index only, and a
// case must be resumed with the program it started with even when its
// source changed since. It is written to DIR/cases/ID.json before the
// case's first event; the program itself is DIR/descriptors/HASH.ir, the
// IR encoding, stored once per hash.
type caseMeta struct {
	Case       string `json:"case"`
	Workflow   string `json:"workflow"`
	Descriptor string `json:"descriptor"` // ir.Program.Hash of the program
	Source     string `json:"source"`     // the file run was given, absolute
}

// validCaseID limits case ids to what can name a file.
var validCaseID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// recordCase stores prog's descriptor (unless already there) and the
// metadata of case id in data, each written atomically.
func recordCase(data, id string, prog *ir.Program, workflow, source string) error {
	hash, err := prog.Hash()
	if err != nil {
		return err
	}
	ddir := filepath.Join(data, "descriptors")
	if _, err := os.Stat(filepath.Join(ddir, hash+".ir")); err != nil {
		b, err := prog.Encode()
		if err != nil {
			return err
		}
		if err := writeIn(ddir, hash+".ir", b); err != nil {
			return err
		}
	}
	if abs, err := filepath.Abs(source); err == nil {
		source = abs
	}
	b, err := json.Marshal(caseMeta{Case: id, Workflow: workflow, Descriptor: hash, Source: source})
	if err != nil {
		return err
	}
	return writeIn(filepath.Join(data, "cases"), id+".json", b)
}

// caseLog is one case of a data directory: its events in order and, when
// its descriptor is known, its program.
type caseLog struct {
	id     string
	events []*engine.Event
	seqs   []store.Seq
	// raw holds the encoded events until the case is loaded: a command
	// about one case decodes that case only.
	raw    [][]byte
	loaded bool
	bad    error       // why the events could not be decoded
	meta   *caseMeta   // nil when the case was started without one
	prog   *ir.Program // nil when meta is nil or the descriptor is missing
	mach   *engine.Machine
	err    error // why prog is nil, or why the state could not be rebuilt
}

// dataDir is an open data directory.
type dataDir struct {
	path  string
	st    *store.Store
	cases []*caseLog // in the order they started
	byID  map[string]*caseLog
	progs map[string]*ir.Program // loaded descriptors, by hash
}

// openData opens the data directory at path, which must exist, and reads
// the records of every case in it; a case's events are decoded when it
// is looked up (see load).
func openData(ctx context.Context, path string) (*dataDir, error) {
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("no data directory %s (run a case with knhk run first)", path)
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return nil, err
	}
	d := &dataDir{path: path, st: st, byID: map[string]*caseLog{}, progs: map[string]*ir.Program{}}
	err = st.Scan(ctx, 0, func(r store.Record) error {
		if r.Kind == engine.SnapshotKind {
			return nil // a shortcut for recovery, not an event
		}
		c := d.byID[r.CaseID]
		if c == nil {
			c = &caseLog{id: r.CaseID}
			d.byID[r.CaseID] = c
			d.cases = append(d.cases, c)
		}
		c.raw = append(c.raw, slices.Clone(r.Payload))
		c.seqs = append(c.seqs, r.Seq)
		return nil
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

// load decodes c's events and reads its metadata and program, once.
func (d *dataDir) load(c *caseLog) error {
	if c.loaded {
		return c.bad
	}
	c.loaded = true
	c.events = make([]*engine.Event, 0, len(c.raw))
	for i, b := range c.raw {
		ev, err := engine.DecodeEvent(b)
		if err != nil {
			c.bad = fmt.Errorf("record %d of case %s: %w", c.seqs[i], c.id, err)
			return c.bad
		}
		c.events = append(c.events, ev)
	}
	c.raw = nil
	d.loadMeta(c, d.progs)
	return nil
}

// all loads every case, in the order they started.
func (d *dataDir) all() ([]*caseLog, error) {
	for _, c := range d.cases {
		if err := d.load(c); err != nil {
			return nil, err
		}
	}
	return d.cases, nil
}

func (d *dataDir) close() error { return d.st.Close() }

// loadMeta reads c's metadata and program, sharing programs by hash.
func (d *dataDir) loadMeta(c *caseLog, progs map[string]*ir.Program) {
	if !validCaseID.MatchString(c.id) {
		c.err = fmt.Errorf("case %s has no descriptor", c.id)
		return
	}
	b, err := os.ReadFile(filepath.Join(d.path, "cases", c.id+".json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("case %s has no descriptor (it was started by an older knhk)", c.id)
		}
		c.err = err
		return
	}
	var m caseMeta
	if err := json.Unmarshal(b, &m); err != nil || m.Case != c.id {
		c.err = fmt.Errorf("case %s: bad metadata in %s", c.id, filepath.Join(d.path, "cases", c.id+".json"))
		return
	}
	c.meta = &m
	p, ok := progs[m.Descriptor]
	if !ok {
		p, err = loadDescriptor(d.path, m.Descriptor)
		if err != nil {
			c.err = err
			return
		}
		progs[m.Descriptor] = p
	}
	c.prog = p
	c.mach, c.err = engine.NewMachine(p)
	if c.err != nil {
		c.prog = nil
	}
}

// loadDescriptor reads and checks descriptor hash.
func loadDescriptor(data, hash string) (*ir.Program, error) {
	if !regexp.MustCompile(`^[0-9a-zA-Z]+$`).MatchString(hash) {
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

// lookupCase returns case id, or an error saying it is unknown.
func (d *dataDir) lookupCase(id string) (*caseLog, error) {
	c := d.byID[id]
	if c == nil {
		return nil, fmt.Errorf("unknown case %s in %s", id, d.path)
	}
	if err := d.load(c); err != nil {
		return nil, err
	}
	return c, nil
}

// state rebuilds c's state by applying its events; nothing runs.
func (c *caseLog) state() (*engine.State, error) {
	if c.prog == nil {
		return nil, c.err
	}
	s := &engine.State{ID: c.id}
	for i, ev := range c.events {
		if err := c.mach.Apply(s, ev); err != nil {
			return nil, fmt.Errorf("case %s: event %d: %v", c.id, i+1, err)
		}
	}
	return s, nil
}

// rootVars reads the variables of the root frame of a state.
type rootVars struct {
	s *engine.State
	f *engine.Frame
}

func (r rootVars) Var(i int32) any {
	if r.f == nil {
		return nil
	}
	return r.s.Var(r.f, i)
}

// writeIn creates dir if needed and replaces dir/name with b atomically.
func writeIn(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, name), b, 0o644)
}
