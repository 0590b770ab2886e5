// This file implements BenchmarkFrontEnd: KNHK parse+check against Go
// parse+type-check on programs of the same line count, in one run.

package bench

import (
	"sync"
	"testing"

	"github.com/knhk/knhk/lang/syntax"
)

var (
	srcOnce        sync.Once
	knhkSrc, goSrc []byte
)

func sources() ([]byte, []byte) {
	srcOnce.Do(func() {
		knhkSrc = KNHK(DefaultLines)
		goSrc = Go(DefaultLines)
	})
	return knhkSrc, goSrc
}

// BenchmarkFrontEnd reports lines/s for each front end: knhk (parse and
// check), knhk-parse (parse alone, to tell the phases apart) and go (parse
// and type-check). Compare the metrics; go run ./bench/cmd/frontend prints
// the ratio.
func BenchmarkFrontEnd(b *testing.B) {
	ks, gs := sources()
	b.Run("knhk", func(b *testing.B) {
		lines := Lines(ks)
		b.SetBytes(int64(len(ks)))
		b.ReportAllocs()
		for b.Loop() {
			if err := FrontEndKNHK(ks); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	})
	b.Run("knhk-parse", func(b *testing.B) {
		lines := Lines(ks)
		b.SetBytes(int64(len(ks)))
		b.ReportAllocs()
		for b.Loop() {
			if _, diags := syntax.Parse("gen.knhk", ks); diags.HasErrors() {
				b.Fatal(diags)
			}
		}
		b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	})
	b.Run("go", func(b *testing.B) {
		c := NewGoChecker()
		if err := c.FrontEnd(gs); err != nil { // warm the importer
			b.Fatal(err)
		}
		lines := Lines(gs)
		b.SetBytes(int64(len(gs)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.FrontEnd(gs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	})
}
