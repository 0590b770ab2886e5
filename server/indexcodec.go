// This file implements the encoding of the recovery index's case lines:
// tab-separated fields, free text escaped, programs named by their
// position in the header, because decoding a line is most of what Open
// costs for an ended case (JSON was 75% of it).

package server

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/knhk/knhk/runtime/store"
)

// The fields of a case line, in order.
const (
	fID = iota
	fStatus
	fProgram // index into indexHeader.Programs
	fWorkflow
	fStart
	fFirst
	fSnap
	fLast
	fFlags // "p": pending, "i": idle, "z" and a number: parked with its next timer due then
	fWaiting
	fKey
	fRequest
	fResult
	fError
	fErrorAt // file, line, column, end line, end column; tab-free
	fSnapAt  // "segment:offset" of the snapshot at fSnap, when known
	nFields
)

var escaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// appendLine appends the line of l (program index prog) and a newline.
func appendLine(b []byte, l *indexLine, prog int) []byte {
	b = append(b, l.ID...)
	b = append(b, '\t')
	b = append(b, l.Status...)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(prog), 10)
	b = append(b, '\t')
	b = append(b, escaper.Replace(l.Workflow)...)
	for _, n := range []uint64{uint64(l.Start), uint64(l.Pos.First), uint64(l.Pos.Snap), uint64(l.Pos.Last)} {
		b = append(b, '\t')
		b = strconv.AppendUint(b, n, 10)
	}
	b = append(b, '\t')
	if l.Pending {
		b = append(b, 'p')
	}
	if l.Idle {
		b = append(b, 'i')
	}
	if l.Parked {
		b = append(b, 'z')
		b = strconv.AppendInt(b, l.Due, 10)
	}
	b = append(b, '\t')
	b = append(b, strings.Join(l.Waiting, ",")...)
	for _, s := range []string{l.Key, l.Request, l.Result, l.Error} {
		b = append(b, '\t')
		b = append(b, escaper.Replace(s)...)
	}
	b = append(b, '\t')
	if r := l.ErrorAt; r != nil {
		b = fmt.Appendf(b, "%d:%d:%d:%d:%s", r.Line, r.Column, r.EndLine, r.EndColumn, escaper.Replace(r.File))
	}
	b = append(b, '\t')
	if seg, off := l.Pos.snapAt.Place(); l.Pos.snapAt.Seq == l.Pos.Snap && l.Pos.Snap != 0 && off > 0 {
		b = strconv.AppendUint(b, uint64(seg), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, off, 10)
	}
	return append(b, '\n')
}

// lineDecoder decodes case lines, sharing the strings many lines repeat.
type lineDecoder struct {
	progs  []string
	shared map[string]string
	fields [nFields][]byte
}

func (d *lineDecoder) intern(b []byte) string {
	if s, ok := d.shared[string(b)]; ok {
		return s
	}
	s := string(b)
	d.shared[s] = s
	return s
}

func (d *lineDecoder) decode(line []byte) (indexLine, error) {
	var l indexLine
	n := 0
	for n < nFields-1 {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			break
		}
		d.fields[n], line = line[:i], line[i+1:]
		n++
	}
	if n != nFields-1 || bytes.IndexByte(line, '\t') >= 0 {
		return l, fmt.Errorf("a case line has %d fields, want %d", n+1, nFields)
	}
	d.fields[n] = line
	f := &d.fields
	prog, err := strconv.Atoi(string(f[fProgram]))
	if err != nil || prog < 0 || prog >= len(d.progs) {
		return l, fmt.Errorf("bad program index %q", f[fProgram])
	}
	var nums [4]uint64
	for i, k := range []int{fStart, fFirst, fSnap, fLast} {
		if nums[i], err = strconv.ParseUint(string(f[k]), 10, 64); err != nil {
			return l, fmt.Errorf("bad number %q", f[k])
		}
	}
	l.ID = string(f[fID])
	l.Status = d.intern(f[fStatus])
	l.Program = d.progs[prog]
	l.Workflow = d.intern(unescape(f[fWorkflow]))
	l.Start = int64(nums[0])
	l.Pos = casePos{First: store.Seq(nums[1]), Snap: store.Seq(nums[2]), Last: store.Seq(nums[3])}
	if len(f[fSnapAt]) > 0 {
		seg, off, ok := bytes.Cut(f[fSnapAt], []byte{':'})
		sg, err1 := strconv.ParseUint(string(seg), 10, 64)
		o, err2 := strconv.ParseInt(string(off), 10, 64)
		if !ok || err1 != nil || err2 != nil || o <= 0 || l.Pos.Snap == 0 {
			return l, fmt.Errorf("bad snapshot place %q", f[fSnapAt])
		}
		l.Pos.snapAt = store.PositionAt(l.Pos.Snap, store.Seq(sg), o)
	}
	l.Pending = bytes.IndexByte(f[fFlags], 'p') >= 0
	l.Idle = bytes.IndexByte(f[fFlags], 'i') >= 0
	if z := bytes.IndexByte(f[fFlags], 'z'); z >= 0 {
		l.Parked = true
		if l.Due, err = strconv.ParseInt(string(f[fFlags][z+1:]), 10, 64); err != nil {
			return l, fmt.Errorf("bad flags %q", f[fFlags])
		}
	}
	if len(f[fWaiting]) > 0 {
		for _, w := range bytes.Split(f[fWaiting], []byte{','}) {
			l.Waiting = append(l.Waiting, d.intern(w))
		}
	}
	l.Key = string(unescape(f[fKey]))
	l.Request = string(unescape(f[fRequest]))
	l.Result = string(unescape(f[fResult]))
	l.Error = string(unescape(f[fError]))
	if len(f[fErrorAt]) > 0 {
		r := &SourceRange{}
		parts := bytes.SplitN(f[fErrorAt], []byte{':'}, 5)
		if len(parts) != 5 {
			return l, fmt.Errorf("bad error position %q", f[fErrorAt])
		}
		for i, dst := range []*int{&r.Line, &r.Column, &r.EndLine, &r.EndColumn} {
			if *dst, err = strconv.Atoi(string(parts[i])); err != nil {
				return l, fmt.Errorf("bad error position %q", f[fErrorAt])
			}
		}
		r.File = string(unescape(parts[4]))
		l.ErrorAt = r
	}
	return l, nil
}

// unescape reverses escaper; b is returned as it is when it has no
// backslash.
func unescape(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			i++
			switch b[i] {
			case 't':
				c = '\t'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			default:
				c = b[i]
			}
		}
		out = append(out, c)
	}
	return out
}
