// This file implements saving a trained model, so that predicting for a
// case of a data directory need not retrain on every call. The format is
// versioned and checksummed, and the decoder checks every count, index
// and class against what the model's use needs: a damaged or foreign
// file is an error to skip (and retrain), never a panic or a model that
// answers wrongly.

package predict

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"

	"github.com/knhk/knhk/internal/atomicfile"
	"github.com/knhk/knhk/runtime/predict/gbt"
)

// FormatVersion is the version of the saved-model format; a file of
// another version is not read (ErrVersion) and is retrained. Version 2
// added the times since each activity to the features.
const FormatVersion = 2

// StaleFraction is how much the number of completed cases may have
// grown since a saved model was trained before the model is retrained:
// a model trained on n cases is used while there are at most
// n + n*StaleFraction of them (and no fewer than n: cases were erased).
const StaleFraction = 0.2

var magic = []byte("KNHKPRED")

// ErrVersion is wrapped by the error for a saved model of another
// format version.
var ErrVersion = errors.New("saved model of another format version")

// Saved is a model with what it was trained for: the workflow's
// descriptor hash and the number of completed cases it learned from.
type Saved struct {
	Descriptor string
	Cases      int
	Model      *Model
}

// Usable reports whether s may stand for a model trained now on cases
// completed cases of the workflow with the descriptor, and why not.
func (s *Saved) Usable(descriptor string, cases int) (bool, string) {
	switch {
	case s.Descriptor != descriptor:
		return false, fmt.Sprintf("it is for descriptor %s, not %s", s.Descriptor, descriptor)
	case cases < s.Cases:
		return false, fmt.Sprintf("it was trained on %d completed cases, now there are %d", s.Cases, cases)
	case float64(cases-s.Cases) > float64(s.Cases)*StaleFraction:
		return false, fmt.Sprintf("it was trained on %d completed cases, now there are %d (more than %.0f%% new)", s.Cases, cases, StaleFraction*100)
	}
	return true, ""
}

// Marshal encodes s.
func (s *Saved) Marshal() []byte {
	w := &writer{b: append([]byte{}, magic...)}
	w.u32(FormatVersion)
	w.str(s.Descriptor)
	w.u32(uint32(s.Cases))
	m := s.Model
	w.u32(uint32(len(m.Names)))
	for _, n := range m.Names {
		w.str(n)
	}
	w.f64(m.Q)
	w.f64(m.Level)
	w.f64(m.MaxTarget)
	w.u32(uint32(m.NextRounds))
	w.u32(uint32(m.MedianRounds))
	for _, g := range []*gbt.Model{m.next, m.median, m.lo, m.hi} {
		w.u32(uint32(len(g.Base)))
		for _, v := range g.Base {
			w.f64(v)
		}
		w.f64(g.LR)
		w.u32(uint32(len(g.Trees)))
		for _, round := range g.Trees {
			for _, t := range round {
				w.u32(uint32(len(t.Nodes)))
				for _, n := range t.Nodes {
					w.u32(uint32(n.Feature))
					w.f64(n.Threshold)
					w.u32(uint32(n.Left))
					w.u32(uint32(n.Right))
					w.f64(n.Value)
				}
			}
		}
	}
	return binary.LittleEndian.AppendUint32(w.b, crc32.Checksum(w.b, crcTable))
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Unmarshal decodes a saved model; the error says what is wrong and at
// which byte offset.
func Unmarshal(b []byte) (*Saved, error) {
	if len(b) < len(magic)+8 || string(b[:len(magic)]) != string(magic) {
		return nil, errors.New("not a saved knhk prediction model")
	}
	r := &reader{b: b[:len(b)-4], off: len(magic)}
	if v := r.u32(); v != FormatVersion {
		return nil, fmt.Errorf("%w: version %d, this knhk reads %d", ErrVersion, v, FormatVersion)
	}
	if got, want := crc32.Checksum(b[:len(b)-4], crcTable), binary.LittleEndian.Uint32(b[len(b)-4:]); got != want {
		return nil, fmt.Errorf("checksum mismatch (%08x, stored %08x): the file is damaged", got, want)
	}
	s := &Saved{Descriptor: r.str(), Cases: int(r.u32())}
	m := &Model{}
	s.Model = m
	m.Names = make([]string, r.count(4))
	for i := range m.Names {
		m.Names[i] = r.str()
	}
	m.enc = encoder{A: len(m.Names)}
	m.Q, m.Level, m.MaxTarget = r.f64(), r.f64(), r.f64()
	m.NextRounds, m.MedianRounds = int(r.u32()), int(r.u32())
	for i, dst := range []**gbt.Model{&m.next, &m.median, &m.lo, &m.hi} {
		// The next-activity model learns from the first nextDim
		// features only (Model.nextSet).
		want, dim := 1, m.enc.dim()
		if i == 0 {
			want, dim = len(m.Names)+1, m.enc.nextDim()
		}
		*dst = r.gbt(want, dim)
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d bytes after the model", len(r.b)-r.off)
	}
	if r.err == nil {
		switch {
		case len(m.Names) == 0:
			r.fail("no activities")
		case !(m.Level > 0 && m.Level < 1):
			r.fail("interval level %v is outside (0, 1)", m.Level)
		case !finite(m.Q) || !finite(m.MaxTarget):
			r.fail("interval width %v or largest target %v is not finite", m.Q, m.MaxTarget)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// SaveFile writes s to path atomically, creating its directory.
func SaveFile(path string, s *Saved) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, s.Marshal(), 0o644)
}

// LoadFile reads a saved model; a missing file's error wraps
// fs.ErrNotExist.
func LoadFile(path string) (*Saved, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

type writer struct{ b []byte }

func (w *writer) u32(v uint32)  { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *writer) f64(v float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v)) }
func (w *writer) str(s string)  { w.u32(uint32(len(s))); w.b = append(w.b, s...) }

// reader decodes; after the first error every read returns zero.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("byte %d: %s", r.off, fmt.Sprintf(format, args...))
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.fail("truncated: want %d bytes, %d left", n, len(r.b)-r.off)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) f64() float64 {
	if p := r.take(8); p != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(p))
	}
	return 0
}

func (r *reader) str() string { return string(r.take(r.count(1))) }

// count reads a count of items of at least size bytes each, refusing
// one the rest of the file cannot hold (so a damaged count allocates
// nothing large).
func (r *reader) count(size int) int {
	n := int(r.u32())
	if r.err == nil && n > (len(r.b)-r.off)/size {
		r.fail("count %d is more than the %d bytes left can hold", n, len(r.b)-r.off)
		return 0
	}
	return n
}

// nodeSize is the encoded size of a tree node.
const nodeSize = 4 + 8 + 4 + 4 + 8

// gbt decodes a boosted model with outputs outputs over dim features.
func (r *reader) gbt(outputs, dim int) *gbt.Model {
	g := &gbt.Model{Base: make([]float64, r.count(8))}
	if r.err == nil && len(g.Base) != outputs {
		r.fail("model has %d outputs, want %d", len(g.Base), outputs)
	}
	for i := range g.Base {
		g.Base[i] = r.f64()
	}
	g.LR = r.f64()
	rounds := r.count(outputs * (4 + nodeSize))
	for range rounds {
		round := make([]*gbt.Tree, outputs)
		for k := range round {
			t := &gbt.Tree{Nodes: make([]gbt.Node, r.count(nodeSize))}
			if r.err == nil && len(t.Nodes) == 0 {
				r.fail("tree without nodes")
			}
			for i := range t.Nodes {
				n := &t.Nodes[i]
				n.Feature, n.Threshold = int(r.u32()), r.f64()
				n.Left, n.Right, n.Value = int(r.u32()), int(r.u32()), r.f64()
				switch {
				case r.err != nil:
				case n.Left == 0 && n.Right == 0:
					if !finite(n.Value) {
						r.fail("leaf value %v", n.Value)
					}
				case n.Feature >= dim:
					r.fail("feature %d of %d", n.Feature, dim)
				case n.Left <= i || n.Right <= i || n.Left >= len(t.Nodes) || n.Right >= len(t.Nodes):
					r.fail("node %d has children %d and %d of %d nodes", i, n.Left, n.Right, len(t.Nodes))
				}
			}
			round[k] = t
		}
		if r.err != nil {
			return nil
		}
		g.Trees = append(g.Trees, round)
	}
	if r.err != nil {
		return nil
	}
	return g
}
