// This file benchmarks key generation, signing and verification for
// every algorithm. Each sub-benchmark also reports its cost relative to
// Ed25519's measured in the same run ("x-ed25519"), the classical
// baseline.

package sign

import (
	"testing"
	"time"
)

func BenchmarkAlgorithms(b *testing.B) {
	msg := []byte("checkpoint 1024 7f0c…")
	base := map[string]float64{}
	for _, alg := range Algorithms() { // sorted: ed25519, the baseline, first
		k, err := Generate(alg)
		if err != nil {
			b.Fatal(err)
		}
		sig, _ := k.Sign(DomainCheckpoint, msg)
		ops := []struct {
			name string
			fn   func()
		}{
			{"keygen", func() { Generate(alg) }},
			{"sign", func() { k.Sign(DomainCheckpoint, msg) }},
			{"verify", func() { k.Public().Verify(DomainCheckpoint, msg, sig) }},
		}
		for _, op := range ops {
			b.Run(string(alg)+"/"+op.name, func(b *testing.B) {
				start := time.Now()
				for i := 0; i < b.N; i++ {
					op.fn()
				}
				ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
				if alg == Ed25519 {
					base[op.name] = ns
				}
				if base[op.name] > 0 {
					b.ReportMetric(ns/base[op.name], "x-ed25519")
				}
			})
		}
	}
}
