// This file implements case snapshots: a deterministic, versioned encoding
// of a [State], so that recovery can start from the latest snapshot and
// replay only the events after it.

package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// SnapshotVersion is the version of the encoding [Machine.EncodeState]
// writes. A snapshot of any other version is refused: guessing at an old
// layout could rebuild a wrong state, which is worse than no snapshot.
const SnapshotVersion = 1

// ErrBadSnapshot is wrapped by every error that [Machine.DecodeState]
// returns: the snapshot is damaged, of an unknown version, or was taken
// under another program. Recovery fails with it rather than fall back to
// a state it cannot trust.
var ErrBadSnapshot = errors.New("bad case snapshot")

// snapMagic starts every snapshot, so that a record of another kind is
// never mistaken for one.
var snapMagic = [8]byte{'K', 'N', 'H', 'K', 'C', 'A', 'S', 'E'}

const snapHeader = 8 + 2 + 4 // magic, version, CRC32C of the body

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// codec is what snapshots of one program need: the program's calls by
// position (State points into the compiled IR, and a pointer cannot be
// written down) and a fingerprint of the program, so that a snapshot is
// never restored under a different program whose call positions mean
// something else.
type codec struct {
	once  sync.Once
	calls []*ir.Call
	index map[*ir.Call]int32
	fp    string
}

func (m *Machine) codec() *codec {
	c := &m.snap
	c.once.Do(func() {
		c.index = map[*ir.Call]int32{}
		var add func(*ir.Call)
		add = func(x *ir.Call) {
			for ; x != nil; x = x.Undo {
				if _, ok := c.index[x]; ok {
					return
				}
				c.index[x] = int32(len(c.calls))
				c.calls = append(c.calls, x)
			}
		}
		for _, n := range m.Prog.Nets {
			if n == nil {
				continue
			}
			for _, t := range n.Transitions {
				if t == nil {
					continue
				}
				add(t.Call)
				for _, x := range t.Candidates {
					add(x)
				}
			}
			for _, h := range n.Hooks {
				if h != nil {
					add(h.Action)
				}
			}
		}
		for _, t := range m.Prog.Tasks {
			if t != nil {
				add(t.Undo)
			}
		}
		h := sha256.New()
		if b, err := m.Prog.Encode(); err == nil {
			h.Write(b)
		} else {
			// An unencodable program (hand-built in a test) is identified
			// by its shape only.
			fmt.Fprintf(h, "unencodable %d nets %d tasks", len(m.Prog.Nets), len(m.Prog.Tasks))
		}
		fmt.Fprintf(h, " %d calls", len(c.calls))
		c.fp = hex.EncodeToString(h.Sum(nil)[:16])
	})
	return c
}

type wireSnap struct {
	N    uint64    `json:"n"`    // events of the case the state folds
	Prog string    `json:"prog"` // program fingerprint
	S    wireState `json:"s"`
}

type wireState struct {
	ID         string         `json:"id"`
	Net        int32          `json:"net"`
	Status     Status         `json:"status"`
	Result     any            `json:"result"`
	Error      string         `json:"error"`
	ErrorLoc   *wireLoc       `json:"errorLoc,omitempty"`
	Now        int64          `json:"now"`
	Frames     []wireFrame    `json:"frames"`
	Invs       []wireInv      `json:"invs"`
	Timers     []Timer        `json:"timers"`
	Inbox      []wireReceived `json:"inbox"`
	Comp       []wireUndo     `json:"comp"`
	CompErrors []string       `json:"comp_errors"`
	Cancel     bool           `json:"cancel"`
	HookQ      []HookRef      `json:"hook_q,omitempty"`
	HookErrors []string       `json:"hook_errors,omitempty"`
	Closing    Status         `json:"closing,omitempty"`
	NextFrame  int32          `json:"next_frame"`
	NextInv    int32          `json:"next_inv"`
	Mail       *wireMail      `json:"mail,omitempty"`
}

type wireFrame struct {
	ID      int32       `json:"id"`
	Net     int32       `json:"net"`
	Parent  int32       `json:"parent"`
	Trans   int32       `json:"trans"`
	Index   int32       `json:"index"`
	Marking []int32     `json:"marking"`
	Vars    []any       `json:"vars"`
	Alias   []int32     `json:"alias"`
	Result  any         `json:"result"`
	Groups  []wireGroup `json:"groups"`
	Held    []string    `json:"held"`
	Scope   int32       `json:"scope,omitempty"`
	Ending  bool        `json:"ending,omitempty"`
}

type wireGroup struct {
	Trans   int32 `json:"trans"`
	Items   []any `json:"items"`
	Args    []any `json:"args"`
	Next    int32 `json:"next"`
	Running int32 `json:"running"`
	Done    int32 `json:"done"`
	Limit   int32 `json:"limit"`
	Quorum  int32 `json:"quorum"`
	Results []any `json:"results"`
	Joined  bool  `json:"joined,omitempty"`
	Closed  bool  `json:"closed,omitempty"`
}

type wireInv struct {
	ID       int32 `json:"id"`
	Frame    int32 `json:"frame"`
	Trans    int32 `json:"trans"`
	Call     int32 `json:"call"` // position in the program's calls, -1 for nil
	Args     []any `json:"args"`
	Attempt  int32 `json:"attempt"`
	Attempts int32 `json:"attempts"`
	Timeout  int64 `json:"timeout"`
	Waiting  bool  `json:"waiting"`
	Due      int64 `json:"due"`
	Comp     bool  `json:"comp"`
	Hook     bool  `json:"hook,omitempty"`
	Started  int64 `json:"started,omitempty"`
	Features []any `json:"features,omitempty"`
	Scope    int32 `json:"scope,omitempty"`
}

type wireReceived struct {
	Name    string `json:"name"`
	Payload []any  `json:"payload"`
}

type wireUndo struct {
	Call int32 `json:"call"`
	Args []any `json:"args"`
}

// EncodeState encodes s, the state of a case after its first n events.
// The encoding is deterministic (the same State always gives the same
// bytes) and carries its version, a checksum and the program's
// fingerprint. Values are encoded as [EncodeEvent] encodes them
// ([eval.Tag]); a NaN or an infinity cannot be.
func (m *Machine) EncodeState(s *State, n uint64) ([]byte, error) {
	c := m.codec()
	w := wireSnap{N: n, Prog: c.fp, S: wireState{ID: s.ID, Net: s.Net, Status: s.Status, Error: s.Error, ErrorLoc: encodeLoc(s.ErrorLoc), Now: s.Now,
		Timers: s.Timers, CompErrors: s.CompErrors, Cancel: s.Cancel, HookQ: s.HookQ, HookErrors: s.HookErrors, Closing: s.Closing,
		NextFrame: s.NextFrame, NextInv: s.NextInv}}
	var err error
	call := func(x *ir.Call) int32 {
		if x == nil {
			return -1
		}
		i, ok := c.index[x]
		if !ok && err == nil {
			err = fmt.Errorf("state refers to a call outside the program")
		}
		return i
	}
	vals := func(vs []eval.Value) []any { return eval.TagAll(vs, false) }
	val := eval.Tag
	w.S.Result = val(s.Result)
	if s.Frames != nil {
		w.S.Frames = make([]wireFrame, len(s.Frames))
	}
	for i, f := range s.Frames {
		wf := wireFrame{ID: f.ID, Net: f.Net, Parent: f.Parent, Trans: f.Trans, Index: f.Index, Marking: f.Marking,
			Vars: vals(f.Vars), Alias: f.Alias, Result: val(f.Result), Held: f.Held, Scope: f.Scope, Ending: f.Ending}
		if f.Groups != nil {
			wf.Groups = make([]wireGroup, len(f.Groups))
		}
		for j, g := range f.Groups {
			wf.Groups[j] = wireGroup{Trans: g.Trans, Items: vals(g.Items), Args: vals(g.Args), Next: g.Next, Running: g.Running,
				Done: g.Done, Limit: g.Limit, Quorum: g.Quorum, Results: vals(g.Results), Joined: g.Joined, Closed: g.Closed}
		}
		w.S.Frames[i] = wf
	}
	if s.Invs != nil {
		w.S.Invs = make([]wireInv, len(s.Invs))
	}
	for i, v := range s.Invs {
		w.S.Invs[i] = wireInv{ID: v.ID, Frame: v.Frame, Trans: v.Trans, Call: call(v.Call), Args: vals(v.Args), Attempt: v.Attempt,
			Attempts: v.Attempts, Timeout: v.Timeout, Waiting: v.Waiting, Due: v.Due, Comp: v.Comp, Hook: v.Hook,
			Started: v.Started, Features: vals(v.Features), Scope: v.Scope}
	}
	if s.Inbox != nil {
		w.S.Inbox = make([]wireReceived, len(s.Inbox))
	}
	for i, r := range s.Inbox {
		w.S.Inbox[i] = wireReceived{Name: r.Name, Payload: vals(r.Payload)}
	}
	mail, merr := encodeMail(s)
	if merr != nil {
		return nil, fmt.Errorf("snapshot of case %s: %w", s.ID, merr)
	}
	w.S.Mail = mail
	if s.Comp != nil {
		w.S.Comp = make([]wireUndo, len(s.Comp))
	}
	for i, u := range s.Comp {
		w.S.Comp[i] = wireUndo{Call: call(u.Call), Args: vals(u.Args)}
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot of case %s: %w", s.ID, err)
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("snapshot of case %s: %w", s.ID, err)
	}
	out := make([]byte, snapHeader, snapHeader+len(body))
	copy(out, snapMagic[:])
	binary.BigEndian.PutUint16(out[8:], SnapshotVersion)
	binary.BigEndian.PutUint32(out[10:], crc32.Checksum(body, castagnoli))
	return append(out, body...), nil
}

func badSnapshot(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadSnapshot, fmt.Sprintf(format, args...))
}

// DecodeState decodes a snapshot written by [Machine.EncodeState] under
// the same program, returning the state and the number of events it
// folds. Every failure wraps [ErrBadSnapshot].
func (m *Machine) DecodeState(b []byte) (*State, uint64, error) {
	if len(b) < snapHeader || !bytes.Equal(b[:8], snapMagic[:]) {
		return nil, 0, badSnapshot("not a case snapshot")
	}
	if v := binary.BigEndian.Uint16(b[8:]); v != SnapshotVersion {
		return nil, 0, badSnapshot("unknown version %d (want %d)", v, SnapshotVersion)
	}
	body := b[snapHeader:]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[10:]) {
		return nil, 0, badSnapshot("checksum mismatch")
	}
	var w wireSnap
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, 0, badSnapshot("%v", err)
	}
	c := m.codec()
	if w.Prog != c.fp {
		return nil, 0, badSnapshot("taken under another program")
	}
	var err error
	call := func(i int32) *ir.Call {
		if i == -1 {
			return nil
		}
		if i < 0 || int(i) >= len(c.calls) {
			if err == nil {
				err = badSnapshot("call %d out of range", i)
			}
			return nil
		}
		return c.calls[i]
	}
	// A null slot reads as unset (void); typeState makes it none
	// where the slot is optional.
	val := func(v any) eval.Value {
		if v == nil {
			return eval.Value{}
		}
		u, e := eval.Untag(v)
		if e != nil && err == nil {
			err = badSnapshot("%v", e)
		}
		return u
	}
	vals := func(vs []any) []eval.Value {
		if vs == nil {
			return nil
		}
		out := make([]eval.Value, len(vs))
		for i, v := range vs {
			out[i] = val(v)
		}
		return out
	}
	ws := &w.S
	s := &State{ID: ws.ID, Net: ws.Net, Status: ws.Status, Result: val(ws.Result), Error: ws.Error, ErrorLoc: decodeLoc(ws.ErrorLoc), Now: ws.Now,
		Timers: ws.Timers, CompErrors: ws.CompErrors, Cancel: ws.Cancel, HookQ: ws.HookQ, HookErrors: ws.HookErrors, Closing: ws.Closing,
		NextFrame: ws.NextFrame, NextInv: ws.NextInv}
	if ws.Frames != nil {
		s.Frames = make([]*Frame, len(ws.Frames))
	}
	for i, wf := range ws.Frames {
		f := &Frame{ID: wf.ID, Net: wf.Net, Parent: wf.Parent, Trans: wf.Trans, Index: wf.Index, Marking: wf.Marking,
			Vars: vals(wf.Vars), Alias: wf.Alias, Result: val(wf.Result), Held: wf.Held, Scope: wf.Scope, Ending: wf.Ending}
		if wf.Groups != nil {
			f.Groups = make([]*Group, len(wf.Groups))
		}
		for j, g := range wf.Groups {
			f.Groups[j] = &Group{Trans: g.Trans, Items: vals(g.Items), Args: vals(g.Args), Next: g.Next, Running: g.Running,
				Done: g.Done, Limit: g.Limit, Quorum: g.Quorum, Results: vals(g.Results), Joined: g.Joined, Closed: g.Closed}
		}
		s.Frames[i] = f
	}
	if ws.Invs != nil {
		s.Invs = make([]*Inv, len(ws.Invs))
	}
	for i, v := range ws.Invs {
		s.Invs[i] = &Inv{ID: v.ID, Frame: v.Frame, Trans: v.Trans, Call: call(v.Call), Args: vals(v.Args), Attempt: v.Attempt,
			Attempts: v.Attempts, Timeout: v.Timeout, Waiting: v.Waiting, Due: v.Due, Comp: v.Comp, Hook: v.Hook,
			Started: v.Started, Features: vals(v.Features), Scope: v.Scope}
	}
	if ws.Inbox != nil {
		s.Inbox = make([]Received, len(ws.Inbox))
	}
	for i, r := range ws.Inbox {
		s.Inbox[i] = Received{Name: r.Name, Payload: vals(r.Payload)}
	}
	if ws.Comp != nil {
		s.Comp = make([]Undo, len(ws.Comp))
	}
	for i, u := range ws.Comp {
		s.Comp[i] = Undo{Call: call(u.Call), Args: vals(u.Args)}
	}
	if err == nil {
		err = decodeMail(ws.Mail, s)
	}
	if err != nil {
		return nil, 0, err
	}
	// Timers are kept in frame and transition order (see timerAt);
	// a snapshot written before that kept them in the order they were
	// armed.
	sortTimers(s)
	if err := m.checkState(s); err != nil {
		return nil, 0, err
	}
	m.typeState(s)
	recount(s)
	return s, w.N, nil
}

// checkState rejects a decoded state whose indices do not fit the
// program, so that a snapshot that passed its checksum but is still wrong
// cannot make Apply or the engine index out of range.
func (m *Machine) checkState(s *State) error {
	if len(s.Frames) > 0 && (s.Net < 0 || int(s.Net) >= len(m.nets) || m.nets[s.Net] == nil) {
		return badSnapshot("net %d out of range", s.Net)
	}
	if !sortedByID(s) {
		return badSnapshot("frames or invocations out of order")
	}
	nets := map[int32]*cnet{}
	for _, f := range s.Frames {
		if f.Net < 0 || int(f.Net) >= len(m.nets) || m.nets[f.Net] == nil {
			return badSnapshot("frame %d: net %d out of range", f.ID, f.Net)
		}
		c := m.nets[f.Net]
		if _, dup := nets[f.ID]; dup {
			return badSnapshot("frame %d twice", f.ID)
		}
		nets[f.ID] = c
		if len(f.Marking) != len(c.init) {
			return badSnapshot("frame %d: marking of %d places, net has %d", f.ID, len(f.Marking), len(c.init))
		}
		if len(f.Vars) != len(c.n.Vars) {
			return badSnapshot("frame %d: %d variables, net has %d", f.ID, len(f.Vars), len(c.n.Vars))
		}
		for _, g := range f.Groups {
			if g.Trans < 0 || int(g.Trans) >= len(c.trans) {
				return badSnapshot("frame %d: group of transition %d out of range", f.ID, g.Trans)
			}
		}
	}
	trans := func(frame, t int32) error {
		c := nets[frame]
		if c == nil || t < 0 || int(t) >= len(c.trans) {
			return badSnapshot("transition %d of frame %d out of range", t, frame)
		}
		return nil
	}
	for _, v := range s.Invs {
		if v.Call == nil {
			return badSnapshot("invocation %d has no call", v.ID)
		}
		if v.Comp || v.Hook {
			continue
		}
		if err := trans(v.Frame, v.Trans); err != nil {
			return err
		}
	}
	for _, t := range s.Timers {
		if err := trans(t.Frame, t.Trans); err != nil {
			return err
		}
	}
	for _, u := range s.Comp {
		if u.Call == nil {
			return badSnapshot("compensation without a call")
		}
	}
	return nil
}

// SnapshotKind is the store record kind of a case snapshot; it is no
// event kind's name. Readers of a store that want a case's events skip
// these records.
const SnapshotKind = "case-snapshot"
