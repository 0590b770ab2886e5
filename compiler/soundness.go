// This file implements the soundness check of a lowered program: the
// analysis of package compiler/sound, with the verdicts on the one
// construct whose lowering adds a transition that may rightly never fire.

package compiler

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/sound"
)

// Soundness proves every net of prog sound (see package compiler/sound)
// and returns the reports, together with the cancel region statements
// that can never find their region running, which do nothing and are
// worth a warning rather than an error.
//
// A cancel region lowers to two transitions (see cancel.go): one for a
// running region and one, "..._idle", for a region that is not running.
// When the region is always running at the cancel, the idle transition
// never fires, which is correct and not reported. When it never is, the
// cancelling transition never fires: that problem is moved from the
// report to the returned list.
func Soundness(prog *ir.Program, opts *sound.Options) (reports []*sound.Report, idle []sound.Problem) {
	reports = sound.CheckProgram(prog, opts)
	// CheckProgram reports the non-nil nets in order.
	var nets []*ir.Net
	for _, n := range prog.Nets {
		if n != nil {
			nets = append(nets, n)
		}
	}
	for ri, r := range reports {
		if ri >= len(nets) {
			break
		}
		n := nets[ri]
		kept := r.Problems[:0]
		for _, p := range r.Problems {
			if p.Kind == sound.DeadTransition && p.Transition >= 0 && int(p.Transition) < len(n.Transitions) {
				switch role, region := cancelRole(n, p.Transition); role {
				case roleIdle:
					continue
				case roleCancel:
					p.Message = fmt.Sprintf("cancel region %s never finds region %s running, so it does nothing", region, region)
					idle = append(idle, p)
					continue
				}
			}
			kept = append(kept, p)
		}
		r.Problems = kept
		r.Sound = r.Complete && len(kept) == 0
	}
	return reports, idle
}

type cancelPairRole int

const (
	roleNone cancelPairRole = iota
	roleCancel
	roleIdle
)

// cancelRole says whether transition t is one of the two transitions of
// a cancel region, and names the region. The pair shares its first input
// place: the cancel is a TCancel of a region, the idle one a TNop.
func cancelRole(n *ir.Net, t int32) (cancelPairRole, string) {
	in := func(x int32) int32 {
		for _, a := range n.Arcs {
			if !a.Out && a.Trans == x {
				return a.Place
			}
		}
		return -1
	}
	p := in(t)
	if p < 0 {
		return roleNone, ""
	}
	for u, tr := range n.Transitions {
		if int32(u) == t || in(int32(u)) != p {
			continue
		}
		me := n.Transitions[t]
		switch {
		case me.Kind == ir.TCancel && me.Cancel == ir.CancelRegion && tr.Kind == ir.TNop && tr.Cancel == ir.CancelNone:
			return roleCancel, regionName(n, me.Region)
		case me.Kind == ir.TNop && me.Cancel == ir.CancelNone && tr.Kind == ir.TCancel && tr.Cancel == ir.CancelRegion:
			return roleIdle, regionName(n, tr.Region)
		}
	}
	return roleNone, ""
}

func regionName(n *ir.Net, r int32) string {
	if r >= 0 && int(r) < len(n.Regions) {
		return n.Regions[r].Name
	}
	return fmt.Sprintf("r%d", r)
}
