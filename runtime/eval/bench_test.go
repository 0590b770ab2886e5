// This file benchmarks evaluation: a typical guard and total(o) over an
// order of 100 items (examples/orders.knhk).

package eval

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkEvalFn(b *testing.B) {
	p := lowerFile(b, ordersFile)
	var items []string
	for i := 0; i < 100; i++ {
		items = append(items, fmt.Sprintf(`{"sku":"s%d","qty":%d,"price":%d.25}`, i, i%5+1, i))
	}
	o, err := FromJSON(p, p.Nets[0].Vars[0].Type, []byte(`{"id":"o1","customer":`+customer+`,"items":[`+strings.Join(items, ",")+`],"coupon":"VIP15"}`))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("guard", func(b *testing.B) {
		m := New(p)
		f := funcID(b, p, "Fulfil.guard")
		env := newVars(o)
		b.ReportAllocs()
		for b.Loop() {
			if v, err := m.Call(f, env); err != nil || !v.AsBool() {
				b.Fatal(v, err)
			}
		}
	})
	b.Run("total100", func(b *testing.B) {
		m := New(p)
		f := funcID(b, p, "total")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Call(f, nil, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("subtotal100", func(b *testing.B) {
		m := New(p)
		f := funcID(b, p, "subtotal")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Call(f, nil, o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkKernelETLScore(b *testing.B) {
	p := lowerFile(b, etlFile)
	k := kernelID(b, p, "score")
	n := 1000
	amount, age := make([]float32, n), make([]float32, n)
	for i := range amount {
		amount[i], age[i] = float32(i%700), float32(i%90)
	}
	args := []Value{f32s(amount...), f32s(age...), f32s(20, 25, 30, 10, 5, 60, 15)}
	m := New(p)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.RunKernel(k, args); err != nil {
			b.Fatal(err)
		}
	}
}
