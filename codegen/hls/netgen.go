// This file implements the dispatch module of a net's control part: the
// marking as a bit vector, each transition's enabling as a mask test,
// the engine's firing order as a priority encoder and the firing as a
// masked update, one event in and one result out per call.

package hls

import (
	"fmt"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// The module's event and result kinds, as the testbench reads and prints
// them.
const (
	EvStart  = 0 // a case starts: the marking is Init plus the start token
	EvStep   = 1 // one dispatch decision; Outs are the guards' outcome should the chosen transition choose
	EvDone   = 2 // the call of Trans completed; it produces Outs
	EvTimer  = 3 // the armed timer Trans fired; it produces Outs
	EvSignal = 4 // signal Label arrived
	EvFail   = 5 // the case failed outside the control part (an evaluation error, an exhausted retry)

	ResNone = 0 // nothing to dispatch
	ResFire = 1 // eager transition Trans fired (a call started)
	ResArm  = 2 // timer Trans is armed
	ResWait = 3 // wait Trans took a buffered signal

	StatusIdle      = 0
	StatusRunning   = 1
	StatusCompleted = 2
	StatusEnded     = 3 // failed or cancelled
)

// PipelineDepth is the latency, in cycles, that the module's pragmas ask
// for one dispatch decision (LATENCY max), with one event accepted per
// cycle (PIPELINE II=1).
const PipelineDepth = 8

// NetModule is the generated dispatch module of one workflow net.
type NetModule struct {
	Workflow string
	Top      string
	Files    map[string][]byte
	Places   int
	Trans    int
	// Labels are the signals the net waits for, by the index a
	// Signal event carries.
	Labels []string
	// OutArcs is, per transition, its output places in arc order: bit
	// k of an event's Outs stands for OutArcs[t][k].
	OutArcs [][]int
	// TransNames are the transitions' names, by index.
	TransNames []string
	// The layout of the marking and busy vectors: place q's tokens are
	// bits PlaceOff[q].. of the marking, PlaceWidth[q] of them, in
	// thermometer code (n tokens set the field's n low bits); transition
	// t's running calls likewise in the busy vector (width 0: not a
	// call).
	PlaceOff, PlaceWidth []int
	BusyOff, BusyWidth   []int
	// MarkingBits and BusyBits are the widths of the two vectors.
	MarkingBits, BusyBits int
}

// Thermo encodes counts in the thermometer layout off/width.
func Thermo(counts []int, off, width []int) uint64 {
	var x uint64
	for i, c := range counts {
		for k := range min(c, width[i]) {
			x |= 1 << uint(off[i]+k)
		}
	}
	return x
}

// NotFit is the error of [Net] for a net whose control part does not fit
// the module.
type NotFit struct {
	Workflow string
	Reasons  []string
}

func (e *NotFit) Error() string {
	return fmt.Sprintf("hls: the control part of workflow %s does not fit a dispatch module: %s", e.Workflow, strings.Join(e.Reasons, "; "))
}

// Net writes the dispatch module of workflow name; a *NotFit error says
// why its control part does not fit.
func Net(p *ir.Program, name string, opts Options) (*NetModule, error) {
	n := p.Net(name)
	if n == nil {
		var names []string
		for _, x := range p.Nets {
			if x != nil && !strings.Contains(x.Name, ".") {
				names = append(names, x.Name)
			}
		}
		return nil, fmt.Errorf("hls: no workflow %s (workflows: %s)", name, strings.Join(names, ", "))
	}
	tb, why := layout(p, n)
	if len(why) > 0 {
		return nil, &NotFit{Workflow: name, Reasons: why}
	}
	g := &netgen{tb: tb, id: cname(name), pos: opts.Pos, p: p}
	mod := &NetModule{Workflow: name, Top: "knhk_net_" + g.id, Files: map[string][]byte{}, Places: tb.np, Trans: tb.nt, Labels: tb.labels}
	for i := range tb.trans {
		mod.OutArcs = append(mod.OutArcs, tb.trans[i].out)
		mod.TransNames = append(mod.TransNames, tb.trans[i].t.Name)
	}
	mod.PlaceOff, mod.PlaceWidth, mod.BusyOff, mod.BusyWidth = tb.pOff, tb.pWid, tb.bOff, tb.bWid
	mod.MarkingBits, mod.BusyBits = tb.pBits, tb.bBits
	base := g.id + "_net"
	mod.Files[base+".h"] = []byte(g.header(mod.Top))
	mod.Files[base+".cpp"] = []byte(g.module(mod.Top, base))
	mod.Files[base+"_tb.cpp"] = []byte(g.testbench(mod.Top, base))
	mod.Files[base+"_events.txt"] = []byte(sampleEvents(tb.nt))
	mod.Files[base+"_hls.tcl"] = []byte(tclScript("Dispatch module of workflow "+name, mod.Top, base, []string{base + ".cpp"}, base+"_tb.cpp", base+"_events.txt"))
	return mod, nil
}

// cname makes a workflow name a C identifier.
func cname(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

type netgen struct {
	p   *ir.Program
	tb  *table
	id  string
	pos func(ir.Loc) string
}

func width(n int) int { return max(n, 1) }

func (g *netgen) mt() string { return fmt.Sprintf("ap_uint<%d>", width(g.tb.pBits)) }
func (g *netgen) bt() string { return fmt.Sprintf("ap_uint<%d>", width(g.tb.bBits)) }
func (g *netgen) tt() string { return fmt.Sprintf("ap_uint<%d>", width(g.tb.nt)) }
func (g *netgen) ot() string { return fmt.Sprintf("ap_uint<%d>", width(g.tb.outsW)) }

// pbit is the bit of place q's (k+1)-th token; pfield all of q's bits.
func (g *netgen) pbit(q, k int) uint64 { return 1 << uint(g.tb.pOff[q]+k) }
func (g *netgen) pfield(q int) uint64 {
	return (1<<uint(g.tb.pWid[q]) - 1) << uint(g.tb.pOff[q])
}

// bbit and bfield are the same for transition t's running calls.
func (g *netgen) bbit(t, k int) uint64 { return 1 << uint(g.tb.bOff[t]+k) }
func (g *netgen) bfield(t int) uint64 {
	return (1<<uint(g.tb.bWid[t]) - 1) << uint(g.tb.bOff[t])
}

// lowP and lowB are the bits that say "at least one token" or "a call
// runs" for sets of places and transitions.
func (g *netgen) lowP(qs []int) uint64 {
	var x uint64
	for _, q := range qs {
		x |= g.pbit(q, 0)
	}
	return x
}

func (g *netgen) lowB(ts []int) uint64 {
	var x uint64
	for _, t := range ts {
		if g.tb.bWid[t] > 0 {
			x |= g.bbit(t, 0)
		}
	}
	return x
}

// has is the bit that says input k of transition i holds its weight,
// false when the place never holds that many.
func (g *netgen) has(i, k int) (uint64, bool) {
	tr := &g.tb.trans[i]
	q, w := tr.in[k], tr.inW[k]
	if w > g.tb.pWid[q] {
		return 0, false
	}
	return g.pbit(q, w-1), true
}

// field updates: take or add w tokens of place q (thermometer shifts
// within the field); one-token places are a bit cleared or set.
func (g *netgen) take(q, w int) string {
	if g.tb.pWid[q] == 1 {
		return fmt.Sprintf("m &= ~%s;", g.m(g.pbit(q, 0)))
	}
	f := g.m(g.pfield(q))
	return fmt.Sprintf("m = (m & ~%s) | (((m & %s) >> %d) & %s);", f, f, w, f)
}

func (g *netgen) add(q, w int) string {
	if g.tb.pWid[q] == 1 {
		return fmt.Sprintf("m |= %s;", g.m(g.pbit(q, 0)))
	}
	f := g.m(g.pfield(q))
	low := g.m(((1 << uint(w)) - 1) << uint(g.tb.pOff[q]))
	return fmt.Sprintf("m = (m & ~%s) | ((((m & %s) << %d) | %s) & %s);", f, f, w, low, f)
}

func (g *netgen) startCall(t int) string {
	if g.tb.bWid[t] == 1 {
		return fmt.Sprintf("b |= %s;", g.b(g.bbit(t, 0)))
	}
	f := g.b(g.bfield(t))
	return fmt.Sprintf("b = (b & ~%s) | ((((b & %s) << 1) | %s) & %s);", f, f, g.b(g.bbit(t, 0)), f)
}

func (g *netgen) endCall(t int) string {
	if g.tb.bWid[t] == 1 {
		return fmt.Sprintf("b &= ~%s;", g.b(g.bbit(t, 0)))
	}
	f := g.b(g.bfield(t))
	return fmt.Sprintf("b = (b & ~%s) | (((b & %s) >> 1) & %s);", f, f, f)
}

func (g *netgen) header(top string) string {
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	guard := "KNHK_NET_" + strings.ToUpper(g.id) + "_H"
	w("// Code generated by knhk hls. DO NOT EDIT.\n\n#ifndef %s\n#define %s\n\n#include \"%s\"\n\n", guard, guard, HeaderName)
	w("// One event into the dispatch module of workflow %s.\n", g.tb.net.Name)
	w("struct %s_event {\n  ap_uint<3> kind;   // 0 start, 1 step, 2 done, 3 timer, 4 signal, 5 fail\n  ap_uint<8> trans;  // done, timer: the transition\n  %s outs; // step, done, timer: bit k marks output arc k (guards' outcome)\n  ap_uint<5> label;  // signal: the index of the signal\n};\n\n", top, g.ot())
	w("// The module's answer to one event: what the step dispatched and the\n// state after it.\n")
	w("struct %s_result {\n  ap_uint<2> kind;  // 0 none, 1 fire, 2 arm, 3 wait\n  ap_uint<8> trans;\n  %s marking; // the tokens of each place, in thermometer code\n  %s busy;  // the running calls of each call transition, likewise\n  %s armed; // timers armed\n  ap_uint<2> status; // 0 idle, 1 running, 2 completed, 3 failed or cancelled\n};\n\n", top, g.mt(), g.bt(), g.tt())
	w("// %s consumes one event and writes one result.\n", top)
	w("extern \"C\" void %s(hls::stream<%s_event> &in, hls::stream<%s_result> &out);\n\n#endif\n", top, top, top)
	return sb.String()
}

func (g *netgen) m(x uint64) string { return fmt.Sprintf("%s(0x%xULL)", g.mt(), x) }
func (g *netgen) b(x uint64) string { return fmt.Sprintf("%s(0x%xULL)", g.bt(), x) }
func (g *netgen) t(x uint64) string { return fmt.Sprintf("%s(0x%xULL)", g.tt(), x) }

// enabling is transition i's mask test on marking m and busy vector b.
func (g *netgen) enabling(i int) string {
	tr := &g.tb.trans[i]
	var req uint64 // the bits of the inputs that can hold their weight
	all := true
	for k := range tr.in {
		if bit, ok := g.has(i, k); ok {
			req |= bit
		} else {
			all = false
		}
	}
	r := g.m(req)
	switch tr.t.Join {
	case ir.JoinXor:
		if req == 0 {
			return "false"
		}
		return fmt.Sprintf("(m & %s) != 0", r)
	case ir.JoinOr:
		if req == 0 {
			return "false"
		}
		parts := []string{fmt.Sprintf("(m & %s) != 0", r)}
		for k := range tr.in {
			empty := fmt.Sprintf("((m & %s) == 0 && (b & %s) == 0)", g.m(g.lowP(tr.upP[k])), g.b(g.lowB(tr.upT[k])))
			if bit, ok := g.has(i, k); ok {
				parts = append(parts, fmt.Sprintf("((m & %s) != 0 || %s)", g.m(bit), empty))
			} else {
				parts = append(parts, empty)
			}
		}
		return strings.Join(parts, " && ")
	case ir.JoinDrain:
		return fmt.Sprintf("(m & %s) != 0 && (m & %s) == 0 && (b & %s) == 0", g.m(g.lowP(tr.in)), g.m(g.lowP(tr.upP[0])), g.b(g.lowB(tr.upT[0])))
	case ir.JoinPartial:
		if req == 0 {
			return "false"
		}
		var cnt []string
		for k := range tr.in {
			if bit, ok := g.has(i, k); ok {
				cnt = append(cnt, fmt.Sprintf("((m & %s) != 0 ? 1 : 0)", g.m(bit)))
			}
		}
		return fmt.Sprintf("(m & %s) != 0 && %s >= %d", r, strings.Join(cnt, " + "), tr.t.JoinN)
	}
	if !all {
		return "false"
	}
	return fmt.Sprintf("(m & %s) == %s", r, r)
}

func (g *netgen) name(i int) string {
	t := g.tb.trans[i].t
	where := ""
	if g.pos != nil {
		where = " (" + g.pos(t.Loc) + ")"
	}
	return fmt.Sprintf("%s %s%s", t.Kind, t.Name, where)
}

func (g *netgen) module(top, base string) string {
	tb := g.tb
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	w("// Code generated by knhk hls. DO NOT EDIT.\n//\n")
	w("// Dispatch module of workflow %s: %d places (the marking, a bit per token\n// each place can hold, in thermometer code: n tokens set the n low bits\n// of the place's field),\n", tb.net.Name, tb.np)
	w("// %d transitions. Each event is one pipelined call (II=1); one dispatch\n// decision takes at most %d cycles (LATENCY max=%d): the enabling mask\n", tb.nt, PipelineDepth, PipelineDepth)
	w("// tests, the priority encoder in runtime/engine's order (cancel\n// transitions first, then by index; then timers to arm; then waits with a\n// buffered signal) and the masked update of the transition that fires.\n//\n")
	w("// Places (marking bits):\n")
	for i, pl := range tb.net.Places {
		if tb.pWid[i] == 1 {
			w("//   %d %s (bit %d)\n", i, pl.Name, tb.pOff[i])
		} else {
			w("//   %d %s (bits %d-%d: up to %d tokens)\n", i, pl.Name, tb.pOff[i], tb.pOff[i]+tb.pWid[i]-1, tb.pWid[i])
		}
	}
	w("// Transitions (busy bits of the calls):\n")
	for i := range tb.trans {
		switch tb.bWid[i] {
		case 0:
			w("//   %d %s\n", i, g.name(i))
		case 1:
			w("//   %d %s (busy bit %d)\n", i, g.name(i), tb.bOff[i])
		default:
			w("//   %d %s (busy bits %d-%d: up to %d calls)\n", i, g.name(i), tb.bOff[i], tb.bOff[i]+tb.bWid[i]-1, tb.bWid[i])
		}
	}
	w("\n#include \"%s.h\"\n\n", base)
	mt, bt, tt, ot := g.mt(), g.bt(), g.tt(), g.ot()
	w("// %s_enabled is every transition's enabling, one mask test each.\n", g.id)
	w("static %s %s_enabled(%s m, %s b) {\n  KNHK_HLS(INLINE)\n  (void)b;\n  %s en = 0;\n", tt, g.id, mt, bt, tt)
	for i := range tb.trans {
		if len(tb.trans[i].in) == 0 {
			continue
		}
		w("  if (%s) en |= %s; // %s\n", g.enabling(i), g.t(1<<i), tb.trans[i].t.Name)
	}
	w("  return en;\n}\n\n")

	w("%s {\n", fmt.Sprintf("extern \"C\" void %s(hls::stream<%s_event> &in, hls::stream<%s_result> &out)", top, top, top))
	w("  KNHK_HLS(INTERFACE axis port=in)\n  KNHK_HLS(INTERFACE axis port=out)\n  KNHK_HLS(INTERFACE ap_ctrl_none port=return)\n")
	w("  KNHK_HLS(PIPELINE II=1)\n  KNHK_HLS(LATENCY max=%d)\n", PipelineDepth)
	nl := width(len(tb.labels))
	w("  static %s M = 0;\n  static %s B = 0;\n  static %s A = 0;\n  static ap_uint<4> inbox[%d];\n  static ap_uint<2> status = 0;\n", mt, bt, tt, nl)
	w("  KNHK_HLS(ARRAY_PARTITION variable=inbox complete dim=1)\n")
	w("  %s_event e = in.read();\n", top)
	w("  %s_result r;\n  r.kind = 0;\n  r.trans = 0;\n", top)
	w("  %s m = M;\n  %s b = B;\n  %s a = A;\n  ap_uint<2> st = status;\n", mt, bt, tt)
	w("  %s en = %s_enabled(m, b);\n", tt, g.id)
	w("  %s all = %s(~0ULL);\n  %s outs = all;\n", ot, ot, ot)
	w("  int fire = -1;\n")
	w("  switch (e.kind.to_uint()) {\n")
	first0 := append([]int(nil), tb.init...)
	first0[tb.start]++
	w("  case %d: // start\n    m = %s;\n    b = 0;\n    a = 0;\n", EvStart, g.m(Thermo(first0, tb.pOff, tb.pWid)))
	w("    for (int l = 0; l < %d; l++) {\n      KNHK_HLS(UNROLL)\n      inbox[l] = 0;\n    }\n    st = %d;\n    break;\n", nl, StatusRunning)
	w("  case %d: // step: the priority encoder\n    if (st != %d) break;\n", EvStep, StatusRunning)
	first := true
	branch := func(cond string) {
		if first {
			w("    if (%s) {\n", cond)
			first = false
		} else {
			w("    } else if (%s) {\n", cond)
		}
	}
	for _, i := range tb.order {
		branch(fmt.Sprintf("en[%d]", i))
		w("      r.kind = %d;\n      r.trans = %d;\n      fire = %d;\n", ResFire, i, i)
		if tb.trans[i].chooses {
			w("      outs = e.outs;\n")
		}
	}
	for _, i := range tb.timers {
		branch(fmt.Sprintf("en[%d] && !a[%d]", i, i))
		w("      r.kind = %d;\n      r.trans = %d;\n      a |= %s;\n", ResArm, i, g.t(1<<i))
	}
	for _, i := range tb.waits {
		l := tb.trans[i].label
		branch(fmt.Sprintf("en[%d] && inbox[%d] != 0", i, l))
		w("      r.kind = %d;\n      r.trans = %d;\n      fire = %d;\n      inbox[%d] = inbox[%d] - 1;\n", ResWait, i, i, l, l)
	}
	if !first {
		w("    }\n")
	}
	w("    break;\n")
	w("  case %d: // done: the call ends and produces its outputs\n    outs = e.outs;\n    fire = 64 + e.trans.to_int();\n    break;\n", EvDone)
	w("  case %d: // timer\n    a &= ~%s(1ULL << (e.trans.to_uint() & 63));\n    outs = e.outs;\n    fire = e.trans.to_int();\n    break;\n", EvTimer, tt)
	w("  case %d: // signal: the first enabled wait takes it, else it is buffered or dropped\n    if (st != %d) break;\n", EvSignal, StatusRunning)
	first = true
	for _, i := range tb.waits {
		branch(fmt.Sprintf("e.label == %d && en[%d]", tb.trans[i].label, i))
		w("      fire = %d;\n", i)
	}
	for l, name := range tb.labels {
		if tb.persistent[l] {
			branch(fmt.Sprintf("e.label == %d && inbox[%d] != 15", l, l))
			w("      inbox[%d] = inbox[%d] + 1; // %s is buffered\n", l, l, name)
		}
	}
	if !first {
		w("    }\n")
	}
	w("    break;\n")
	w("  case %d: // fail\n    st = %d;\n    break;\n  default:\n    break;\n  }\n", EvFail, StatusEnded)

	w("  // The masked update: consume, cancel, then start the call or produce.\n")
	w("  switch (fire) {\n")
	for i := range tb.trans {
		tr := &tb.trans[i]
		if len(tr.in) == 0 {
			continue
		}
		w("  case %d: // %s\n", i, tr.t.Name)
		switch tr.t.Join {
		case ir.JoinXor:
			// The first input, in arc order, that holds its weight.
			first := true
			for k, q := range tr.in {
				if bit, ok := g.has(i, k); ok {
					kw := "if"
					if !first {
						kw = "else if"
					}
					w("    %s ((m & %s) != 0) %s\n", kw, g.m(bit), g.take(q, tr.inW[k]))
					first = false
				}
			}
		case ir.JoinOr, ir.JoinPartial:
			for k, q := range tr.in {
				if bit, ok := g.has(i, k); ok {
					w("    if ((m & %s) != 0) %s\n", g.m(bit), g.take(q, tr.inW[k]))
				}
			}
		case ir.JoinDrain:
			var f uint64
			for _, q := range tr.in {
				f |= g.pfield(q)
			}
			w("    m &= ~%s;\n", g.m(f))
		default:
			for k, q := range tr.in {
				if tr.inW[k] <= tb.pWid[q] {
					w("    %s\n", g.take(q, tr.inW[k]))
				}
			}
		}
		if tr.reset {
			w("    m = %s;\n    b = 0;\n", g.m(Thermo(tb.init, tb.pOff, tb.pWid)))
		}
		var cp, ct uint64
		for _, q := range tr.cancelP {
			cp |= g.pfield(q)
		}
		for _, t := range tr.cancelT {
			if tb.bWid[t] > 0 {
				ct |= g.bfield(t)
			}
		}
		if cp != 0 {
			w("    m &= ~%s;\n", g.m(cp))
		}
		if ct != 0 {
			w("    b &= ~%s;\n", g.b(ct))
		}
		switch tr.act {
		case actCall:
			w("    %s\n    break;\n", g.startCall(i))
			continue
		case actCancelCase:
			w("    st = %d;\n    break;\n", StatusEnded)
			continue
		}
		g.produce(w, i)
		if tr.act == actFail {
			w("    st = %d;\n", StatusEnded)
		}
		w("    break;\n")
	}
	for i := range tb.trans {
		if tb.trans[i].act == actCall {
			w("  case %d: // %s completes\n", 64+i, tb.trans[i].t.Name)
			w("    %s\n", g.endCall(i))
			g.produce(w, i)
			w("    break;\n")
		}
	}
	w("  default:\n    break;\n  }\n")
	w("  // Settle: timers no longer enabled are disarmed; a marked end completes\n  // the case.\n")
	w("  a &= %s_enabled(m, b);\n", g.id)
	w("  if (st == %d && (m & %s) != 0) st = %d;\n", StatusRunning, g.m(g.pbit(tb.end, 0)), StatusCompleted)
	w("  M = m;\n  B = b;\n  A = a;\n  status = st;\n")
	w("  r.marking = m;\n  r.busy = b;\n  r.armed = a;\n  r.status = st;\n  out.write(r);\n}\n")
	return sb.String()
}

func (g *netgen) produce(w func(string, ...any), i int) {
	tr := &g.tb.trans[i]
	for k, q := range tr.out {
		w("    if (outs[%d]) %s\n", k, g.add(q, tr.outW[k]))
	}
}

func (g *netgen) testbench(top, base string) string {
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	w("// Code generated by knhk hls. DO NOT EDIT.\n//\n")
	w("// Testbench of the dispatch module of workflow %s: reads events, one per\n", g.tb.net.Name)
	w("// line as \"KIND TRANS OUTS LABEL\" (OUTS in hex), from the file its\n// argument names or else standard input, runs %s on each and\n// prints \"KIND TRANS MARKING BUSY ARMED STATUS\" (the vectors in hex).\n\n", top)
	w("#include <stdio.h>\n#include \"%s.h\"\n\n", base)
	w("int main(int argc, char **argv) {\n  FILE *f = stdin;\n  if (argc > 1 && !(f = fopen(argv[1], \"r\"))) {\n    perror(argv[1]);\n    return 2;\n  }\n")
	w("  hls::stream<%s_event> in;\n  hls::stream<%s_result> out;\n", top, top)
	w("  unsigned kind, trans, label;\n  unsigned long long outs;\n")
	w("  while (fscanf(f, \"%%u %%u %%llx %%u\", &kind, &trans, &outs, &label) == 4) {\n")
	w("    %s_event e;\n    e.kind = kind;\n    e.trans = trans;\n    e.outs = outs;\n    e.label = label;\n", top)
	w("    in.write(e);\n    %s(in, out);\n    %s_result r = out.read();\n", top, top)
	w("    printf(\"%%u %%u %%llx %%llx %%llx %%u\\n\", r.kind.to_uint(), r.trans.to_uint(), (unsigned long long)r.marking.to_uint64(),\n")
	w("           (unsigned long long)r.busy.to_uint64(), (unsigned long long)r.armed.to_uint64(), r.status.to_uint());\n")
	w("  }\n  return 0;\n}\n")
	return sb.String()
}
