package sound

import (
	"fmt"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

// fanOut returns a net that splits into width branches of one task each
// and joins them.
func fanOut(width int) *ir.Net {
	_, n := build(fmt.Sprintf("fanout%d", width), func(b *ir.NetBuilder) {
		names := make([]string, width)
		for i := range names {
			names[i] = fmt.Sprintf("task%d", i)
		}
		join(b, "join", ir.JoinAnd, par(b, b.N.Start, names...), b.N.End)
	})
	return n
}

// sequence returns a net of length steps in a row.
func sequence(length int) *ir.Net {
	_, n := build(fmt.Sprintf("seq%d", length), func(b *ir.NetBuilder) {
		names := make([]string, length)
		for i := range names {
			names[i] = fmt.Sprintf("step%d", i)
		}
		b.Seq(b.N.Start, b.N.End, names...)
	})
	return n
}

// BenchmarkExplore reports states explored per second. The full
// exploration of a 14-way fan-out (2^14 interleavings) is the baseline for
// the raw speed of the state store; the reduced runs show what the
// reduction saves on the 100-way fan-out, whose full state space (2^100)
// no exploration could store.
func BenchmarkExplore(b *testing.B) {
	for _, bc := range []struct {
		name string
		net  *ir.Net
		opts *Options
	}{
		{"fanout100", fanOut(100), nil},
		{"sequence20", sequence(20), nil},
		{"sequence20/full", sequence(20), &Options{AllOrders: true, NoReduce: true}},
		{"fanout14/full", fanOut(14), &Options{AllOrders: true, NoReduce: true}},
		{"fanout100/full-capped", fanOut(100), &Options{AllOrders: true, NoReduce: true, MaxStates: 50_000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			states := 0
			for b.Loop() {
				r := Check(bc.net, bc.opts)
				if r.HasErrors() {
					b.Fatal(r.Problems[0].Message)
				}
				states += r.States
			}
			b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
			b.ReportMetric(float64(states)/float64(b.N), "states/op")
		})
	}
}
