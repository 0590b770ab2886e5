// This file implements the sample program the tests of this package share.

package ir

import "github.com/knhk/knhk/lang/source"

func at(start, end int) Loc {
	return Loc{File: 0, Span: source.Span{Start: source.Pos(start), End: source.Pos(end)}}
}

// sampleProgram builds a small program shaped like the Fulfil workflow of
// the design document: a guard, a let, a parallel saga with undo, a
// select on a signal and a timer, a learned route and a kernel.
func sampleProgram() *Program {
	p := NewProgram("orders")
	p.Files = []File{{Name: "orders.knhk", Size: 2000}}
	item := p.RecordOf("Item", Field{"sku", String}, Field{"qty", Int}, Field{"price", Float})
	items := p.ListOf(item)
	order := p.RecordOf("Order", Field{"id", String}, Field{"items", items})
	f32s := p.ListOf(F32)
	_ = p.EnumOf("Severity", "sev1", "sev2")
	_ = p.OptionalOf(String)
	_ = p.MapOf(String, Float)

	// fn total(o: Order) -> float = sum(o.items, i => i.price * float(i.qty))
	lam := NewFunc("total.lambda", Float, Param{"i", item})
	lam.At(at(40, 70))
	price := lam.Field(Float, lam.Param(0), 2)
	qty := lam.Field(Int, lam.Param(0), 1)
	lam.Return(lam.Binary(BinMul, Float, price, lam.Convert(Float, qty)))
	lamID := p.AddFunc(lam.F)
	tot := NewFunc("total", Float, Param{"o", order})
	tot.At(at(20, 72))
	xs := tot.Field(items, tot.Param(0), 1)
	tot.Return(tot.Builtin(Float, "sum", lamID, xs))
	tot.F.Loc = at(0, 72)
	totID := p.AddFunc(tot.F)

	// kernel risk(amount: [f32], age: [f32]) -> [f32]
	kb := NewFunc("risk.body", F32, Param{"amount", f32s}, Param{"age", f32s}, Param{"i", I32})
	a := kb.Index(F32, kb.Param(0), kb.Param(2))
	g := kb.Index(F32, kb.Param(1), kb.Param(2))
	gt := kb.Binary(BinGt, Bool, a, g)
	then, _ := kb.NewBlock()
	join, jp := kb.NewBlock(F32)
	kb.Branch(gt, then, join)
	kb.SetBlock(then)
	kb.Jump(join, kb.Unary(UnNeg, F32, a))
	kb.SetBlock(0)
	kb.F.Blocks[0].Term.Succs[1].Args = []Reg{g}
	kb.SetBlock(join)
	kb.Return(jp[0])
	p.Kernels = append(p.Kernels, &Kernel{Name: "risk", Params: []Param{{"amount", f32s}, {"age", f32s}}, Result: f32s, Body: p.AddFunc(kb.F), Loc: at(100, 180)})

	ms := NewFunc("ms200", Duration)
	ms.Return(ms.Const(Duration, Const{Kind: ConstInt, Int: 200e6}))
	msID := p.AddFunc(ms.F)
	p.Tasks = append(p.Tasks,
		&Task{Name: "reserve", Params: []Param{{"items", items}}, Result: String,
			Binding: Binding{Kind: BindExec, Target: "./bin/reserve", Args: []string{"--fast"}}, Retry: 3, Backoff: msID, Timeout: NoFunc, Loc: at(200, 260)},
		&Task{Name: "charge", Params: []Param{{"amount", Float}}, Result: String,
			Binding: Binding{Kind: BindHTTP, Method: "POST", Target: "http://127.0.0.1:8080/charge"}, Backoff: NoFunc, Timeout: NoFunc, Loc: at(261, 320)},
		&Task{Name: "refund", Params: []Param{{"payment", String}}, Result: Void,
			Binding: Binding{Kind: BindExtern, Target: "refund"}, Backoff: NoFunc, Timeout: NoFunc, Loc: at(321, 360)},
	)

	nb := p.NewNet("Fulfil", String, Param{"o", order})
	n := nb.N
	n.Loc = at(400, 1200)
	vAmount := nb.Var("amount", Float)
	vR := nb.Var("r", String)
	vP := nb.Var("p", String)
	vReason := nb.Var("reason", String)
	n.Signals = append(n.Signals, &Signal{Name: "Cancel", Params: []Param{{"reason", String}}, Loc: at(900, 940)})

	fn := func(name string, result TypeID, body func(b *FuncBuilder) Reg) FuncID {
		b := nb.Func(name, result)
		b.Return(body(b))
		return p.AddFunc(b.F)
	}
	guard := fn("Fulfil.guard", Bool, func(b *FuncBuilder) Reg {
		o := b.Var(0, order)
		l := b.Builtin(Int, "len", NoFunc, b.Field(items, o, 1))
		return b.Binary(BinGt, Bool, l, b.Int(0))
	})
	notGuard := fn("Fulfil.guard.else", Bool, func(b *FuncBuilder) Reg {
		return b.Unary(UnNot, Bool, b.Call(Bool, guard))
	})
	msg := fn("Fulfil.fail", String, func(b *FuncBuilder) Reg { return b.Str("empty order") })
	amount := fn("Fulfil.amount", Float, func(b *FuncBuilder) Reg { return b.Call(Float, totID, b.Var(0, order)) })
	argItems := fn("Fulfil.reserve.items", items, func(b *FuncBuilder) Reg { return b.Field(items, b.Var(0, order), 1) })
	argAmount := fn("Fulfil.charge.amount", Float, func(b *FuncBuilder) Reg { return b.Var(int(vAmount), Float) })
	argP := fn("Fulfil.refund.payment", String, func(b *FuncBuilder) Reg { return b.Var(int(vP), String) })
	h48 := fn("Fulfil.timer", Duration, func(b *FuncBuilder) Reg {
		return b.Const(Duration, Const{Kind: ConstInt, Int: 48 * 3600e9})
	})
	ret := fn("Fulfil.return", String, func(b *FuncBuilder) Reg { return b.Var(int(vR), String) })
	n.Queries = append(n.Queries, &Query{Name: "status", Value: argP, Loc: at(950, 980)})
	n.Hooks = append(n.Hooks,
		&Hook{Name: "cancelled", Event: HookSignal, Label: "Cancel", Cond: guard, Task: -1, Loc: at(990, 1010),
			Action: &Call{Kind: CallTask, Target: 2, Args: []FuncID{argP}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Loc: NoLoc}},
		&Hook{Name: "charged", Event: HookComplete, Task: 1, Cond: NoFunc, Loc: NoLoc,
			Action: &Call{Kind: CallTask, Target: 2, Args: []FuncID{argP}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Loc: NoLoc}})

	p1, pFail := nb.Place("guarded"), nb.Place("failing")
	tg := nb.Trans("guard", TNop)
	nb.T(tg).Split = SplitXor
	nb.T(tg).Loc = at(410, 460)
	nb.In(n.Start, tg)
	nb.OutIf(tg, p1, guard)
	nb.OutIf(tg, pFail, notGuard)
	tf := nb.Step("fail", TFail, pFail, n.End)
	nb.T(tf).Value, nb.T(tf).Cancel = msg, CancelCase
	p2 := nb.Place("assigned")
	ta := nb.Step("let amount", TAssign, p1, p2)
	nb.T(ta).Value, nb.T(ta).Result, nb.T(ta).Loc = amount, vAmount, at(461, 485)

	pa, pb, qa, qb, p3 := nb.Place("a"), nb.Place("b"), nb.Place("a.done"), nb.Place("b.done"), nb.Place("joined")
	split := nb.Trans("parallel", TNop)
	nb.In(p2, split)
	nb.Out(split, pa)
	nb.Out(split, pb)
	tr := nb.Step("reserve", TTask, pa, qa)
	nb.T(tr).Call = &Call{Kind: CallTask, Target: 0, Args: []FuncID{argItems}, Retry: 3, Backoff: NoFunc, Timeout: h48, Loc: at(500, 530)}
	nb.T(tr).Result = vR
	tc := nb.Step("charge", TTask, pb, qb)
	nb.T(tc).Call = &Call{Kind: CallTask, Target: 1, Args: []FuncID{argAmount}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc,
		Undo: &Call{Kind: CallTask, Target: 2, Args: []FuncID{argP}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Loc: NoLoc}, Loc: NoLoc}
	nb.T(tc).Result = vP
	tj := nb.Trans("join all", TNop)
	nb.In(qa, tj)
	nb.In(qb, tj)
	nb.Out(tj, p3)
	nb.Region("saga", []int32{pa, pb, qa, qb}, []int32{tr, tc})

	p4 := nb.Place("selected")
	ts := nb.Step("on signal Cancel", TSignal, p3, n.End)
	nb.T(ts).Label, nb.T(ts).Bind, nb.T(ts).Cancel = "Cancel", []int32{vReason}, CancelCase
	tt := nb.Step("on timer", TTimer, p3, p4)
	nb.T(tt).Value = h48
	tret := nb.Step("return", TReturn, p4, n.End)
	nb.T(tret).Value, nb.T(tret).Cancel = ret, CancelCase
	addPack(p, order, item, items, f32s, totID)
	return p
}

// addPack adds a body net and a workflow that runs it for every item, with
// a learned route, a critical section, a kernel call, a weighted arc, a
// partial join and task cancellation.
func addPack(p *Program, order, item, items, f32s TypeID, totID FuncID) {
	body := p.NewNet("Pack.body", Void, Param{"item", item}, Param{"region", String})
	bp := body.Place("packed")
	tp := body.Step("pack", TTask, body.N.Start, bp)
	sku := body.Func("Pack.body.sku", items)
	sku.Return(sku.MakeList(items, sku.Var(0, item)))
	body.T(tp).Call = &Call{Kind: CallTask, Target: 0, Args: []FuncID{p.AddFunc(sku.F)}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Loc: NoLoc}
	body.Step("done", TReturn, bp, body.N.End)

	nb := p.NewNet("Pack", Void, Param{"o", order})
	vScores := nb.Var("scores", f32s)
	vCarrier := nb.Var("carrier", String)
	fn := func(name string, result TypeID, f func(b *FuncBuilder) Reg) FuncID {
		b := nb.Func(name, result)
		b.Return(f(b))
		return p.AddFunc(b.F)
	}
	itemsF := fn("Pack.items", items, func(b *FuncBuilder) Reg { return b.Field(items, b.Var(0, order), 1) })
	regionF := fn("Pack.region", String, func(b *FuncBuilder) Reg { return b.Field(String, b.Var(0, order), 0) })
	limitF := fn("Pack.limit", Int, func(b *FuncBuilder) Reg { return b.Int(8) })
	amountsF := fn("Pack.amounts", f32s, func(b *FuncBuilder) Reg { return b.MakeList(f32s, b.Const(F32, Const{Kind: ConstFloat, Float: 1.5})) })
	rb := nb.Func("Pack.reward", Float)
	rb.F.Params = []Param{{"duration", Duration}}
	rb.F.Regs = []TypeID{Duration}
	hours := rb.Binary(BinDiv, Float, rb.Param(0), rb.Const(Duration, Const{Kind: ConstInt, Int: 3600e9}))
	rb.Return(rb.Unary(UnNeg, Float, hours))
	rewardF := p.AddFunc(rb.F)
	// fn with a capturing lambda and functional updates:
	// sum(o.items, i => i.price * k) after o.id = "x", items[0] = items[0].
	lb := NewFunc("Pack.scaled.lambda", Float, Param{"k", Float}, Param{"i", item})
	lb.Return(lb.Binary(BinMul, Float, lb.Field(Float, lb.Param(1), 2), lb.Param(0)))
	capID := p.AddFunc(lb.F)
	sc := NewFunc("Pack.scaled", Float, Param{"o", order}, Param{"k", Float})
	o2 := sc.SetField(sc.Param(0), 0, sc.Str("x"))
	xs := sc.Field(items, o2, 1)
	zero := sc.Int(0)
	xs2 := sc.SetIndex(xs, zero, sc.Index(item, xs, zero))
	held := sc.Milestone("packing")
	_ = held
	sc.Return(sc.BuiltinCapture(Float, "sum", capID, []Reg{xs2}, []Reg{sc.Param(1)}))
	p.AddFunc(sc.F)
	m := nb.Place("mutex")
	nb.N.Places[m].Init = 1
	p1, p2, p3, p4, p5 := nb.Place("scored"), nb.Place("packed"), nb.Place("routed"), nb.Place("locked"), nb.Place("unlocked")
	tk := nb.Step("score", TKernel, nb.N.Start, p1)
	nb.T(tk).Call = &Call{Kind: CallKernel, Target: 0, Args: []FuncID{amountsF, amountsF}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Loc: NoLoc}
	nb.T(tk).Result = vScores
	mi := nb.Step("for item parallel", TMulti, p1, p2)
	t := nb.T(mi)
	t.Value, t.Limit, t.Quorum = itemsF, limitF, limitF
	t.Call = &Call{Kind: CallWorkflow, Target: body.Index, Args: []FuncID{regionF}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Loc: NoLoc}
	rt := nb.Step("route carrier", TRoute, p2, p3)
	t = nb.T(rt)
	t.Label, t.Features, t.Value, t.Result = "carrier", []FuncID{regionF, limitF}, rewardF, vCarrier
	t.Candidates = []*Call{
		{Kind: CallTask, Target: 0, Args: []FuncID{itemsF}, Retry: 1, Backoff: NoFunc, Timeout: NoFunc, Loc: at(1300, 1320)},
		{Kind: CallTask, Target: 0, Args: []FuncID{itemsF}, Retry: -1, Backoff: NoFunc, Timeout: NoFunc, Loc: NoLoc},
	}
	enter := nb.Step("critical site", TMarker, p3, p4)
	nb.In(m, enter)
	nb.T(enter).Marker, nb.T(enter).Label = MarkCriticalEnter, "site"
	exit := nb.Trans("end critical site", TMarker)
	nb.In(p4, exit)
	nb.Out(exit, m)
	nb.Out(exit, p5)
	nb.N.Arcs[len(nb.N.Arcs)-1].Weight = 2
	nb.T(exit).Marker, nb.T(exit).Label = MarkCriticalExit, "site"
	anyT := nb.Trans("join any", TCancel)
	nb.In(p5, anyT)
	nb.In(p2, anyT)
	nb.Out(anyT, nb.N.End)
	r := nb.Region("instances", []int32{p1, p2}, []int32{mi})
	nb.T(anyT).Join, nb.T(anyT).JoinN = JoinPartial, 1
	nb.T(anyT).Cancel, nb.T(anyT).Region, nb.T(anyT).Task = CancelTask, r, 0
}
