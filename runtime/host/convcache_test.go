// This file tests the cache of converted values: a large list a result
// produced comes back as the same Value when the engine hands its engine
// form back, memo included.

package host

import (
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

func TestRememberResult(t *testing.T) {
	p := ir.NewProgram("t")
	lt := p.ListOf(ir.Int)
	elems := make([]eval.Value, minCached)
	for i := range elems {
		elems[i] = eval.Int(int64(i))
	}
	v := eval.List(elems)
	key := new(byte)
	v.Memo(key, func(eval.Value) any { return "typed" })
	var c convCache
	x := ToEngine(v)
	c.remember(p, lt, x, v)
	back, err := c.fromEngine(p, x, lt)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Memo(key, func(eval.Value) any { return "converted again" }); got != "typed" {
		t.Errorf("the engine form of a remembered result read back as a new Value (%v)", got)
	}
	// Another slice with the same elements is not taken for it.
	other := ToEngine(v)
	back, err = c.fromEngine(p, other, lt)
	if err != nil || !eval.Equal(back, v) {
		t.Fatalf("%v, %v", back, err)
	}
	if got := back.Memo(key, func(eval.Value) any { return "converted" }); got != "converted" {
		t.Errorf("a different engine slice shared the remembered Value")
	}
	// Short lists are not remembered.
	short := eval.List(elems[:minCached-1])
	short.Memo(key, func(eval.Value) any { return "typed" })
	sx := ToEngine(short)
	c.remember(p, lt, sx, short)
	back, _ = c.fromEngine(p, sx, lt)
	if got := back.Memo(key, func(eval.Value) any { return "converted" }); got != "converted" {
		t.Errorf("a short list was remembered")
	}
}
