package sound_test

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/sound"
)

// A choice whose branches meet at an AND join deadlocks: only one branch
// ever delivers its token.
func ExampleCheck() {
	p := ir.NewProgram("example")
	b := p.NewNet("Approve", ir.Void)
	cond := b.Func("cond", ir.Bool)
	cond.Return(cond.Bool(true))
	g := p.AddFunc(cond.F)

	choose := b.Trans("choose", ir.TNop)
	b.T(choose).Split = ir.SplitXor
	b.In(b.N.Start, choose)
	auto, manual := b.Place("auto"), b.Place("manual")
	b.OutIf(choose, auto, g)
	b.Out(choose, manual) // the else arm
	done1, done2 := b.Place("auto.done"), b.Place("manual.done")
	b.Step("approve automatically", ir.TNop, auto, done1)
	b.Step("approve by hand", ir.TNop, manual, done2)
	join := b.Trans("join all", ir.TNop)
	b.In(done1, join)
	b.In(done2, join)
	b.Out(join, b.N.End)
	if err := p.Verify(); err != nil {
		panic(err)
	}

	r := sound.Check(b.N, nil)
	fmt.Println(r.Sound, r.States)
	for _, pr := range r.Problems {
		fmt.Println(pr.Kind, "|", pr.TraceString(), "|", pr.Message)
	}
	// Output:
	// false 3
	// deadlock | choose → approve automatically | workflow Approve can deadlock: after choose → approve automatically nothing can fire (tokens on auto.done)
}
