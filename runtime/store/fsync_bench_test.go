// This file measures what one durable commit costs on the disk the
// tests run on: the floor under the latency of any step that must be
// durable before it is acknowledged.

package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/internal/atomicfile"
)

// BenchmarkFdatasync appends 256 bytes to a file and makes them durable
// with fdatasync(2) (what each group commit does), against, in the same
// run, the same appends without a sync. It reports µs per durable
// append; -v logs the ratio. knhk serve's c = 1 latency is bounded below
// by one of these per durable step of a case.
func BenchmarkFdatasync(b *testing.B) {
	buf := make([]byte, 256)
	var plain float64
	for _, sync := range []bool{false, true} {
		name := "write-only"
		if sync {
			name = "write-fdatasync"
		}
		b.Run(name, func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			for b.Loop() {
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				if sync {
					if err := atomicfile.SyncData(f); err != nil {
						b.Fatal(err)
					}
				}
			}
			us := float64(b.Elapsed().Microseconds()) / float64(b.N)
			b.ReportMetric(us, "µs/append")
			if !sync {
				plain = us
			} else if plain > 0 {
				b.Logf("a durable append costs %.0f µs, %.0fx an append without a sync (%.1f µs)", us, us/plain, plain)
			}
		})
	}
}
