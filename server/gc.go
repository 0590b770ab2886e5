// This file implements TuneGC: knhk serve's garbage collector setting.
// A case allocates a few hundred short-lived objects per step (requests,
// events, contexts) and keeps almost none, so with Go's default GOGC=100
// and the small live heap of a busy server with few cases (15 MB live at
// 64 concurrent cases of the queue benchmark), the collector ran very
// often: a fifth of that benchmark's CPU. A larger GOGC cuts that, but
// multiplies the heap of a server holding many cases (a million parked
// cases are about 1 GiB live), so the percentage follows the live heap:
// the heap may grow by up to tuneHeadroom (64 MiB) between collections,
// or by the live heap when that is more (GOGC=100, Go's default). A
// server costs at most tuneHeadroom more memory than with the default,
// and nothing more once its live heap passes it.

package server

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// tuneHeadroom is the growth of the heap allowed between two
	// collections while the live heap is small.
	tuneHeadroom = 64 << 20
	// tuneMax bounds the percentage: beyond it the collections saved
	// are few, and a sudden burst of allocation overshoots further.
	tuneMax = 400
)

var tuning struct {
	once sync.Once
	last int // the percentage set last
}

// TuneGC sets the collector's percentage (GOGC) after every collection
// from the live heap: tuneHeadroom over the live heap, at most tuneMax
// and at least 100, Go's default. It does nothing when the GOGC
// environment variable is set (the user chose) and returns false then.
// It lasts for the life of the process; calling it again does nothing.
func TuneGC() bool {
	if _, set := os.LookupEnv("GOGC"); set {
		return false
	}
	tuning.once.Do(func() {
		tuning.last = 100
		retune()
		armTuner()
	})
	return true
}

// gcPercentFor is the percentage for a live heap of live bytes.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return tuneMax
	}
	p := uint64(100) * tuneHeadroom / live
	return int(min(max(p, 100), tuneMax))
}

// armTuner sets a finalizer on a fresh object, which the next collection
// runs: a hook after every cycle without a goroutine polling.
func armTuner() {
	s := new([16]byte) // not tiny-allocated: its finalizer runs each cycle
	runtime.SetFinalizer(s, func(*[16]byte) {
		retune()
		armTuner()
	})
}

// retune sets the percentage for the live heap now, when it changed by
// more than a tenth (SetGCPercent is not free).
func retune() {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := gcPercentFor(sample[0].Value.Uint64())
	if d := p - tuning.last; d*10 > tuning.last || -d*10 > tuning.last {
		debug.SetGCPercent(p)
		tuning.last = p
	}
}
